// One configuration, one fresh process: Client ↔ McpServer over the SDK's InMemoryTransport,
// `warmup` untimed calls, then `calls` timed ones with one event-loop turn between calls.
// Prints one `RESULT {json}` line: CPU per call over the timed loop including the deferred work
// (export flushed before the clock stops), every latency, and what the configuration produced.
//
//   node bench/workers/inproc.mjs <config> <calls> <warmup> [bytes]
import { performance } from 'node:perf_hooks';
import { register } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [config, callsArg, warmupArg, bytesArg] = process.argv.slice(2);
const CALLS = Number(callsArg ?? 2000);
const WARMUP = Number(warmupArg ?? 200);
// Size of the argument and of the result; unset: the small seed query and a short text result.
const BYTES = bytesArg === undefined ? undefined : Number(bytesArg);

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** Counts what reached the exporter: spans and their names. */
class CountingExporter {
  count = 0;
  names = new Map();
  export(spans, done) {
    this.count += spans.length;
    for (const s of spans) this.names.set(s.name, (this.names.get(s.name) ?? 0) + 1);
    done({ code: 0 });
  }
  shutdown() {
    return Promise.resolve();
  }
  forceFlush() {
    return Promise.resolve();
  }
  reset() {
    this.count = 0;
    this.names = new Map();
  }
}

const exporter = new CountingExporter();
let flush = async () => {};
let provider;

/** The OpenTelemetry SDK as an app registers it: context manager, W3C propagators, a batch processor. */
async function registerOtel() {
  const api = await import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } =
    await import('@opentelemetry/core');
  const { BatchSpanProcessor, TracerProvider } = await import('@opentelemetry/sdk-trace');
  const { MeterProvider, MetricReader, AggregationTemporality } = await import('@opentelemetry/sdk-metrics');
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  api.propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  provider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter })] });
  api.trace.setGlobalTracerProvider(provider);
  // Aggregation happens on record; a reader that never exports keeps the metric cost without I/O.
  class IdleReader extends MetricReader {
    async onShutdown() {}
    async onForceFlush() {}
  }
  const meterProvider = new MeterProvider({
    readers: [new IdleReader({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })],
  });
  api.metrics.setGlobalMeterProvider(meterProvider);
  flush = async () => {
    for (let i = 0; i < 3; i++) await turn();
    await provider.forceFlush();
  };
  return { api, provider, meterProvider };
}

let clientSpan = () => undefined;
let handlerSpan = () => undefined;
let wrapServer = () => {};
let afterImport = () => {};
let produced = () => ({ spans: exporter.count, names: Object.fromEntries(exporter.names) });
let resetProduced = () => exporter.reset();

switch (config) {
  case 'baseline':
    break;
  case 'otel-sdk':
    await registerOtel();
    break;
  case 'bare-1':
  case 'bare-2': {
    const { api } = await registerOtel();
    const tracer = api.trace.getTracer('bench-app');
    clientSpan = (fn) =>
      tracer.startActiveSpan('app call', (span) =>
        fn().finally(() => {
          span.end();
        }),
      );
    if (config === 'bare-2') handlerSpan = () => tracer.startSpan('app handler').end();
    break;
  }
  case 'mcp-audit':
  case 'mcp-audit-capture-off': {
    // What mcp-audit/register does, with the bench's exporter instead of the evidence log: the
    // loader hook for the SDK's ESM files, then the instrumentation enabled before the SDK loads.
    register('import-in-the-middle/hook.mjs', import.meta.url, {
      data: { include: [/[\\/]node_modules[\\/]@modelcontextprotocol[\\/]/] },
    });
    const { provider: tp, meterProvider } = await registerOtel();
    const { McpInstrumentation } = await import(pathToFileURL(join(process.env.BENCH_DIST, 'index.js')).href);
    const inst = new McpInstrumentation(config === 'mcp-audit' ? {} : { captureArguments: 'none' });
    inst.setTracerProvider(tp);
    inst.setMeterProvider(meterProvider);
    break;
  }
  case 'traceloop': {
    const { provider: tp } = await registerOtel();
    const { McpInstrumentation } = await import('@traceloop/instrumentation-mcp');
    const inst = new McpInstrumentation();
    inst.setTracerProvider(tp);
    // ESM apps: the package's documented manual step (its hooks are on CommonJS module names).
    afterImport = ({ Client, Server }) => {
      inst.manuallyInstrument({ Client });
      inst.manuallyInstrument({ Server });
    };
    break;
  }
  case 'openinference': {
    const { provider: tp } = await registerOtel();
    const { MCPInstrumentation } = await import('@arizeai/openinference-instrumentation-mcp');
    const inst = new MCPInstrumentation();
    inst.setTracerProvider(tp);
    // It patches the stdio, SSE and Streamable HTTP transport modules (context propagation).
    inst.manuallyInstrument({
      clientStdioModule: await import('@modelcontextprotocol/sdk/client/stdio.js'),
      serverStdioModule: await import('@modelcontextprotocol/sdk/server/stdio.js'),
      clientStreamableHTTPModule: await import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
      serverStreamableHTTPModule: await import('@modelcontextprotocol/sdk/server/streamableHttp.js'),
    });
    break;
  }
  case 'shinzo': {
    // Shinzo starts its own NodeSDK; the provider registered first is the one its tracer gets, so
    // its spans reach the same batch processor and exporter as every other row.
    await registerOtel();
    const { instrumentServer } = await import('@shinzolabs/instrumentation-mcp');
    wrapServer = (server) =>
      instrumentServer(server, {
        serverName: 'bench',
        serverVersion: '1.0.0',
        exporterEndpoint: 'http://127.0.0.1:9/v1',
        enableMetrics: false,
      });
    break;
  }
  case 'mcp-trace': {
    const { TraceMiddleware } = await import('mcp-trace');
    const traces = { count: 0, names: new Map() };
    const adapter = {
      export(data) {
        traces.count++;
        const name = data.type ?? data.method ?? 'trace';
        traces.names.set(name, (traces.names.get(name) ?? 0) + 1);
      },
    };
    wrapServer = (server) => new TraceMiddleware({ adapter }).init(server);
    produced = () => ({ spans: traces.count, names: Object.fromEntries(traces.names) });
    resetProduced = () => {
      traces.count = 0;
      traces.names = new Map();
    };
    break;
  }
  case 'sentry': {
    const Sentry = await import('@sentry/node');
    const sent = { count: 0, names: new Map() };
    Sentry.init({
      dsn: 'http://public@127.0.0.1:9/1',
      tracesSampleRate: 1,
      debug: process.env.BENCH_DEBUG === '1',
      // Envelopes are counted in memory instead of sent: what Sentry serialized is what it produced.
      transport: () => ({
        send: async (envelope) => {
          for (const [header, item] of envelope[1]) {
            // Sentry 11 sends spans as `span` items (several per envelope), older ones as transactions.
            let spans = [];
            if (header.type === 'transaction') spans = [item, ...(item.spans ?? [])];
            else if (header.type === 'span') spans = Array.isArray(item?.items) ? item.items : [item];
            for (const s of spans) {
              const name = s.transaction ?? s.name ?? s.description ?? 'span';
              sent.count++;
              sent.names.set(name, (sent.names.get(name) ?? 0) + 1);
            }
          }
          return { statusCode: 200 };
        },
        flush: async () => true,
      }),
    });
    wrapServer = (server) => Sentry.wrapMcpServerWithSentry(server);
    flush = async () => {
      for (let i = 0; i < 3; i++) await turn();
      await Sentry.flush(10000);
    };
    produced = () => ({ spans: sent.count, names: Object.fromEntries(sent.names) });
    resetProduced = () => {
      sent.count = 0;
      sent.names = new Map();
    };
    break;
  }
  default:
    throw new Error(`unknown configuration ${config}`);
}

const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
const { Server } = await import('@modelcontextprotocol/sdk/server/index.js');
const { McpServer } = await import('@modelcontextprotocol/sdk/server/mcp.js');
const { InMemoryTransport } = await import('@modelcontextprotocol/sdk/inMemory.js');
const { z } = await import('zod');
afterImport({ Client, Server });

const RESULT_TEXT = BYTES === undefined ? 'ok' : 'r'.repeat(BYTES);
const ARGS =
  BYTES === undefined
    ? { sql: "SELECT name, email FROM customers WHERE email = 'sarah@example.com' AND balance > 100000" }
    : { sql: 'a'.repeat(BYTES) };

const server = new McpServer({ name: 'bench-server', version: '1.0.0' });
wrapServer(server);
// `server.tool`: the registration Shinzo wraps (it does not see registerTool); the same code path
// in the SDK for every other row.
server.tool('db_query', { sql: z.string() }, async () => {
  handlerSpan();
  return { content: [{ type: 'text', text: RESULT_TEXT }] };
});
const client = new Client({ name: 'bench-client', version: '1.0.0' });
const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
await server.connect(serverSide);
await client.connect(clientSide);

const call = () => client.callTool({ name: 'db_query', arguments: ARGS });
const timedCall = () => clientSpan(call) ?? call();

// Part of each span's work runs after the caller has its result (a large result is scanned a piece
// per event-loop turn), so a flush alone can miss spans still being finished: flush until the count
// holds still, so warm-up spans stay out of the timed count and the timed CPU includes that work.
async function settle() {
  // Spans of large results end one scan apart (up to a few hundred ms each on a loaded machine):
  // the count must hold still for a second.
  let last = -1;
  for (let still = 0; still < 20;) {
    await flush();
    const now = produced().spans;
    still = now === last ? still + 1 : 0;
    last = now;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

for (let i = 0; i < WARMUP; i++) {
  await timedCall();
  await turn();
}
await settle();
resetProduced();

const latencies = new Float64Array(CALLS);
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
for (let i = 0; i < CALLS; i++) {
  const t0 = performance.now();
  await timedCall();
  latencies[i] = (performance.now() - t0) * 1000;
  await turn();
}
await settle();
const wall = performance.now() - wall0;
const cpu = process.cpuUsage(cpu0);
const out = produced();
await client.close();
await server.close();
process.stdout.write(
  `RESULT ${JSON.stringify({
    config,
    calls: CALLS,
    bytes: BYTES,
    cpuPerCallUs: (cpu.user + cpu.system) / CALLS,
    wallPerCallUs: (wall * 1000) / CALLS,
    latenciesUs: Array.from(latencies, (x) => Math.round(x * 10) / 10),
    produced: out,
  })}\n`,
);
process.exit(0);
