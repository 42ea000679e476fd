// One SDK per process, whatever started it: mcp-audit/register beside the OpenTelemetry
// auto-instrumentations register entry (in both orders), and McpInstrumentation in an app's own
// NodeSDK. Each run is a real agent and a real stdio server exporting to a real OTLP receiver; the
// trace must hold the MCP CLIENT span, the server's MCP SERVER span under it and the tool's HTTP
// client span under that, each once (a second SDK would export every span twice).
import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { REGISTER_ESM, ROOT, killAll, runNode } from '../support/proc.js';

const CLIENT = 3;
// Two processes each loading every auto-instrumentation take tens of seconds on a busy 2-core CI machine.
const CHILD_TIMEOUT_MS = 180_000;
const SLOW = { timeout: 240_000 };
const SERVER = 2;
const FIXTURE = `${ROOT}test/fixtures/compat-coexistence/`;
const AUTO = '@opentelemetry/auto-instrumentations-node/register';

let status: Server;
let statusUrl: string;
const traceparents: string[] = [];

before(async () => {
  status = createServer((req, res) => {
    traceparents.push(String(req.headers.traceparent ?? ''));
    res.writeHead(200, { 'content-type': 'text/plain' }).end('all systems nominal');
  });
  await new Promise<void>((resolve) => status.listen(0, '127.0.0.1', resolve));
  statusUrl = `http://127.0.0.1:${(status.address() as AddressInfo).port}/status`;
});

after(async () => {
  killAll();
  await new Promise<void>((resolve) => status.close(() => resolve()));
});

function env(receiver: OtlpReceiver, preloads: string[]): NodeJS.ProcessEnv {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_SERVICE_NAME: 'coexist-agent',
    OTEL_BSP_SCHEDULE_DELAY: '100',
    // Metrics on: a second SDK shows itself by a second meter provider exporting under its own resource.
    OTEL_METRIC_EXPORT_INTERVAL: '1000',
    OTEL_METRIC_EXPORT_TIMEOUT: '1000',
    OTEL_LOGS_EXPORTER: 'none',
    // No cloud metadata probes from a test (the auto-instrumentations default has cloud detectors):
    // the detectors that read only this host, named as that package's SDK line names them.
    ...(preloads.includes(AUTO) ? { OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process' } : {}),
    MCP_AUDIT_FILE: 'off',
    COEXIST_PRELOADS: JSON.stringify(preloads),
    STATUS_URL: statusUrl,
  };
}

type RawAttribute = { key: string; value: Record<string, unknown> };

/** service.name → the distinct resources (attribute sets) its spans and metrics were exported under. */
function resourcesByService(bodies: string[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const body of bodies) {
    type Resourced = Array<{ resource?: { attributes?: RawAttribute[] } }>;
    const json = JSON.parse(body) as { resourceSpans?: Resourced; resourceMetrics?: Resourced };
    for (const rs of [...(json.resourceSpans ?? []), ...(json.resourceMetrics ?? [])]) {
      const attributes = (rs.resource?.attributes ?? []).map(
        (a) => [a.key, Object.values(a.value)[0]] as const,
      );
      const service = String(attributes.find(([key]) => key === 'service.name')?.[1] ?? '');
      const fingerprint = JSON.stringify(attributes.sort(([a], [b]) => a.localeCompare(b)));
      out.set(service, (out.get(service) ?? new Set()).add(fingerprint));
    }
  }
  return out;
}

/** Runs agent + server under `preloads` and returns the one MCP trace, checked whole. */
async function runAndCheck(preloads: string[]): Promise<{ trace: ReceivedSpan[]; stderr: string }> {
  const receiver = await startOtlpReceiver();
  try {
    const before = traceparents.length;
    const run = await runNode(
      [...preloads, `${FIXTURE}agent.mjs`],
      env(receiver, preloads),
      CHILD_TIMEOUT_MS,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { status: 'all systems nominal' });
    const isHttpClient = (s: ReceivedSpan) =>
      s.kind === CLIENT && s.service === 'coexist-server' && s.name === 'GET';
    await receiver.waitForSpans(
      (spans) =>
        spans.some((s) => s.name === 'tools/call status' && s.kind === CLIENT) &&
        spans.some((s) => s.name === 'tools/call status' && s.kind === SERVER) &&
        spans.some(isHttpClient),
      20000,
    );
    // The agent's exporters all flushed before it exited: a second SDK's copies are here by now.
    const spans = receiver.spans;
    const ids = spans.map((s) => s.spanId);
    assert.equal(new Set(ids).size, ids.length, 'a span was exported twice (two SDKs in one process)');

    const mcpClient = spans.filter((s) => s.name === 'tools/call status' && s.kind === CLIENT);
    const mcpServer = spans.filter((s) => s.name === 'tools/call status' && s.kind === SERVER);
    assert.equal(mcpClient.length, 1, 'one MCP CLIENT span');
    assert.equal(mcpServer.length, 1, 'one MCP SERVER span');
    const [client] = mcpClient as [ReceivedSpan];
    const [server] = mcpServer as [ReceivedSpan];
    assert.equal(client.service, 'coexist-agent');
    assert.equal(server.service, 'coexist-server');
    const trace = spans.filter((s) => s.traceId === client.traceId);
    assert.equal(server.traceId, client.traceId, 'client and server in one trace');
    assert.equal(server.parentSpanId, client.spanId, 'the SERVER span is the child of the CLIENT span');
    const http = trace.filter(isHttpClient);
    assert.equal(http.length, 1, 'one HTTP client span for the tool call');
    assert.equal(
      http[0]!.parentSpanId,
      server.spanId,
      "the tool's HTTP span is the child of the SERVER span",
    );
    assert.equal(http[0]!.attributes['http.response.status_code'], 200);
    // The context went on over HTTP too: the status service saw the same trace.
    const seen = traceparents.slice(before);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.split('-')[1], client.traceId, 'traceparent on the outgoing request');
    // One connected tree: every span of the trace hangs off another of it, up to the CLIENT span.
    const inTrace = new Set(trace.map((s) => s.spanId));
    for (const s of trace) {
      if (s.spanId === client.spanId) continue;
      assert.ok(s.parentSpanId && inTrace.has(s.parentSpanId), `${s.service}:${s.name} is detached`);
    }
    assert.equal(new Set(spans.map((s) => s.service)).size, 2, 'spans from exactly the two processes');
    // One SDK per process: all its spans and metrics come with one resource. A second SDK (its own
    // resource detectors, its own telemetry.sdk.version) exports under another, even when the
    // first one carries every span (seen: its meter provider exporting the MCP duration histograms).
    const resources = resourcesByService(receiver.raw);
    assert.deepEqual(
      [...resources.keys()].sort(),
      ['coexist-agent', 'coexist-server'],
      'no telemetry from another resource',
    );
    for (const [service, fingerprints] of resources) {
      assert.equal(
        fingerprints.size,
        1,
        `${service} exported under ${fingerprints.size} resources:\n${[...fingerprints].join('\n')}`,
      );
    }
    assert.doesNotMatch(run.stderr, /duplicate registration/i);
    return { trace, stderr: run.stderr };
  } finally {
    await receiver.close();
  }
}

describe('mcp-audit beside an OpenTelemetry SDK the app already runs', () => {
  it('auto-instrumentations first, then mcp-audit/register: one SDK, one trace', SLOW, async () => {
    await runAndCheck(['--import', AUTO, '--import', REGISTER_ESM]);
  });

  it('mcp-audit/register first, then auto-instrumentations: still one SDK, one trace', SLOW, async () => {
    await runAndCheck(['--import', REGISTER_ESM, '--import', AUTO]);
  });

  it("an app's own NodeSDK with new McpInstrumentation() in its list", SLOW, async () => {
    await runAndCheck(['--import', `${FIXTURE}otel.mjs`]);
  });

  it('mcp-audit/register alone still starts its own SDK and exports the same trace', SLOW, async () => {
    const receiver = await startOtlpReceiver();
    try {
      const preloads = ['--import', REGISTER_ESM];
      const run = await runNode(
        [...preloads, `${FIXTURE}agent.mjs`],
        env(receiver, preloads),
        CHILD_TIMEOUT_MS,
      );
      assert.equal(run.code, 0, run.stderr);
      const spans = await receiver.waitForSpans(
        (s) => s.filter((x) => x.name === 'tools/call status').length >= 2,
      );
      const call = spans.filter((s) => s.name === 'tools/call status');
      assert.equal(call.length, 2);
      assert.equal(
        call.find((s) => s.kind === SERVER)!.parentSpanId,
        call.find((s) => s.kind === CLIENT)!.spanId,
      );
      assert.equal(call.find((s) => s.kind === CLIENT)!.service, 'coexist-agent');
      assert.equal(call.find((s) => s.kind === SERVER)!.service, 'coexist-server');
    } finally {
      await receiver.close();
    }
  });
});
