// `npm run soak`: a long load run from one instrumented process against a real OTLP/HTTP
// receiver, counted by span id. Prints calls/s, spans lost (missing at the receiver and counted
// by the SDK), peak memory of the agent and of the receiver, and the agent's exit time after its
// last call. Not part of `npm test`; figures go to docs/reliability.md.
//   SOAK_SESSIONS (50) × SOAK_CALLS (1000) calls, SOAK_PACE_MS (0) between one session's calls.
import { spawn } from 'node:child_process';
import { startOtlpReceiver } from '../test/support/otlp-receiver.js';
import { FIXTURES, REGISTER_ESM, ROOT, otlpEnv } from '../test/support/proc.js';

const sessions = Number(process.env.SOAK_SESSIONS ?? '50');
const calls = Number(process.env.SOAK_CALLS ?? '1000');
const paceMs = Number(process.env.SOAK_PACE_MS ?? '0');
const spans = sessions * (calls + 1) * 2;

const receiver = await startOtlpReceiver();
let receiverPeak = 0;
const sampler = setInterval(() => (receiverPeak = Math.max(receiverPeak, process.memoryUsage.rss())), 200);
const child = spawn(process.execPath, ['--import', REGISTER_ESM, `${FIXTURES}burst-agent.mjs`], {
  cwd: ROOT,
  env: {
    ...process.env,
    ...otlpEnv(receiver.url, 'soak-agent'),
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
// Whatever is still on its way in the receiver's socket buffers.
await receiver.waitForSpans((s) => s.length >= spans, 10_000).catch(() => undefined);
clearInterval(sampler);
const result = JSON.parse(stdout) as { calls: number; elapsedMs: number; peakRss: number };
const ids = new Set(receiver.spans.map((s) => s.spanId));
const counted = Number(/could not deliver (\d+) spans/.exec(stderr)?.[1] ?? 0);
const figures = {
  exitCode: code,
  calls: result.calls,
  callsPerSecond: Math.round(result.calls / (result.elapsedMs / 1000)),
  spansProduced: spans,
  spansReceived: ids.size,
  duplicates: receiver.spans.length - ids.size,
  missingUncounted: spans - ids.size - counted,
  countedLost: counted,
  agentPeakRssMiB: Math.round(result.peakRss / 2 ** 20),
  receiverPeakRssMiB: Math.round(receiverPeak / 2 ** 20),
  agentExitAfterLastCallMs: exitMs,
};
process.stdout.write(JSON.stringify(figures, null, 2) + '\n');
await receiver.close();
process.exit(figures.missingUncounted === 0 && code === 0 ? 0 : 1);
