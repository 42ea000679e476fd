// End-to-end alert replays: the five attack scenarios (bulk extraction, a sensitive tool without a
// caller, a call-frequency spike, error-then-retry, many small calls across servers) plus the
// hanging call and a benign session, each run as its own agent session through the REAL MCP SDK,
// the REAL demo MCP servers over stdio (dist/demo/servers/*.js), the instrumentation
// (node --import dist/register.js), the real otelcol-mcp collector and a real Prometheus that
// loads collector/rules/*.yml with a 1 s scrape and evaluation interval. Each test reads
// Prometheus' /api/v1/alerts and asserts its alert fired with the right labels, and checks the
// evidence in the collector's audit file and in the metrics; the benign session must fire nothing.
//
//   node --import tsx --test test/e2e/alert-replays.test.ts
//
// test/e2e/alert-replays-push.test.ts runs the same replays with the session metrics pushed to
// Prometheus (collector/push.yaml, MCP_AUDIT_REPLAY_METRICS_PATH=push) instead of scraped.
//
// Needs dist/ (npm run build) and the cached binaries of scripts/build.sh. All replays start in
// before(), the 40 s hanging call first, and run concurrently: the file takes about a minute.
// Every agent runs in its own process group (its demo servers are its children); after() ends
// each group by its pid, then stops the stack.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, promQuery, readAuditFile, startStack, waitFor, type Stack } from '../support/stack.js';
import { alerts, firing, type Alert } from '../support/alerts.js';
import { trackChild } from '../support/reaper.js';

type Json = Record<string, any>;

const RUN = randomBytes(3).toString('hex');
const SERVICE = 'mcp-audit-alert-replays';
const CALLER = 'user:sarah';
const SERVERS = { db: 'mcp-db-prod-01', messaging: 'mcp-messaging-01', files: 'mcp-files-01' } as const;
const MIB = 1024 * 1024;
const BULK_ROWS = 50_000;
const HANG_SECONDS = 40;
/** How the session metrics reach Prometheus (test/support/stack.ts, metricsPath). */
const METRICS_PATH = process.env.MCP_AUDIT_REPLAY_METRICS_PATH === 'push' ? 'push' : 'scrape';

const REGISTER = join(REPO_ROOT, 'dist', 'register.js');
const AGENT = join(REPO_ROOT, 'test', 'fixtures', 'apps', 'replay-agent.mjs');
/** Everything a replay loads from dist/ (another engineer's `npm run build` cleans dist first). */
const DIST_FILES = [
  REGISTER,
  join(REPO_ROOT, 'dist', 'demo', 'agent.js'),
  ...['db', 'messaging', 'files'].map((s) => join(REPO_ROOT, 'dist', 'demo', 'servers', `${s}.js`)),
];

// ---- replays -----------------------------------------------------------------------------------

interface StepEvent {
  scenario: string;
  step: number;
  total: number;
  server: string;
  tool: string;
  sessionId: string;
  callerId: string | null;
  isError: boolean;
  bytes: number;
  ms: number;
}

interface ReplayOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  steps: StepEvent[];
  /** Wall time of the agent process. */
  ms: number;
  /** When the agent process exited (epoch ms). */
  endedAt: number;
  log: string;
}

interface ReplaySpec {
  scenario: string;
  session: string;
  servers: Array<keyof typeof SERVERS>;
  count?: number;
  seconds?: number;
  env?: Record<string, string>;
}

interface Replay extends ReplaySpec {
  /** Per-replay folder: the demo's outbox and file sandbox, and the agent's stderr. */
  work: string;
  filesRoot: string;
  logPath: string;
  done: Promise<ReplayOutcome>;
}

/** Process groups of the agents this file started (pgid = the agent's pid). */
const agents = new Map<number, ChildProcess>();

function replayEnv(
  stack: Stack,
  replay: { work: string; filesRoot: string },
  extra: Record<string, string> = {},
) {
  const env: NodeJS.ProcessEnv = {};
  // Nothing of the caller's OTel/audit/demo setup leaks in; the register comes from --import.
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(OTEL_|MCP_AUDIT_|MCP_DEMO_)/.test(k) || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  return {
    ...env,
    OTEL_EXPORTER_OTLP_ENDPOINT: stack.otlpHttpEndpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_SERVICE_NAME: SERVICE,
    MCP_AUDIT_FILE: 'off',
    MCP_DEMO_OUTBOX: join(replay.work, 'outbox.jsonl'),
    MCP_DEMO_FILES_ROOT: replay.filesRoot,
    ...extra,
  };
}

/** One run of the replay agent; resolves when it exits (never rejects). */
function runAgent(stack: Stack, replay: Replay): Promise<ReplayOutcome & { connected: boolean }> {
  const args = ['--import', pathToFileURL(REGISTER).href, AGENT, '--scenario', replay.scenario];
  args.push('--session', replay.session, '--servers', replay.servers.join(','));
  if (replay.count !== undefined) args.push('--count', String(replay.count));
  if (replay.seconds !== undefined) args.push('--seconds', String(replay.seconds));
  const fd = openSync(replay.logPath, 'a');
  const started = Date.now();
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, args, {
      cwd: replay.work,
      env: replayEnv(stack, replay, replay.env),
      stdio: ['ignore', 'pipe', fd],
      // Its own process group, so after() can end the agent and its demo servers together.
      detached: true,
    });
  } finally {
    closeSync(fd);
  }
  if (child.pid !== undefined) agents.set(child.pid, child);
  // Killed with its whole group however this test process ends (the runner's group kill cannot reach it).
  trackChild(child, { group: true });
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  return new Promise((resolve) => {
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      const events = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Json);
      resolve({
        code,
        signal,
        connected: events.some((e) => e.event === 'connected'),
        steps: (events.find((e) => e.event === 'done')?.result?.steps as StepEvent[]) ?? [],
        ms: Date.now() - started,
        endedAt: Date.now(),
        log: readFileSync(replay.logPath, 'utf8'),
      });
    };
    child.once('error', () => finish(null, null));
    child.once('close', finish);
  });
}

async function distReady(): Promise<void> {
  await waitFor(() => DIST_FILES.every((f) => existsSync(f)), {
    timeoutMs: 60_000,
    intervalMs: 500,
    message: `dist/ is incomplete (run npm run build): ${DIST_FILES.filter((f) => !existsSync(f)).join(', ')}`,
  });
}

function startReplay(stack: Stack, root: string, spec: ReplaySpec): Replay {
  const work = join(root, spec.session);
  const filesRoot = join(work, 'files');
  mkdirSync(filesRoot, { recursive: true });
  const replay: Replay = { ...spec, work, filesRoot, logPath: join(work, 'agent.log'), done: undefined! };
  replay.done = (async () => {
    await distReady();
    let outcome = await runAgent(stack, replay);
    // A concurrent `npm run build` can remove dist/ under a starting agent. Retry only when it
    // failed before its servers were up, so no call of the session can be sent twice.
    if (
      outcome.code !== 0 &&
      !outcome.connected &&
      /Cannot find module|ERR_MODULE_NOT_FOUND/.test(outcome.log)
    ) {
      await distReady();
      outcome = await runAgent(stack, replay);
    }
    return outcome;
  })();
  return replay;
}

async function finished(replay: Replay, timeoutMs: number): Promise<ReplayOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    replay.done,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`replay ${replay.scenario} (${replay.session}) still running after ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  assert.equal(
    outcome.code,
    0,
    `replay ${replay.scenario} exited ${outcome.code ?? outcome.signal}:\n${outcome.log.slice(-3000)}`,
  );
  return outcome;
}

async function endAgents(): Promise<void> {
  const waits: Array<Promise<void>> = [];
  for (const [pgid, child] of agents) {
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(-pgid, sig); // the agent's group: it and the demo servers it spawned
      } catch {
        // group already gone
      }
    };
    signal('SIGTERM');
    waits.push(
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          signal('SIGKILL');
          resolve();
        }, 3000);
        if (child.exitCode !== null || child.signalCode !== null) {
          // The agent is gone: whatever is left of its group (demo servers) is killed now.
          clearTimeout(timer);
          signal('SIGKILL');
          resolve();
        } else {
          child.once('close', () => {
            clearTimeout(timer);
            signal('SIGKILL');
            resolve();
          });
        }
      }),
    );
  }
  await Promise.all(waits);
  agents.clear();
}

// ---- Prometheus and audit file helpers ---------------------------------------------------------

/** Waits until every rule group has been evaluated `n` times (at 1 s) since `sinceMs`. */
async function evaluatedSince(stack: Stack, sinceMs: number, n: number): Promise<void> {
  await waitFor(
    async () => {
      const response = await fetch(new URL('/api/v1/rules', stack.prometheusUrl!));
      const body = (await response.json()) as { data: { groups: Array<{ lastEvaluation: string }> } };
      const groups = body.data.groups;
      return groups.length > 0 && groups.every((g) => Date.parse(g.lastEvaluation) >= sinceMs + n * 1000);
    },
    { timeoutMs: 30_000, intervalMs: 500, message: `the rule groups were not evaluated ${n} times` },
  );
}

async function scalar(stack: Stack, expr: string): Promise<number | undefined> {
  const r = await promQuery(stack.prometheusUrl!, expr);
  if (r.length === 0) return undefined;
  assert.equal(r.length, 1, `${expr} returned ${r.length} series`);
  return Number(r[0]!.value[1]);
}

/** Waits until `expr` (one series) equals `want` in Prometheus. */
async function promEquals(stack: Stack, expr: string, want: number, timeoutMs = 20_000): Promise<void> {
  let last: number | undefined;
  await waitFor(
    async () => {
      last = await scalar(stack, expr);
      return last === want;
    },
    { timeoutMs, intervalMs: 500, message: `${expr} never equalled ${want}` },
  ).catch((e: Error) => {
    throw new Error(`${e.message} (last value ${last})`);
  });
}

interface AuditSpan {
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  status?: { code?: number; message?: string };
  attrs: Record<string, string | number | boolean>;
  service: string;
}

function otlpValue(v: Json): string | number | boolean {
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('boolValue' in v) return v.boolValue;
  return JSON.stringify(v);
}

/** The tools/call CLIENT spans of `session` in the collector's audit file. */
function auditCalls(stack: Stack, session: string): AuditSpan[] {
  const out: AuditSpan[] = [];
  for (const line of readAuditFile(stack.auditFilePath) as Json[]) {
    for (const rs of line.resourceSpans ?? []) {
      const service = (rs.resource?.attributes ?? []).find((a: Json) => a.key === 'service.name');
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          const attrs: AuditSpan['attrs'] = {};
          for (const a of s.attributes ?? []) attrs[a.key] = otlpValue(a.value);
          if (attrs['gen_ai.conversation.id'] !== session || attrs['mcp.method.name'] !== 'tools/call')
            continue;
          if (s.kind !== 3 /* CLIENT */) continue;
          out.push({ ...s, attrs, service: service ? String(otlpValue(service.value)) : '' });
        }
      }
    }
  }
  return out.sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));
}

async function auditCallsOf(stack: Stack, session: string, n: number): Promise<AuditSpan[]> {
  return waitFor(
    () => {
      const calls = auditCalls(stack, session);
      return calls.length >= n && calls;
    },
    {
      timeoutMs: 20_000,
      intervalMs: 500,
      message: `audit file never held ${n} tools/call records of ${session}`,
    },
  );
}

/** Labels every session-scoped alert carries. */
function assertSessionLabels(a: Alert, session: string, caller: string, severity: string): void {
  assert.equal(a.labels.session_id, session);
  assert.equal(a.labels.caller, caller);
  assert.equal(a.labels.service_name, SERVICE);
  assert.equal(a.labels.severity, severity);
  assert.equal(a.state, 'firing');
  // The annotation links to the session's traces in Jaeger.
  assert.ok(
    (a.annotations.trace_search ?? '').includes(encodeURIComponent(session)),
    `trace link searches the session: ${a.annotations.trace_search}`,
  );
  assert.ok(
    (a.annotations.summary ?? '').includes(session),
    `summary names the session: ${a.annotations.summary}`,
  );
}

function assertCallLabels(a: Alert, tool: string, server: string): void {
  assert.equal(a.labels.tool, tool);
  assert.equal(a.labels.server, server);
}

// ---- the replays -------------------------------------------------------------------------------

describe(
  `alert replays through the real SDK, demo servers, collector and Prometheus (metrics ${METRICS_PATH === 'push' ? 'pushed' : 'scraped'})`,
  { timeout: 170_000 },
  () => {
    let stack: Stack;
    let root: string;
    const t0 = Date.now();
    let stackMs = 0;
    /** Per replay: agent wall time, and when its alert became active relative to the agent's exit. */
    const timings: Record<string, string> = {};
    const timing = (name: string, outcome: ReplayOutcome, alert: Alert) => {
      const lag = (Date.parse(alert.activeAt ?? '') - outcome.endedAt) / 1000;
      timings[name] =
        `agent ${(outcome.ms / 1000).toFixed(1)} s, ${alert.labels.alertname} active ${lag >= 0 ? '+' : ''}${lag.toFixed(1)} s after it exited`;
    };
    const replays = {} as Record<
      'hanging' | 'bulk' | 'backdoor' | 'spam' | 'retry' | 'long' | 'ordinary',
      Replay
    >;
    const session = (name: string) => `${name}-${RUN}`;

    before(async () => {
      root = mkdtempSync(join(tmpdir(), 'mcp-audit-replays-'));
      stack = await startStack({
        withPrometheus: true,
        evalInterval: '1s',
        scrapeInterval: '1s',
        metricsPath: METRICS_PATH,
      });
      stackMs = Date.now() - t0;
      // The 40 s call first, so everything else runs while it sleeps.
      replays.hanging = startReplay(stack, root, {
        scenario: 'hanging',
        session: session('tc6-hang'),
        servers: ['files'],
        seconds: HANG_SECONDS,
      });
      replays.bulk = startReplay(stack, root, {
        scenario: 'bulk-extraction',
        session: session('tc1-bulk'),
        servers: ['db'],
        env: { MCP_DEMO_CUSTOMERS: String(BULK_ROWS) },
      });
      replays.backdoor = startReplay(stack, root, {
        scenario: 'backdoor',
        session: session('tc2-backdoor'),
        servers: ['files'],
      });
      replays.spam = startReplay(stack, root, {
        scenario: 'slack-spam',
        session: session('tc3-spam'),
        servers: ['messaging'],
        count: 50,
        seconds: 10,
      });
      replays.retry = startReplay(stack, root, {
        scenario: 'error-retry',
        session: session('tc4-retry'),
        servers: ['db'],
      });
      replays.long = startReplay(stack, root, {
        scenario: 'long-session',
        session: session('tc5-long'),
        servers: ['db', 'messaging', 'files'],
        count: 210,
      });
      replays.ordinary = startReplay(stack, root, {
        scenario: 'ordinary',
        session: session('benign'),
        servers: ['db', 'messaging'],
      });
    });

    after(async () => {
      await endAgents();
      await stack?.stop();
      if (root && !process.env.MCP_AUDIT_KEEP_STACK_DIR) rmSync(root, { recursive: true, force: true });
      const total = Date.now() - t0;
      process.stderr.write(
        `alert replays: stack up in ${(stackMs / 1000).toFixed(1)} s; ${Object.entries(timings)
          .map(([k, v]) => `${k}: ${v}`)
          .join('; ')}; whole file ${(total / 1000).toFixed(1)} s\n`,
      );
    });

    it('1. SELECT * FROM customers (50,000 rows) → McpBulkExtraction + McpSessionExfiltration, audited with its size', async () => {
      const r = replays.bulk;
      const outcome = await finished(r, 90_000);
      const [step] = outcome.steps;
      assert.equal(outcome.steps.length, 1);
      assert.equal(step!.tool, 'db_query');
      assert.equal(step!.isError, false);
      assert.ok(step!.bytes >= 5 * MIB, `result is ${step!.bytes} B, want ≥ 5 MiB`);

      const bulk = await firing(stack, 'McpBulkExtraction', r.session);
      timing('bulk', outcome, bulk);
      assertSessionLabels(bulk, r.session, CALLER, 'high');
      assertCallLabels(bulk, 'db_query', SERVERS.db);
      assert.equal(bulk.labels.threshold, '100 KiB');

      const exfil = await firing(stack, 'McpSessionExfiltration', r.session, { trigger: 'bytes' });
      assertSessionLabels(exfil, r.session, CALLER, 'high');
      assert.ok(Number(exfil.value) >= step!.bytes, `alert value ${exfil.value} < ${step!.bytes}`);

      // The record in the collector's audit file, with the exact size the agent received.
      const [record] = await auditCallsOf(stack, r.session, 1);
      assert.equal(record!.attrs['gen_ai.tool.name'], 'db_query');
      assert.equal(record!.attrs['mcp_audit.result.size'], step!.bytes);
      assert.equal(record!.attrs['enduser.id'], CALLER);
      assert.equal(record!.attrs['mcp_audit.server.name'], SERVERS.db);
      assert.equal(record!.service, SERVICE);
      assert.match(String(record!.attrs['gen_ai.tool.call.arguments']), /SELECT \* FROM customers/);
      assert.match(String(record!.attrs['mcp_audit.result.summary']), new RegExp(`\\b${BULK_ROWS} rows\\b`));
      assert.equal(record!.attrs['error.type'], undefined);
      // …and the metrics the alerts read agree to the byte.
      await promEquals(stack, `sum(mcp_audit_result_bytes_total{session_id="${r.session}"})`, step!.bytes);
    });

    it('2. file_write /etc/cron.d/backdoor with no caller → McpSensitiveToolWithoutCaller (caller="none"), path in the record', async () => {
      const r = replays.backdoor;
      const outcome = await finished(r, 60_000);
      assert.equal(outcome.steps.length, 1);
      assert.equal(outcome.steps[0]!.callerId, null);

      const alert = await firing(stack, 'McpSensitiveToolWithoutCaller', r.session);
      timing('backdoor', outcome, alert);
      assertSessionLabels(alert, r.session, 'none', 'critical');
      assertCallLabels(alert, 'file_write', SERVERS.files);

      const [record] = await auditCallsOf(stack, r.session, 1);
      assert.equal(record!.attrs['gen_ai.tool.name'], 'file_write');
      assert.equal(record!.attrs['enduser.id'], undefined, 'no caller identity on the record');
      const args = JSON.parse(String(record!.attrs['gen_ai.tool.call.arguments'])) as Json;
      assert.equal(args.path, '/etc/cron.d/backdoor');
      // The demo file server writes inside its sandbox; the real system path is never touched.
      assert.ok(
        existsSync(join(r.filesRoot, 'etc', 'cron.d', 'backdoor')),
        'the write landed in the sandbox',
      );
      assert.equal(existsSync('/etc/cron.d/backdoor'), false, '/etc/cron.d/backdoor must not exist');
    });

    it('3. 50 slack_send calls in 10 s → McpCallFrequencySpike', async () => {
      const r = replays.spam;
      const outcome = await finished(r, 90_000);
      assert.equal(outcome.steps.length, 50);
      assert.ok(outcome.steps.every((s) => s.tool === 'slack_send' && !s.isError));

      const alert = await firing(stack, 'McpCallFrequencySpike', r.session);
      timing('spam', outcome, alert);
      assertSessionLabels(alert, r.session, CALLER, 'medium');

      const calls = await auditCallsOf(stack, r.session, 50);
      assert.equal(calls.length, 50);
      const spreadS =
        Number(BigInt(calls.at(-1)!.startTimeUnixNano) - BigInt(calls[0]!.startTimeUnixNano)) / 1e9;
      // Paced over 10 s (49 gaps of 200 ms); a loaded box can stretch it a little, never past the 60 s window.
      assert.ok(spreadS >= 9 && spreadS <= 15, `50 calls spread over ${spreadS} s`);
      await promEquals(
        stack,
        `sum(mcp_audit_tool_calls_total{session_id="${r.session}", tool="slack_send", server="${SERVERS.messaging}"})`,
        50,
      );
    });

    it('4. db_query permission denied, then db_admin_query → McpErrorThenRetry; the error is in the record', async () => {
      const r = replays.retry;
      const outcome = await finished(r, 60_000);
      assert.deepEqual(
        outcome.steps.map((s) => [s.tool, s.isError]),
        [
          ['db_query', true],
          ['db_admin_query', false],
        ],
      );

      const alert = await firing(stack, 'McpErrorThenRetry', r.session);
      timing('retry', outcome, alert);
      assertSessionLabels(alert, r.session, CALLER, 'high');
      assertCallLabels(alert, 'db_admin_query', SERVERS.db);
      assert.equal(alert.labels.failed_tool, 'db_query');
      assert.equal(alert.labels.error_type, 'tool_error');

      const [failed, retried] = await auditCallsOf(stack, r.session, 2);
      assert.equal(failed!.attrs['gen_ai.tool.name'], 'db_query');
      assert.equal(failed!.attrs['error.type'], 'tool_error');
      assert.equal(failed!.status?.code, 2 /* ERROR */);
      assert.match(String(failed!.attrs['mcp_audit.result.summary']), /isError/);
      assert.equal(retried!.attrs['gen_ai.tool.name'], 'db_admin_query');
      assert.equal(retried!.attrs['error.type'], undefined);
      await promEquals(
        stack,
        `sum(mcp_audit_tool_errors_total{session_id="${r.session}", tool="db_query", error_type="tool_error"})`,
        1,
      );
    });

    it('5. 210 small calls across 3 servers → McpSessionExfiltration by call count (and no bulk alert)', async () => {
      const r = replays.long;
      const outcome = await finished(r, 120_000);
      assert.equal(outcome.steps.length, 210);
      assert.equal(new Set(outcome.steps.map((s) => s.server)).size, 3);
      const maxBytes = Math.max(...outcome.steps.map((s) => s.bytes));
      assert.ok(maxBytes < 100 * 1024, `every result is small (largest ${maxBytes} B)`);

      const alert = await firing(stack, 'McpSessionExfiltration', r.session, { trigger: 'calls' });
      timing('long', outcome, alert);
      assertSessionLabels(alert, r.session, CALLER, 'high');
      assert.ok(Number(alert.value) > 200, `alert value ${alert.value}`);

      await promEquals(stack, `sum(mcp_audit_tool_calls_total{session_id="${r.session}"})`, 210);
      await promEquals(
        stack,
        `count(count by (server) (mcp_audit_tool_calls_total{session_id="${r.session}"}))`,
        3,
      );
      const current = (await alerts(stack)).filter((a) => a.labels.session_id === r.session);
      assert.ok(!current.some((a) => a.labels.alertname === 'McpBulkExtraction'), 'no single result is bulk');
      assert.ok(
        !current.some((a) => a.labels.alertname === 'McpSessionExfiltration' && a.labels.trigger === 'bytes'),
        'the session stays under 5 MiB',
      );
    });

    it('6. a tool that sleeps 40 s → McpHangingCall', async () => {
      const r = replays.hanging;
      const outcome = await finished(r, 120_000);
      assert.equal(outcome.steps.length, 1);
      assert.equal(outcome.steps[0]!.tool, 'slow_tool');
      assert.ok(outcome.steps[0]!.ms >= HANG_SECONDS * 1000, `the call took ${outcome.steps[0]!.ms} ms`);

      const alert = await firing(stack, 'McpHangingCall', r.session);
      timing('hanging', outcome, alert);
      assertSessionLabels(alert, r.session, CALLER, 'medium');
      assertCallLabels(alert, 'slow_tool', SERVERS.files);

      const [record] = await auditCallsOf(stack, r.session, 1);
      const seconds = Number(BigInt(record!.endTimeUnixNano) - BigInt(record!.startTimeUnixNano)) / 1e9;
      assert.ok(seconds >= HANG_SECONDS, `span lasted ${seconds} s`);
    });

    if (METRICS_PATH === 'push')
      it('the session metrics came by remote write: no scrape of the collector, writes received', async () => {
        const targets = (await (await fetch(new URL('/api/v1/targets', stack.prometheusUrl!))).json()) as {
          data: { activeTargets: Array<{ labels: Record<string, string> }> };
        };
        assert.deepEqual(
          targets.data.activeTargets.map((t) => t.labels.job),
          ['otelcol-mcp-self'],
          'only the collector telemetry is scraped',
        );
        const self = await (await fetch(new URL('/metrics', stack.prometheusUrl!))).text();
        const writes =
          /^prometheus_http_requests_total\{code="204",handler="\/api\/v1\/write"\} (\d+)$/m.exec(self);
        assert.ok(writes && Number(writes[1]) > 0, 'Prometheus accepted remote-write requests');
      });

    it('7. the benign ordinary session fires nothing', async () => {
      const r = replays.ordinary;
      const outcome = await finished(r, 60_000);
      assert.deepEqual(
        outcome.steps.map((s) => [s.tool, s.isError]),
        [
          ['db_query', false],
          ['slack_send', false],
        ],
      );
      // Its calls reached Prometheus (so "nothing fired" is not vacuous)…
      const calls = `sum(mcp_audit_tool_calls_total{session_id="${r.session}"})`;
      await promEquals(stack, calls, 2);
      // …and have been there for a while: at least 10 scrapes, each followed by an evaluation
      // (every other replay above has fired by now, all within a few evaluations of their scrape).
      if (METRICS_PATH === 'scrape')
        await waitFor(
          async () =>
            (await scalar(
              stack,
              `min(count_over_time(mcp_audit_tool_calls_total{session_id="${r.session}"}[10m]))`,
            ))! >= 10,
          { timeoutMs: 30_000, intervalMs: 500, message: 'the benign session was not scraped 10 times' },
        );
      // Pushed, a series gets a sample only when it changes: at least 10 evaluations of every
      // group after both calls were in Prometheus instead.
      else await evaluatedSince(stack, Date.now(), 10);
      const active = (await alerts(stack)).filter((a) => a.labels.session_id === r.session);
      assert.deepEqual(active, [], `alerts for the benign session: ${JSON.stringify(active)}`);
      // Not even briefly: Prometheus' ALERTS series holds every pending or firing instance.
      const history = (session: string) =>
        promQuery(stack.prometheusUrl!, `count_over_time(ALERTS{session_id="${session}"}[10m])`);
      assert.deepEqual(
        (await history(r.session)).map((s) => s.metric),
        [],
      );
      // The same query does see the alerts of a replay that fired (so its emptiness above means something).
      assert.ok(
        (await history(replays.backdoor.session)).length > 0,
        'ALERTS history of the backdoor replay',
      );
    });
  },
);
