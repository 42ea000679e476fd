// `npm run soak`: a long load run from one instrumented process against a real OTLP/HTTP
// receiver, counted by span id. Prints calls/s, spans lost (missing at the receiver and counted
// by the SDK), peak memory of the agent and of the receiver, and the agent's exit time after its
// last call. Not part of `npm test`; figures go to docs/reliability.md.
//   SOAK_SESSIONS (50) × SOAK_CALLS (1000) calls, SOAK_PACE_MS (0) between one session's calls.
//   SOAK_TARGET=collector: against the real collector (otelcol-mcp from the build cache, no
//   Prometheus) instead, counted by span id in its audit file; its peak memory is reported.
// With arguments (`npm run soak -- --sessions N [--minutes M]`): N live sessions through the whole
// stack instead, see scripts/soak-sessions.ts; figures go to docs/scale.md.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startOtlpReceiver } from '../test/support/otlp-receiver.js';
import { FIXTURES, REGISTER_ESM, ROOT, otlpEnv } from '../test/support/proc.js';
import { readAuditFile, startStack } from '../test/support/stack.js';

if (process.argv.length > 2) {
  const { soakSessions } = await import('./soak-sessions.js');
  process.exit(
    await soakSessions(process.argv.slice(2)).catch((error: unknown) => {
      process.stderr.write(
        `soak: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      return 1;
    }),
  );
}

const sessions = Number(process.env.SOAK_SESSIONS ?? '50');
const calls = Number(process.env.SOAK_CALLS ?? '1000');
const paceMs = Number(process.env.SOAK_PACE_MS ?? '0');
const spans = sessions * (calls + 1) * 2;

interface Target {
  url: string;
  /** Span ids received so far, one per span received (duplicates kept). */
  spanIds(): string[];
  peakRss(): number;
  close(): Promise<void>;
}

async function collectorTarget(): Promise<Target> {
  const stack = await startStack({ withPrometheus: false });
  return {
    url: stack.otlpHttpEndpoint,
    spanIds: () =>
      (
        readAuditFile(stack.auditFilePath) as Array<{
          resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: Array<{ spanId: string }> }> }>;
        }>
      ).flatMap((d) =>
        (d.resourceSpans ?? []).flatMap((rs) =>
          (rs.scopeSpans ?? []).flatMap((ss) => (ss.spans ?? []).map((x) => x.spanId)),
        ),
      ),
    peakRss: () =>
      1024 *
      Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${stack.pids.collector}/status`, 'utf8'))?.[1] ?? 0),
    close: () => stack.stop(),
  };
}

async function receiverTarget(): Promise<Target> {
  const receiver = await startOtlpReceiver();
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 200);
  return {
    url: receiver.url,
    spanIds: () => receiver.spans.map((x) => x.spanId),
    peakRss: () => peak,
    close: async () => {
      clearInterval(sampler);
      await receiver.close();
    },
  };
}

const target = process.env.SOAK_TARGET === 'collector' ? await collectorTarget() : await receiverTarget();
const child = spawn(process.execPath, ['--import', REGISTER_ESM, `${FIXTURES}burst-agent.mjs`], {
  cwd: ROOT,
  env: {
    ...process.env,
    ...otlpEnv(target.url, 'soak-agent'),
    OTEL_BSP_SCHEDULE_DELAY: '200',
    SESSIONS: String(sessions),
    CALLS: String(calls),
    PACE_MS: String(paceMs),
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let stdout = '';
let stderr = '';
let outputAt = 0;
child.stdout.on('data', (d: Buffer) => {
  stdout += d;
  if (!outputAt && stdout.includes('\n')) outputAt = Date.now();
});
child.stderr.on('data', (d: Buffer) => (stderr += d));
const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
const exitMs = Date.now() - outputAt;
// Whatever is still on its way (socket buffers, the collector's exporters): wait until the count
// stops growing, up to 30 s.
let received = target.spanIds();
for (
  let waited = 0, last = -1;
  received.length < spans && waited < 30_000 && received.length !== last;
  waited += 2000
) {
  last = received.length;
  await new Promise((resolve) => setTimeout(resolve, 2000));
  received = target.spanIds();
}
const result = JSON.parse(stdout) as { calls: number; elapsedMs: number; peakRss: number };
const ids = new Set(received);
const counted = Number(/could not deliver (\d+) spans/.exec(stderr)?.[1] ?? 0);
const figures = {
  exitCode: code,
  calls: result.calls,
  callsPerSecond: Math.round(result.calls / (result.elapsedMs / 1000)),
  spansProduced: spans,
  spansReceived: ids.size,
  duplicates: received.length - ids.size,
  missingUncounted: spans - ids.size - counted,
  countedLost: counted,
  agentPeakRssMiB: Math.round(result.peakRss / 2 ** 20),
  target: process.env.SOAK_TARGET === 'collector' ? 'collector' : 'receiver',
  targetPeakRssMiB: Math.round(target.peakRss() / 2 ** 20),
  agentExitAfterLastCallMs: exitMs,
};
process.stdout.write(JSON.stringify(figures, null, 2) + '\n');
await target.close();
process.exit(figures.missingUncounted === 0 && code === 0 ? 0 : 1);
