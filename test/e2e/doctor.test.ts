// `mcp-audit doctor` against the real stack (otelcol-mcp, Jaeger v2, Prometheus): a healthy
// deployment passes, one whose spans lack caller and arguments and whose Prometheus has no rules
// shows a significant logging gap, an unreachable Prometheus gives ? lines with a clear reason.
// The command runs as a child process (`node --import tsx src/cli/run.ts doctor ...`), as a user
// or CI would run it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAll, runNode, type RunResult } from '../support/proc.js';
import { freePorts, jaegerTraces, promQuery, startStack, waitFor, type Stack } from '../support/stack.js';

const runId = randomBytes(4).toString('hex');
const HEALTHY = `e2e-doctor-ok-${runId}`;
const GAPPY = `e2e-doctor-gap-${runId}`;
// Values that must never appear in doctor's output (it prints counts and names only).
const ARG_MARKER = `ledger-q3-${runId}`;
const CALLER = `user:doctor-alice-${runId}`;

const CHECK_IDS = [
  'calls_recorded',
  'parameters',
  'caller_identity',
  'result_size',
  'siem',
  'alert_rules',
  'retention',
  'errors_recorded',
  'user_correlation',
  'latency_alerts',
];

interface Attr {
  key: string;
  value: { stringValue: string } | { intValue: string };
}
const str = (key: string, v: string): Attr => ({ key, value: { stringValue: v } });
const int = (key: string, v: number): Attr => ({ key, value: { intValue: String(v) } });
const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
const CLIENT = 3;

function toolCallSpan(tool: string, attributes: Attr[], error = false): Record<string, unknown> {
  const start = BigInt(Date.now() - 2000) * 1_000_000n;
  return {
    traceId: hex(16),
    spanId: hex(8),
    name: `tools/call ${tool}`,
    kind: CLIENT,
    startTimeUnixNano: String(start),
    endTimeUnixNano: String(start + 40_000_000n),
    attributes: [
      str('mcp.method.name', 'tools/call'),
      str('gen_ai.operation.name', 'execute_tool'),
      str('gen_ai.tool.name', tool),
      str('mcp_audit.server.name', 'doctor-db'),
      ...attributes,
    ],
    status: error ? { code: 2, message: 'tool failed' } : { code: 0 },
  };
}

async function send(stack: Stack, service: string, spans: Array<Record<string, unknown>>): Promise<void> {
  const response = await fetch(`${stack.otlpHttpEndpoint}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [str('service.name', service)] },
          scopeSpans: [{ scope: { name: 'doctor-e2e' }, spans }],
        },
      ],
    }),
  });
  assert.equal(response.status, 200, await response.text());
}

/** Waits until Jaeger holds `count` spans of `service` and Prometheus counted `calls` tool calls. */
async function settled(stack: Stack, service: string, count: number, calls: number): Promise<void> {
  await waitFor(
    async () =>
      (await jaegerTraces(stack.jaegerUrl, service)).reduce((n, t) => n + t.spans.length, 0) >= count,
    { timeoutMs: 30_000, message: `${service}: spans did not reach Jaeger` },
  );
  await waitFor(
    async () =>
      (await promQuery(stack.prometheusUrl!, `sum(mcp_audit_tool_calls_total{service_name="${service}"})`))[0]
        ?.value[1] === String(calls),
    { timeoutMs: 45_000, message: `${service}: Prometheus did not count ${calls} calls` },
  );
}

function doctor(args: string[]): Promise<RunResult> {
  return runNode(['--import', 'tsx', 'src/cli/run.ts', 'doctor', ...args], {}, 60_000);
}

interface DoctorJson {
  checks: Array<{ id: string; title: string; ok: boolean | null; status: string; evidence: string }>;
  verdict: {
    passed: number;
    failed: number;
    unknown: number;
    gaps: number;
    significantGap: boolean;
    text: string;
  };
  sources: Array<{ name: string; reachable: boolean | null; detail: string }>;
}

function parseJson(r: RunResult): DoctorJson {
  try {
    return JSON.parse(r.stdout) as DoctorJson;
  } catch {
    throw new Error(`doctor --json printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

const byId = (j: DoctorJson, id: string) => {
  const c = j.checks.find((x) => x.id === id);
  assert.ok(c, `no check ${id}`);
  return c;
};

let healthy: Stack;
let gappy: Stack;
let emptyRules: string;

before(async () => {
  emptyRules = mkdtempSync(join(tmpdir(), 'mcp-audit-doctor-norules-'));
  [healthy, gappy] = await Promise.all([
    startStack({ withPrometheus: true }),
    startStack({ withPrometheus: true, rulesDir: emptyRules }),
  ]);

  // Healthy: arguments, caller, session and result size on every call; one tool error with error.type.
  const ok = (tool: string, i: number, error = false) =>
    toolCallSpan(
      tool,
      [
        str('gen_ai.conversation.id', `sess-${runId}-ok`),
        str('enduser.id', CALLER),
        str('gen_ai.tool.call.arguments', JSON.stringify({ report: ARG_MARKER, page: i })),
        int('mcp_audit.result.size', error ? 0 : 512 * (i + 1)),
        ...(error ? [str('error.type', 'tool_error')] : []),
      ],
      error,
    );
  await send(healthy, HEALTHY, [
    ok('db_query', 0),
    ok('db_query', 1),
    ok('file_read', 2),
    ok('slack_send', 3),
    ok('db_query', 4, true),
  ]);

  // Gappy: tool name and session only, no caller, no arguments (result size still there).
  const bare = (tool: string, i: number) =>
    toolCallSpan(tool, [
      str('gen_ai.conversation.id', `sess-${runId}-gap`),
      int('mcp_audit.result.size', 100 * i),
    ]);
  await send(gappy, GAPPY, [
    bare('db_query', 1),
    bare('db_query', 2),
    bare('file_read', 3),
    bare('slack_send', 4),
  ]);

  await Promise.all([settled(healthy, HEALTHY, 5, 5), settled(gappy, GAPPY, 4, 4)]);
});

after(async () => {
  killAll();
  await Promise.all([healthy?.stop(), gappy?.stop()]);
  if (emptyRules) rmSync(emptyRules, { recursive: true, force: true });
});

test('a healthy deployment passes the checklist: exit 0, every check named in the JSON', async () => {
  const args = [
    '--prometheus',
    healthy.prometheusUrl!,
    '--jaeger',
    healthy.jaegerUrl,
    '--service',
    HEALTHY,
    '--collector-config',
    'collector/config.yaml',
    '--collector-config',
    'collector/siem.yaml',
    '--jaeger-config',
    'jaeger/config.yaml',
    // The test Prometheus runs with the 15d default.
    '--app-retention',
    '7d',
  ];
  const r = await doctor([...args, '--json']);
  const j = parseJson(r);
  assert.equal(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  assert.deepEqual(
    j.checks.map((c) => c.id),
    CHECK_IDS,
  );
  for (const c of j.checks) {
    assert.ok(c.title.length > 0 && c.evidence.length > 0, `${c.id} has a title and evidence`);
    assert.equal(c.status, c.ok === true ? 'pass' : c.ok === false ? 'fail' : 'unknown');
  }
  const failing = j.checks.filter((c) => c.ok !== true).map((c) => `${c.id}: ${c.evidence}`);
  assert.deepEqual(failing, [], 'every check passes on the healthy stack');
  assert.equal(j.verdict.significantGap, false);
  assert.match(byId(j, 'calls_recorded').evidence, /5 tools\/call spans/);
  assert.match(byId(j, 'calls_recorded').evidence, /mcp_audit_tool_calls_total\{service_name="[^"]+"\} = 5/);
  assert.match(byId(j, 'parameters').evidence, /5\/5 \(100%\)/);
  assert.match(byId(j, 'siem').evidence, /otlp_http\/siem/);
  assert.match(
    byId(j, 'errors_recorded').evidence,
    /1\/1 \(100%\) failed tools\/call spans carry error\.type/,
  );
  assert.match(byId(j, 'retention').evidence, /retention\.time=30d ≥ application retention 7d/);
  assert.match(byId(j, 'retention').evidence, /badger \(on disk, retention ttl\.spans=720h = 30d\)/);

  // The text form: one ✓ line per check and the verdict; no argument value or caller id printed.
  const text = await doctor(args);
  assert.equal(text.code, 0, text.stdout + text.stderr);
  assert.equal(text.stdout.split('\n').filter((l) => l.startsWith('✓ ')).length, 10, text.stdout);
  assert.match(text.stdout, /Verdict: no significant logging gap/);
  for (const out of [r.stdout, text.stdout]) {
    assert.ok(!out.includes(ARG_MARKER), 'argument values are never printed');
    assert.ok(!out.includes(CALLER), 'caller ids are never printed');
  }
  console.log(`--- doctor on the healthy stack ---\n${text.stdout}`);
});

test('spans without caller or arguments and no alert rules: ≥ 3 ✗, significant gap, exit 1', async () => {
  const args = ['--prometheus', gappy.prometheusUrl!, '--jaeger', gappy.jaegerUrl, '--service', GAPPY];
  const r = await doctor([...args, '--json']);
  const j = parseJson(r);
  assert.equal(r.code, 1, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  assert.equal(j.verdict.significantGap, true);
  assert.ok(j.verdict.failed >= 3, `at least three ✗: ${j.verdict.text}`);
  for (const id of ['parameters', 'caller_identity', 'alert_rules', 'user_correlation', 'latency_alerts'])
    assert.equal(byId(j, id).ok, false, `${id} fails: ${byId(j, id).evidence}`);
  assert.match(byId(j, 'parameters').evidence, /0\/4 \(0%\)/);
  assert.match(byId(j, 'caller_identity').evidence, /0\/4 .* caller!="none"/);
  assert.match(byId(j, 'alert_rules').evidence, /missing: McpBulkExtraction, McpCallFrequencySpike/);
  // What is in place still passes; no --collector-config leaves the SIEM line unknown.
  assert.equal(byId(j, 'calls_recorded').ok, true);
  assert.equal(byId(j, 'result_size').ok, true);
  assert.equal(byId(j, 'siem').ok, null);

  const text = await doctor(args);
  assert.equal(text.code, 1);
  assert.ok(text.stdout.split('\n').filter((l) => l.startsWith('✗ ')).length >= 3, text.stdout);
  assert.match(text.stdout, /Verdict: significant logging gap/);
  console.log(`--- doctor on the gappy stack ---\n${text.stdout}`);
});

test('an unreachable Prometheus gives ? lines with a clear reason, counted as ✗', async () => {
  const [port] = await freePorts(1);
  const dead = `http://127.0.0.1:${port}`;
  const r = await doctor(['--prometheus', dead, '--jaeger', healthy.jaegerUrl, '--service', HEALTHY]);
  assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
  assert.match(
    r.stdout,
    new RegExp(`Prometheus +${dead} +UNREACHABLE: Prometheus at ${dead}: connection refused`),
  );
  const unknown = r.stdout.split('\n').filter((l) => l.startsWith('? '));
  assert.ok(unknown.length >= 5, r.stdout);
  for (const t of ['Alerting rules', 'retention', 'Latency spikes'])
    assert.ok(
      unknown.some((l) => l.includes(t)),
      `${t} is ?`,
    );
  console.log(`--- doctor with an unreachable Prometheus ---\n${r.stdout}`);
  // Jaeger was reachable: its own lines are still decided.
  assert.match(r.stdout, /^✓ Tool calls are logged with their parameters/m);
  assert.match(r.stdout, /\? counted as ✗/);

  const j = parseJson(await doctor(['--prometheus', dead, '--jaeger', healthy.jaegerUrl, '--json']));
  assert.equal(j.sources.find((s) => s.name === 'Prometheus')!.reachable, false);
  assert.equal(byId(j, 'alert_rules').ok, null);
  assert.match(byId(j, 'alert_rules').evidence, /connection refused/);
});

test('usage errors exit 2 with a pointer to --help; --help exits 0', async () => {
  const missing = await doctor(['--jaeger', 'http://127.0.0.1:16686']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--prometheus URL is required/);
  assert.match(missing.stderr, /mcp-audit doctor --help/);

  const badFlag = await doctor(['--prometheus', 'http://a', '--jaeger', 'http://b', '--nope']);
  assert.equal(badFlag.code, 2);

  const badFile = await doctor([
    '--prometheus',
    'http://127.0.0.1:9',
    '--jaeger',
    'http://127.0.0.1:9',
    '--collector-config',
    'no/such/config.yaml',
  ]);
  assert.equal(badFile.code, 2);
  assert.match(badFile.stderr, /--collector-config no\/such\/config\.yaml: no such file/);

  const badDuration = await doctor([
    '--prometheus',
    'http://a',
    '--jaeger',
    'http://b',
    '--app-retention',
    'month',
  ]);
  assert.equal(badDuration.code, 2);
  assert.match(badDuration.stderr, /--app-retention must be a duration/);

  // Credentials in a URL are never echoed, even in an error.
  const creds = await doctor([
    '--prometheus',
    'http://ops:hunter2@127.0.0.1:9',
    '--jaeger',
    'ftp://ops:hunter2@x',
  ]);
  assert.equal(creds.code, 2);
  assert.ok(!creds.stderr.includes('hunter2'), creds.stderr);

  const help = await doctor(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: mcp-audit doctor/);
});
