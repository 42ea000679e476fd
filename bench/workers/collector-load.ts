// Collector throughput: otelcol-mcp with collector/config.yaml (or the same with the redaction
// processors taken out of the traces pipeline), Jaeger, Prometheus and a real `mcp-audit sink`, all
// on loopback. Steps of increasing span rates, each a fresh session; after each step the spans are
// counted where they arrived (Jaeger, the per-session counter in Prometheus, the collector's audit
// file) against what was sent, with the collector's CPU and memory over the step.
//
//   node --import tsx bench/workers/collector-load.ts full|no-redaction <rates,comma,separated> <seconds>
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jaegerTraces, promQuery, REPO_ROOT, startStack, type Stack } from '../../test/support/stack.js';

const [variant = 'full', ratesArg = '5000,20000', secondsArg = '4'] = process.argv.slice(2);
const RATES = ratesArg.split(',').map(Number);
const SECONDS = Number(secondsArg);
const BATCH = 500; // spans per OTLP request, and per trace (Jaeger counts traces of one batch)
const MAX_IN_FLIGHT = 8;
// A step stops sending after this long: a collector far below the target rate would otherwise hold
// the bench for minutes, and what it sustained is known by then.
const MAX_STEP_MS = 30_000;
// How long the counts must stand still before what has not arrived counts as lost.
const STABLE_MS = 35_000;
const log = (line: string) => process.stderr.write(`  collector ${variant}: ${line}\n`);

const NO_REDACTION = `service:
  pipelines:
    traces:
      processors: [memory_limiter, batch]
`;

function span(traceId: string, session: string, i: number, nowNs: bigint) {
  const attr = (key: string, value: string | number) =>
    typeof value === 'number' ? { key, value: { intValue: value } } : { key, value: { stringValue: value } };
  return {
    traceId,
    spanId: randomBytes(8).toString('hex'),
    name: 'tools/call db_query',
    kind: 3,
    startTimeUnixNano: String(nowNs - 2_000_000n),
    endTimeUnixNano: String(nowNs),
    attributes: [
      attr('mcp.method.name', 'tools/call'),
      attr('gen_ai.operation.name', 'execute_tool'),
      attr('gen_ai.tool.name', 'db_query'),
      attr('jsonrpc.request.id', String(i)),
      attr('network.transport', 'pipe'),
      attr('gen_ai.conversation.id', session),
      attr('enduser.id', 'user:sarah'),
      attr('mcp_audit.caller.source', 'context'),
      attr('mcp_audit.server.name', 'mcp-db-prod-01'),
      attr('mcp_audit.client.name', 'finance-agent'),
      // What the source already redacted, plus a value the collector's line must still catch.
      attr(
        'gen_ai.tool.call.arguments',
        `{"sql":"SELECT name, email FROM customers WHERE email = '[REDACTED:email]' AND note = 'call 555-867-5309'"}`,
      ),
      attr('mcp_audit.result.size', 48_213),
      attr('mcp_audit.result.summary', 'content: 1 text (48000 chars); text json: 240 rows'),
      attr('mcp_audit.redacted.count', 1),
    ],
    status: {},
  };
}

function body(service: string, session: string, first: number, count: number): string {
  const traceId = randomBytes(16).toString('hex');
  const now = BigInt(Date.now()) * 1_000_000n;
  const spans = Array.from({ length: count }, (_, k) => span(traceId, session, first + k, now));
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [{ scope: { name: 'mcp-audit', version: 'bench' }, spans }],
      },
    ],
  });
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (1/100 s)
}

function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

/** Spans of `service` in the audit file (one OTLP/JSON TracesData per line), read incrementally. */
class AuditCounter {
  private offset = 0;
  private rest = '';
  private counts = new Map<string, number>();
  constructor(private readonly path: string) {}
  count(service: string): number {
    let size = 0;
    try {
      size = statSync(this.path).size;
    } catch {
      return 0;
    }
    if (size > this.offset) {
      const fd = openSync(this.path, 'r');
      const buf = Buffer.alloc(size - this.offset);
      readSync(fd, buf, 0, buf.length, this.offset);
      closeSync(fd);
      this.offset = size;
      const lines = (this.rest + buf.toString('utf8')).split('\n');
      this.rest = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        const data = JSON.parse(line) as {
          resourceSpans?: Array<{
            resource?: { attributes?: Array<{ key: string; value: { stringValue?: string } }> };
            scopeSpans?: Array<{ spans?: unknown[] }>;
          }>;
        };
        for (const rs of data.resourceSpans ?? []) {
          const name =
            rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
          const n = (rs.scopeSpans ?? []).reduce((sum, ss) => sum + (ss.spans?.length ?? 0), 0);
          this.counts.set(name, (this.counts.get(name) ?? 0) + n);
        }
      }
    }
    return this.counts.get(service) ?? 0;
  }
}

async function jaegerCount(stack: Stack, service: string): Promise<number> {
  try {
    const traces = await jaegerTraces(stack.jaegerUrl, service, undefined, { limit: 100_000 });
    return traces.reduce((n, t) => n + t.spans.length, 0);
  } catch {
    return 0;
  }
}

async function promCount(stack: Stack, session: string): Promise<number> {
  try {
    const result = await promQuery(
      stack.prometheusUrl!,
      `sum(mcp_audit_tool_calls_total{session_id="${session}"})`,
    );
    return result.length > 0 ? Number(result[0]!.value[1]) : 0;
  } catch {
    return 0;
  }
}

async function startSink(file: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [join(REPO_ROOT, 'bin', 'mcp-audit.cjs'), 'sink', '--listen', '127.0.0.1:0', '--file', file],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/[^/\s]+)\/v1\/traces/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`sink exited with ${code}: ${out}`)));
  });
  return { child, url };
}

const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-bench-collector-'));
let sink: ChildProcess | undefined;
let stack: Stack | undefined;
const stop = async () => {
  await stack?.stop();
  if (sink?.pid && sink.exitCode === null) sink.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
};
process.once('SIGTERM', () => void stop().finally(() => process.exit(1)));
try {
  const started = await startSink(join(dir, 'evidence.jsonl'));
  sink = started.child;
  const overlay = join(dir, 'no-redaction.yaml');
  writeFileSync(overlay, NO_REDACTION);
  stack = await startStack({
    withPrometheus: true,
    sinkEndpoint: started.url,
    extraCollectorConfigs: variant === 'no-redaction' ? [overlay] : [],
  });
  const collectorPid = stack.pids.collector!;
  const audit = new AuditCounter(stack.auditFilePath);
  const steps = [];
  for (const rate of RATES) {
    const service = `bench-${variant}-${rate}`;
    const session = `bench-${variant}-${rate}-${process.pid}`;
    const planned = rate * SECONDS;
    const bodies: string[] = [];
    for (let first = 0; first < planned; first += BATCH)
      bodies.push(body(service, session, first, Math.min(BATCH, planned - first)));
    const interval = (BATCH / rate) * 1000;
    const cpu0 = cpuTicks(collectorPid);
    const t0 = performance.now();
    let rejected = 0;
    let inFlight = 0;
    const pending: Promise<void>[] = [];
    let total = 0;
    for (let i = 0; i < bodies.length && performance.now() - t0 < MAX_STEP_MS; i++) {
      const due = t0 + i * interval;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      while (inFlight >= MAX_IN_FLIGHT) await new Promise((r) => setImmediate(r));
      inFlight++;
      const spansInBody = Math.min(BATCH, planned - i * BATCH);
      total += spansInBody;
      pending.push(
        fetch(`${stack.otlpHttpEndpoint}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: bodies[i],
        })
          .then(async (res) => {
            await res.arrayBuffer();
            if (!res.ok) rejected += spansInBody;
          })
          .catch(() => {
            rejected += spansInBody;
          })
          .finally(() => {
            inFlight--;
          }),
      );
    }
    await Promise.all(pending);
    const sendSeconds = (performance.now() - t0) / 1000;
    const memory = memoryMiB(collectorPid);
    // Wait for every backend to hold what was accepted, or for the counts to stop moving for
    // longer than the collector's exporters back off between retries (30 s at most): a request
    // waiting out a backoff is still queued, not lost.
    let counts = { jaeger: 0, prometheus: 0, audit: 0 };
    let lastChange = performance.now();
    while (performance.now() - lastChange < STABLE_MS) {
      const next = {
        jaeger: await jaegerCount(stack, service),
        prometheus: await promCount(stack, session),
        audit: audit.count(service),
      };
      if (JSON.stringify(next) !== JSON.stringify(counts)) lastChange = performance.now();
      counts = next;
      if (counts.jaeger >= total && counts.prometheus >= total && counts.audit >= total) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const cpuSeconds = (cpuTicks(collectorPid) - cpu0) / 100;
    const step = {
      rate,
      sent: total,
      rejected,
      sendSeconds,
      achievedRate: total / sendSeconds,
      ...counts,
      collectorCpuPercent: (cpuSeconds / sendSeconds) * 100,
      collectorCpuSecondsPer10kSpans: (cpuSeconds / total) * 10_000,
      rssMiB: memory.rss,
      peakRssMiB: memory.peak,
    };
    steps.push(step);
    log(
      `${rate} spans/s target: sent ${total} at ${step.achievedRate.toFixed(0)}/s, rejected ${rejected}; arrived Jaeger ${counts.jaeger}, Prometheus ${counts.prometheus}, audit file ${counts.audit}; collector CPU ${step.collectorCpuPercent.toFixed(0)} %, RSS ${memory.rss.toFixed(0)} MiB`,
    );
  }
  process.stdout.write(`RESULT ${JSON.stringify({ variant, seconds: SECONDS, batch: BATCH, steps })}\n`);
} finally {
  await stop();
}
process.exit(0);
