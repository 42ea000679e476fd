// End-to-end replays of the alerts on what a call touched and on calls still running: each a demo
// scenario run as its own agent session through the REAL MCP SDK, the REAL demo MCP servers over
// stdio (dist/demo/servers/*.js), the instrumentation (node --import dist/register.js), the real
// otelcol-mcp collector and a real Prometheus loading collector/rules/*.yml (1 s scrape and
// evaluation). They differ from alert-replays.test.ts in tools, sizes and timing:
//   - a small read of personal data (< 1 KiB) then an outbound http_post → McpDataThenEgress
//   - a systemd unit written by a session WITH its caller set → McpSystemPathWrite (critical)
//   - a call that never returns → McpHangingCall (state in_flight) while it runs; the test ends it
//   - a benign session with a caller, small results and ordinary paths over 5 minutes, run beside
//     the others in its own session → no alert pending or firing for it at any evaluation
// and that the new signals carry no argument or result text (span attributes and metric labels).
//
//   npm run build && flock /tmp/e2e.lock node --import tsx --test test/e2e/alert-replays-content.test.ts
//
// test/e2e/alert-replays-content-push.test.ts runs the same replays with the session metrics
// pushed to Prometheus (collector/push.yaml, MCP_AUDIT_REPLAY_METRICS_PATH=push) instead of scraped.
//
// Every agent runs in its own process group (its demo servers are its children); after() ends each
// group by its pid, then stops the stack. About 5.5 minutes, most of it the benign session (the
// other replays run during it, so they add no time of their own).
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, promQuery, readAuditFile, startStack, waitFor, type Stack } from '../support/stack.js';
import { alertHistory, alerts, firing } from '../support/alerts.js';
import { trackChild } from '../support/reaper.js';

type Json = Record<string, any>;

const RUN = randomBytes(3).toString('hex');
const SERVICE = 'mcp-audit-content-replays';
const CALLER = 'user:sarah';
const SERVERS = { db: 'mcp-db-prod-01', messaging: 'mcp-messaging-01', files: 'mcp-files-01' } as const;
/** The benign session: calls spread over this long (several scrapes and evaluations of every rule). */
const BENIGN_SECONDS = 300;
/** One call every 3.75 s: 16 a minute, below the call-frequency threshold (20 in 60 s). */
const BENIGN_CALLS = 80;
/** The hanging call sleeps the files server's maximum: far longer than the test waits. */
const NEVER_SECONDS = 120;
/** The tools the replays call: the only values the metrics' tool label may take. */
const REPLAY_TOOLS = ['db_query', 'http_post', 'file_write', 'file_read', 'email_send', 'slow_tool'];
/** Texts of the replays' arguments and results that must never reach a signal. */
const CONTENT_TEXTS = [
  'sarah.chen@example.com',
  '555-0134',
  'paste.example.net',
  '/etc/systemd',
  'agent-helper',
  'SELECT',
];

const REGISTER = join(REPO_ROOT, 'dist', 'register.js');
const AGENT = join(REPO_ROOT, 'test', 'fixtures', 'apps', 'replay-agent.mjs');
const DIST_FILES = [
  REGISTER,
  join(REPO_ROOT, 'dist', 'demo', 'agent.js'),
  ...['db', 'messaging', 'files'].map((s) => join(REPO_ROOT, 'dist', 'demo', 'servers', `${s}.js`)),
];

interface ReplaySpec {
  scenario: string;
  session: string;
  servers: Array<keyof typeof SERVERS>;
  count?: number;
  seconds?: number;
}

interface Replay extends ReplaySpec {
  child?: ChildProcess;
  /** Resolves with the agent's exit code and its JSON stdout events. */
  done: Promise<{ code: number | null; steps: Json[]; log: string }>;
}

const agents = new Map<number, ChildProcess>();

function startReplay(stack: Stack, root: string, spec: ReplaySpec): Replay {
  const work = join(root, spec.session);
  const filesRoot = join(work, 'files');
  mkdirSync(filesRoot, { recursive: true });
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(OTEL_|MCP_AUDIT_|MCP_DEMO_)/.test(k) || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  Object.assign(env, {
    OTEL_EXPORTER_OTLP_ENDPOINT: stack.otlpHttpEndpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_SERVICE_NAME: SERVICE,
    MCP_AUDIT_FILE: 'off',
    MCP_DEMO_OUTBOX: join(work, 'outbox.jsonl'),
    MCP_DEMO_FILES_ROOT: filesRoot,
  });
  const args = ['--import', pathToFileURL(REGISTER).href, AGENT, '--scenario', spec.scenario];
  args.push('--session', spec.session, '--servers', spec.servers.join(','));
  if (spec.count !== undefined) args.push('--count', String(spec.count));
  if (spec.seconds !== undefined) args.push('--seconds', String(spec.seconds));
  const logPath = join(work, 'agent.log');
  const fd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, args, { cwd: work, env, stdio: ['ignore', 'pipe', fd], detached: true });
  } finally {
    closeSync(fd);
  }
  if (child.pid !== undefined) agents.set(child.pid, child);
  trackChild(child, { group: true });
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const done = new Promise<{ code: number | null; steps: Json[]; log: string }>((resolve) => {
    const finish = (code: number | null) => {
      const events = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Json);
      const steps = (events.find((e) => e.event === 'done')?.result?.steps as Json[]) ?? [];
      resolve({ code, steps, log: readFileSync(logPath, 'utf8') });
    };
    child.once('error', () => finish(null));
    child.once('close', finish);
  });
  return { ...spec, child, done };
}

async function finished(replay: Replay, timeoutMs: number) {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    replay.done,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${replay.scenario} still running after ${timeoutMs} ms`)),
        timeoutMs,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  assert.equal(outcome.code, 0, `${replay.scenario} exited ${outcome.code}:\n${outcome.log.slice(-3000)}`);
  return outcome;
}

/** Ends an agent's process group (the agent and the demo servers it spawned) and waits for it. */
async function endGroup(pgid: number, child: ChildProcess): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pgid, sig);
    } catch {
      // group already gone
    }
  };
  signal('SIGTERM');
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 3000);
    if (child.exitCode !== null || child.signalCode !== null) {
      clearTimeout(timer);
      resolve();
    } else child.once('close', () => (clearTimeout(timer), resolve()));
  });
  signal('SIGKILL');
  agents.delete(pgid);
}

function otlpValue(v: Json): unknown {
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('boolValue' in v) return v.boolValue;
  if ('arrayValue' in v) return ((v.arrayValue?.values ?? []) as Json[]).map(otlpValue);
  return JSON.stringify(v);
}

/** The session's spans in the collector's audit file, with attributes decoded. */
function auditSpans(stack: Stack, session: string): Array<{ name: string; kind: number; attrs: Json }> {
  const out: Array<{ name: string; kind: number; attrs: Json }> = [];
  for (const line of readAuditFile(stack.auditFilePath) as Json[]) {
    for (const rs of line.resourceSpans ?? []) {
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          const attrs: Json = {};
          for (const a of s.attributes ?? []) attrs[a.key] = otlpValue(a.value);
          if (attrs['gen_ai.conversation.id'] === session) out.push({ name: s.name, kind: s.kind, attrs });
        }
      }
    }
  }
  return out;
}

/** The tools/call CLIENT span of `tool` in `session`, once the audit file holds it. */
async function clientSpan(stack: Stack, session: string, tool: string): Promise<Json> {
  return waitFor(
    () =>
      auditSpans(stack, session).find(
        (s) =>
          s.kind === 3 && s.attrs['mcp.method.name'] === 'tools/call' && s.attrs['gen_ai.tool.name'] === tool,
      )?.attrs,
    { timeoutMs: 20_000, intervalMs: 500, message: `no ${tool} client span of ${session} in the audit file` },
  );
}

/** No content text in the detection signals of a span: they are vocabulary words and counts only. */
function assertSignalsCarryNoContent(attrs: Json): void {
  const risk = (attrs['mcp_audit.arguments.risk'] as string[] | undefined) ?? [];
  for (const tag of risk) assert.ok(['egress_unlisted', 'system_path', 'unbounded_read'].includes(tag), tag);
  const classes = (attrs['mcp_audit.result.pii.classes'] as string[] | undefined) ?? [];
  for (const cls of classes) assert.match(cls, /^[a-z][a-z0-9_]{0,40}$/);
  const signals = JSON.stringify([risk, classes, attrs['mcp_audit.result.pii.class_counts'] ?? []]);
  for (const text of CONTENT_TEXTS) assert.ok(!signals.includes(text), `${text} in ${signals}`);
}

/** How the session metrics reach Prometheus (test/support/stack.ts, metricsPath). */
const METRICS_PATH = process.env.MCP_AUDIT_REPLAY_METRICS_PATH === 'push' ? 'push' : 'scrape';

describe(
  `content and in-flight alert replays through the real SDK, demo servers, collector and Prometheus (metrics ${METRICS_PATH === 'push' ? 'pushed' : 'scraped'})`,
  { timeout: (BENIGN_SECONDS + 180) * 1000 },
  () => {
    let stack: Stack;
    let root: string;
    const session = (name: string) => `${name}-${RUN}`;
    const replays = {} as Record<'hang' | 'pii' | 'system' | 'benign', Replay>;
    /** Unix seconds before any replay started: the start of every alert-history query. */
    let startedAt = 0;

    before(async () => {
      await waitFor(() => DIST_FILES.every((f) => existsSync(f)), {
        timeoutMs: 60_000,
        intervalMs: 500,
        message: 'dist/ is incomplete (run npm run build)',
      });
      root = mkdtempSync(join(tmpdir(), 'mcp-audit-content-replays-'));
      stack = await startStack({
        withPrometheus: true,
        evalInterval: '1s',
        scrapeInterval: '1s',
        metricsPath: METRICS_PATH,
      });
      startedAt = Date.now() / 1000 - 1;
      replays.benign = startReplay(stack, root, {
        scenario: 'benign-long',
        session: session('benign-long'),
        servers: ['db', 'messaging', 'files'],
        count: BENIGN_CALLS,
        seconds: BENIGN_SECONDS,
      });
      replays.hang = startReplay(stack, root, {
        scenario: 'hanging',
        session: session('never-returns'),
        servers: ['files'],
        seconds: NEVER_SECONDS,
      });
      replays.pii = startReplay(stack, root, {
        scenario: 'pii-egress',
        session: session('pii-post'),
        servers: ['db', 'messaging'],
      });
      replays.system = startReplay(stack, root, {
        scenario: 'system-write',
        session: session('unit-file'),
        servers: ['files'],
      });
    });

    after(async () => {
      await Promise.all([...agents].map(([pgid, child]) => endGroup(pgid, child)));
      await stack?.stop();
      if (root && !process.env.MCP_AUDIT_KEEP_STACK_DIR) rmSync(root, { recursive: true, force: true });
    });

    it('a small read of personal data, then an outbound post → McpDataThenEgress', async () => {
      const r = replays.pii;
      const outcome = await finished(r, 60_000);
      assert.deepEqual(
        outcome.steps.map((s) => [s.tool, s.isError]),
        [
          ['db_query', false],
          ['http_post', false],
        ],
      );
      assert.ok(
        outcome.steps[0]!.bytes < 1024,
        `the read is small (${outcome.steps[0]!.bytes} B), far below the size threshold`,
      );
      const alert = await firing(stack, 'McpDataThenEgress', r.session);
      assert.equal(alert.labels.data_tool, 'db_query');
      assert.equal(alert.labels.tool, 'http_post');
      assert.equal(alert.labels.caller, CALLER);
      assert.equal(alert.labels.server, SERVERS.messaging);
      assert.equal(alert.labels.service_name, SERVICE);

      // The signals at the source: classes and counts of what the result held, tags of the post.
      const read = await clientSpan(stack, r.session, 'db_query');
      assert.deepEqual(read['mcp_audit.result.pii.classes'], ['email', 'phone']);
      // The row is in the result twice (text content and structuredContent), so each class matches twice.
      assert.deepEqual(read['mcp_audit.result.pii.class_counts'], [2, 2]);
      assert.equal(read['mcp_audit.result.pii.count'], 4);
      assert.equal(read['gen_ai.tool.call.result'], undefined, 'results are not captured by default');
      const post = await clientSpan(stack, r.session, 'http_post');
      assert.deepEqual(post['mcp_audit.arguments.risk'], ['egress_unlisted']);
      for (const attrs of [read, post]) assertSignalsCarryNoContent(attrs);
    });

    it('a systemd unit written with the caller set → McpSystemPathWrite (critical)', async () => {
      const r = replays.system;
      const outcome = await finished(r, 60_000);
      assert.equal(outcome.steps.length, 1);
      assert.equal(outcome.steps[0]!.callerId, CALLER);
      const alert = await firing(stack, 'McpSystemPathWrite', r.session);
      assert.equal(alert.labels.severity, 'critical');
      assert.equal(alert.labels.caller, CALLER);
      assert.equal(alert.labels.tool, 'file_write');
      assert.equal(alert.labels.server, SERVERS.files);
      // With a caller and a turn, the identity alerts stay quiet: the path alone is the finding.
      const others = (await alerts(stack))
        .filter((a) => a.labels.session_id === r.session)
        .map((a) => a.labels.alertname);
      assert.ok(!others.includes('McpSensitiveToolWithoutCaller'), others.join(', '));
      assert.ok(!others.includes('McpWriteWithoutTurn'), others.join(', '));
      const span = await clientSpan(stack, r.session, 'file_write');
      assert.deepEqual(span['mcp_audit.arguments.risk'], ['system_path']);
      assertSignalsCarryNoContent(span);
    });

    it('a call that never returns → McpHangingCall while it is still in flight, then the test ends it', async () => {
      const r = replays.hang;
      const alert = await firing(stack, 'McpHangingCall', r.session, { state: 'in_flight' }, 60_000);
      assert.equal(alert.labels.tool, 'slow_tool');
      assert.equal(alert.labels.caller, CALLER);
      assert.equal(alert.labels.server, SERVERS.files);
      // Still in flight: the agent has not finished and no span of the call has ended.
      assert.equal(r.child!.exitCode, null, 'the agent is still waiting for the call');
      assert.equal(
        auditSpans(stack, r.session).filter((s) => s.attrs['mcp.method.name'] === 'tools/call').length,
        0,
        'no tools/call span has ended',
      );
      const marker = auditSpans(stack, r.session).find((s) => s.attrs['mcp_audit.in_flight'] === true);
      assert.ok(marker, 'the in-flight marker span is in the audit file');
      assert.equal(marker.attrs['gen_ai.tool.name'], 'slow_tool');
      assert.equal(marker.attrs['mcp.method.name'], undefined, 'a marker is not an audit record of its own');
      // The test ends the call: the agent and its server go (their pids, by group).
      await endGroup(r.child!.pid!, r.child!);
    });

    it('a benign session over five minutes (callers, small results, ordinary paths) fires nothing', async () => {
      const r = replays.benign;
      const outcome = await finished(r, (BENIGN_SECONDS + 60) * 1000);
      assert.equal(outcome.steps.length, BENIGN_CALLS);
      assert.ok(outcome.steps.every((s) => !s.isError && s.callerId === CALLER && s.bytes < 4096));
      const calls = await waitFor(
        async () => {
          const [s] = await promQuery(
            stack.prometheusUrl!,
            `sum(mcp_audit_tool_calls_total{session_id="${r.session}"})`,
          );
          return s && Number(s.value[1]) === BENIGN_CALLS && s;
        },
        { timeoutMs: 20_000, intervalMs: 500, message: 'the benign calls never all reached Prometheus' },
      );
      assert.ok(calls);
      // Its turn counter was scraped too, so the turn rule saw the session (its emptiness means something).
      const [turns] = await promQuery(
        stack.prometheusUrl!,
        `sum(mcp_audit_turn_calls_total{session_id="${r.session}"})`,
      );
      assert.equal(Number(turns?.value[1]), BENIGN_CALLS);
      // Every evaluation since the stack started, not the last instant: an alert that went pending
      // or fired and then resolved during the five minutes would be in this history.
      const history = await alertHistory(stack, `session_id="${r.session}"`, startedAt);
      assert.deepEqual(
        history.map((s) => s.metric),
        [],
        'no alert was ever pending or firing for the benign session',
      );
      // Nor an alert without a session (per tool or per server: latency, error burst) on the
      // replays' service, which the benign calls could have been part of.
      const unsessioned = await alertHistory(stack, `service_name="${SERVICE}", session_id=""`, startedAt);
      assert.deepEqual(
        unsessioned.map((s) => s.metric),
        [],
        'no per-tool or per-server alert on the replays',
      );
      // And the same history does see the other replays' alerts, for as long as they were active.
      const fired = await alertHistory(stack, `session_id="${replays.system.session}"`, startedAt);
      const firingSeries = fired.find(
        (s) => s.metric.__name__ === 'ALERTS' && s.metric.alertstate === 'firing',
      );
      assert.ok(firingSeries, 'ALERTS history of the system-write replay');
      assert.ok(firingSeries.values.length > 1, 'the history holds every evaluation, not one instant');
    });

    it('no argument or result text reaches a metric label', async () => {
      const sessions = Object.values(replays).map((r) => r.session);
      for (const metric of [
        'mcp_audit_risky_calls_total',
        'mcp_audit_pii_result_calls_total',
        'mcp_audit_turn_calls_total',
        'mcp_audit_in_flight_marks_total',
      ]) {
        const series = await promQuery(
          stack.prometheusUrl!,
          `${metric}{session_id=~"${sessions.join('|')}"}`,
        );
        assert.ok(series.length > 0, `${metric} has series of the replays`);
        for (const s of series) {
          const labels = JSON.stringify(s.metric);
          for (const text of CONTENT_TEXTS) assert.ok(!labels.includes(text), `${text} in ${labels}`);
          // Every value of a contract label is one the replays set as an identity, or a flag: none
          // can have come from an argument or a result.
          const allowed: Record<string, (v: string) => boolean> = {
            session_id: (v) => sessions.includes(v),
            tool: (v) => REPLAY_TOOLS.includes(v),
            caller: (v) => v === CALLER || v === 'none',
            server: (v) => (Object.values(SERVERS) as string[]).includes(v),
            service_name: (v) => v === SERVICE,
            error_type: (v) =>
              /^(none|tool_error|timeout|cancelled|transport_error|policy_denied|_OTHER|-?\d+)$/.test(v),
            system_path: (v) => /^(true|false)$/.test(v),
            unbounded_read: (v) => /^(true|false)$/.test(v),
            egress_unlisted: (v) => /^(true|false)$/.test(v),
          };
          for (const [label, value] of Object.entries(s.metric)) {
            const ok = allowed[label];
            if (ok) assert.ok(ok(value), `${metric}: ${label}="${value}" is not one the replays set`);
          }
        }
      }
      const risky = await promQuery(
        stack.prometheusUrl!,
        `mcp_audit_risky_calls_total{session_id="${replays.pii.session}"}`,
      );
      assert.deepEqual(
        risky.map((s) => [
          s.metric.tool,
          s.metric.egress_unlisted,
          s.metric.system_path,
          s.metric.unbounded_read,
        ]),
        [['http_post', 'true', 'false', 'false']],
      );
    });
  },
);
