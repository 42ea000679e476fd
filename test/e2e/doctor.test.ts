// `mcp-audit doctor` against the real stack (otelcol-mcp, Jaeger v2, Prometheus): a healthy
// deployment passes, one whose spans lack caller and arguments and whose Prometheus has no rules
// shows a significant logging gap, an unreachable Prometheus gives ? lines with a clear reason.
// Pipeline health: on the healthy stack every finding is ✓; an SDK that drops spans at a full queue
// and a torn audit file are reported with their counts and line numbers; after a collector SIGKILL
// the call count is still every call made (reset-aware), where a bare sum shows only the new ones.
// The command runs as a child process (`node --import tsx src/cli/run.ts doctor ...`), as a user
// or CI would run it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, REGISTER_ESM, killAll, runNode, type RunResult } from '../support/proc.js';
import { freePorts, jaegerTraces, promQuery, startStack, waitFor, type Stack } from '../support/stack.js';

const runId = randomBytes(4).toString('hex');
const HEALTHY = `e2e-doctor-ok-${runId}`;
const GAPPY = `e2e-doctor-gap-${runId}`;
// Values that must never appear in doctor's output (it prints counts and names only).
const ARG_MARKER = `ledger-q3-${runId}`;
const CALLER = `user:doctor-alice-${runId}`;

const PIPELINE_IDS = [
  'pipeline_telemetry',
  'pipeline_refused',
  'pipeline_export_failures',
  'pipeline_queue_fill',
  'pipeline_memory_limiter',
  'pipeline_sdk_dropped',
];

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
  pipeline: Array<{ id: string; title: string; ok: boolean | null; status: string; evidence: string }>;
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
  const c = [...j.checks, ...j.pipeline].find((x) => x.id === id);
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
    '--audit-file',
    healthy.auditFilePath,
  ];
  // The collector's self-telemetry is scraped before the pipeline lines can be decided.
  await waitFor(
    async () => (await promQuery(healthy.prometheusUrl!, 'otelcol_exporter_queue_capacity')).length > 0,
    { timeoutMs: 30_000, message: 'no collector self-telemetry in Prometheus' },
  );
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
  assert.deepEqual(
    j.pipeline.map((c) => c.id),
    [...PIPELINE_IDS, 'audit_file'],
  );
  const unhealthy = j.pipeline.filter((c) => c.ok !== true).map((c) => `${c.id}: ${c.evidence}`);
  assert.deepEqual(unhealthy, [], 'the pipeline is healthy');
  assert.match(
    byId(j, 'pipeline_telemetry').evidence,
    /1 collector instance\(s\) reporting; [1-9]\d* spans accepted/,
  );
  assert.match(byId(j, 'pipeline_queue_fill').evidence, /otlp_grpc\/jaeger \d+\/5000 now/);
  assert.match(byId(j, 'pipeline_queue_fill').evidence, /otlp_http\/evidence \d+\/5000 now/);
  assert.match(
    byId(j, 'pipeline_refused').evidence,
    /^0 spans refused \(otelcol_receiver_refused_spans\), 0 failed/,
  );
  assert.match(byId(j, 'audit_file').evidence, /1 objects, 5 spans read, no torn line/);
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
  const [checklist, pipelineText] = text.stdout.split('Pipeline health');
  assert.equal(checklist!.split('\n').filter((l) => l.startsWith('✓ ')).length, 10, text.stdout);
  assert.equal(pipelineText!.split('\n').filter((l) => l.startsWith('✓ ')).length, 7, text.stdout);
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

test('pipeline health: spans an SDK dropped at a full queue and a torn audit file are findings', async () => {
  // A real instrumented agent with a queue of 8 spans bursts 400 calls: the SDK drops spans
  // (queue_full) and exports its loss counter with its other metrics.
  const agent = await runNode(
    ['--import', REGISTER_ESM, `${FIXTURES}burst-agent.mjs`],
    {
      OTEL_EXPORTER_OTLP_ENDPOINT: gappy.otlpHttpEndpoint,
      OTEL_SERVICE_NAME: `${GAPPY}-burst`,
      OTEL_BSP_MAX_QUEUE_SIZE: '8',
      OTEL_METRIC_EXPORT_INTERVAL: '500',
      SESSIONS: '20',
      CALLS: '20',
    },
    120_000,
  );
  assert.equal(agent.code, 0, agent.stderr);
  // The agent's exit line counts its losses by reason: Prometheus must end up with the same count.
  const counted = /could not deliver \d+ spans \(.*?(\d+) queue_full/.exec(agent.stderr);
  assert.ok(counted, `the agent reported no queue_full loss:\n${agent.stderr}`);
  const dropped = Number(counted[1]);
  await waitFor(
    async () => {
      const v = await promQuery(
        gappy.prometheusUrl!,
        'sum(mcp_audit_dropped_spans_total{reason="queue_full"})',
      );
      return v.length > 0 && Number(v[0]!.value[1]) === dropped;
    },
    { timeoutMs: 30_000, message: `Prometheus did not show the agent's ${dropped} dropped spans` },
  );
  assert.ok(dropped > 0);

  // The audit file a crash would leave: the first object cut mid-write, the next one glued to it.
  const real = readFileSync(gappy.auditFilePath, 'utf8').split('\n').filter(Boolean);
  assert.ok(real.length >= 3, `the collector wrote ${real.length} lines`);
  const tornFile = join(emptyRules, 'torn-audit.jsonl');
  const cutAt = Math.floor(real[0]!.length / 2);
  writeFileSync(tornFile, `${real[0]!.slice(0, cutAt)}${real.slice(1).join('\n')}\n`);

  const args = ['--prometheus', gappy.prometheusUrl!, '--jaeger', gappy.jaegerUrl, '--audit-file', tornFile];
  const j = parseJson(await doctor([...args, '--json']));
  const drops = byId(j, 'pipeline_sdk_dropped');
  assert.equal(drops.ok, false, drops.evidence);
  assert.match(
    drops.evidence,
    new RegExp(`^${dropped} spans counted as lost by SDKs .*queue_full → otlp ${dropped}`),
  );
  const torn = byId(j, 'audit_file');
  assert.equal(torn.ok, false, torn.evidence);
  assert.match(torn.evidence, /1 torn line\(s\) at line 1 /);
  assert.match(torn.evidence, new RegExp(`${real.length - 1} lines, ${real.length - 1} objects`));
  // The checklist's verdict is the checklist's alone.
  assert.ok(j.checks.every((c) => !c.id.startsWith('pipeline')));
  const text = await doctor(args);
  assert.match(text.stdout, /^✗ No SDK lost spans before export \[pipeline_sdk_dropped\]$/m);
  assert.match(text.stdout, /^✗ The collector's audit file has no torn lines \[audit_file\]$/m);
  console.log(`--- doctor pipeline health with SDK drops and a torn audit file ---\n${text.stdout}`);
});

test('after a collector SIGKILL the call count is every call made, not a bare sum of the new counters', async () => {
  await healthy.restart('collector', { signal: 'SIGKILL' });
  const session = `sess-${runId}-ok`;
  // Three more db_query calls: the series held 2 before the crash and shows 3 after it, so the
  // values alone look like growth; the failed scrapes while the collector was down tell the restart.
  const more = [0, 1, 2].map((page) =>
    toolCallSpan('db_query', [
      str('gen_ai.conversation.id', session),
      str('enduser.id', CALLER),
      str('gen_ai.tool.call.arguments', JSON.stringify({ page })),
      int('mcp_audit.result.size', 10),
    ]),
  );
  await send(healthy, HEALTHY, more);
  // The restarted collector counts from zero: a bare sum now shows 3 of the 8 calls.
  await waitFor(
    async () =>
      (
        await promQuery(healthy.prometheusUrl!, `sum(mcp_audit_tool_calls_total{service_name="${HEALTHY}"})`)
      )[0]?.value[1] === '3',
    { timeoutMs: 45_000, message: 'Prometheus did not scrape the restarted collector' },
  );
  const j = parseJson(
    await doctor([
      '--prometheus',
      healthy.prometheusUrl!,
      '--jaeger',
      healthy.jaegerUrl,
      '--service',
      HEALTHY,
      '--json',
    ]),
  );
  assert.match(byId(j, 'calls_recorded').evidence, /mcp_audit_tool_calls_total\{service_name="[^"]+"\} = 8/);
  assert.match(
    byId(j, 'errors_recorded').evidence,
    /mcp_audit_tool_errors_total\{service_name="[^"]+"\} = 1/,
  );
  assert.match(byId(j, 'caller_identity').evidence, /8\/8 \(100%\) of mcp_audit_tool_calls_total/);
});
