// The demo's MCP servers as real stdio child processes (the SDK's own client and transport; the
// Python knowledge base under the real `mcp-audit wrap` with the real python3), the scripted
// agent's scenarios over them, and the threshold evaluator on synthetic records.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { connectDemoServers, runScenario, type DemoConnection } from '../../src/demo/agent.js';
import { readRecords } from '../../src/demo/evidence.js';
import { verifyLog } from '../../src/evidence/verify.js';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';
import { trackPid, untrackPid } from '../support/reaper.js';
import { waitFor } from '../support/stack.js';
import { skipUnlessAvailable } from '../support/tools.js';
import {
  DEFAULT_THRESHOLDS,
  evaluateThresholds,
  type CallRecord,
  type Thresholds,
} from '../../src/demo/thresholds.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'mcp-demo-test-'));
const pids: number[] = [];

type ToolResult = Awaited<ReturnType<Client['callTool']>>;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function startServer(name: 'db' | 'messaging' | 'files', env: Record<string, string>): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', join(root, 'src/demo/servers', `${name}.ts`)],
    env: { ...(process.env as Record<string, string>), ...env },
    cwd: root,
    stderr: 'ignore',
    maxBufferSize: 64 * 1024 * 1024,
  });
  const client = new Client({ name: 'demo-servers-test', version: '0' });
  await client.connect(transport);
  pids.push(transport.pid!);
  trackPid(transport.pid!);
  return client;
}

function text(r: ToolResult): string {
  const item = (r.content as { type: string; text?: string }[])[0];
  return item?.type === 'text' ? item.text! : '';
}

after(async () => {
  // Every child must be gone once its client closed it; a straggler is killed by pid, and the test fails.
  const left = await waitFor(() => pids.filter(alive).length === 0 && [], {
    timeoutMs: 5000,
    intervalMs: 20,
    message: 'server processes still running after their clients closed',
  }).catch(() => pids.filter(alive));
  for (const pid of left) process.kill(pid, 'SIGKILL');
  for (const pid of pids) untrackPid(pid);
  rmSync(work, { recursive: true, force: true });
  assert.deepEqual(left, [], 'server processes left running');
});

describe('db server (mcp-db-prod-01)', () => {
  let db: Client;
  before(async () => {
    db = await startServer('db', { MCP_DEMO_CUSTOMERS: '500' });
  });
  after(() => db.close());

  test('identifies itself as mcp-db-prod-01', () => {
    assert.equal(db.getServerVersion()?.name, 'mcp-db-prod-01');
  });

  test('row counts follow MCP_DEMO_CUSTOMERS; the incident customer is row one', async () => {
    const count = await db.callTool({
      name: 'db_query',
      arguments: { sql: 'SELECT count(*) AS n FROM customers' },
    });
    assert.deepEqual(count.structuredContent, { rows: [{ n: 500 }], row_count: 1, database: 'production' });
    const one = await db.callTool({
      name: 'db_query',
      arguments: { sql: 'SELECT name, balance FROM customers WHERE id = 4471' },
    });
    assert.deepEqual(JSON.parse(text(one)), {
      rows: [{ name: 'Sarah Chen', balance: 48210 }],
      row_count: 1,
      database: 'production',
    });
  });

  test('bulk query returns every matching row with PII-shaped fake values', async () => {
    const all = await db.callTool({ name: 'db_query', arguments: { sql: 'SELECT * FROM customers' } });
    const s = all.structuredContent as { rows: Record<string, unknown>[]; row_count: number };
    assert.equal(s.row_count, 500);
    assert.equal(s.rows.length, 500);
    for (const row of s.rows) {
      assert.match(String(row.ssn), /^\d{3}-\d{2}-\d{4}$/);
      assert.match(String(row.email), /@example\.com$/);
    }
    const rich = await db.callTool({
      name: 'db_query',
      arguments: { sql: 'SELECT * FROM customers WHERE balance > 100000' },
    });
    const n = (rich.structuredContent as { row_count: number }).row_count;
    assert.ok(n > 50 && n < 400, `a minority are rich: ${n}`);
    assert.ok(Buffer.byteLength(JSON.stringify(rich)) > 0);
  });

  test('writes are refused as a tool error (permission denied), whatever their disguise', async () => {
    for (const sql of [
      'DELETE FROM access_log',
      'UPDATE customers SET balance = 0',
      'SELECT 1; DROP TABLE customers',
      "ATTACH DATABASE '/tmp/x.db' AS x",
      'PRAGMA query_only = OFF',
      '/* read */ insert into customers (id) values (1)',
    ]) {
      const r = await db.callTool({ name: 'db_query', arguments: { sql } });
      assert.equal(r.isError, true, sql);
      assert.equal(text(r), 'permission denied: read-only role', sql);
    }
    const still = await db.callTool({
      name: 'db_query',
      arguments: { sql: 'SELECT count(*) AS n FROM customers' },
    });
    assert.deepEqual((still.structuredContent as { rows: unknown[] }).rows, [{ n: 500 }]);
  });

  test('db_admin_query is the elevated path: the same write succeeds', async () => {
    const r = await db.callTool({
      name: 'db_admin_query',
      arguments: { sql: "DELETE FROM access_log WHERE actor = 'agent'" },
    });
    assert.equal(r.isError, undefined);
    assert.equal((r.structuredContent as { rows_modified: number }).rows_modified, 2);
    // …and the read-only role is back in force afterwards.
    const denied = await db.callTool({ name: 'db_query', arguments: { sql: 'DELETE FROM access_log' } });
    assert.equal(denied.isError, true);
  });

  test('bad input and bad SQL come back as tool errors, never a crash', async () => {
    const bad = await db.callTool({ name: 'db_query', arguments: { sql: 42 } });
    assert.equal(bad.isError, true);
    const syntax = await db.callTool({ name: 'db_query', arguments: { sql: 'SELEC nothing' } });
    assert.equal(syntax.isError, true);
    assert.match(text(syntax), /^query failed: .*syntax error/);
    const ok = await db.callTool({ name: 'db_query', arguments: { sql: 'SELECT 1 AS one' } });
    assert.deepEqual((ok.structuredContent as { rows: unknown[] }).rows, [{ one: 1 }]);
  });

  test('report_export is large by design (over the default bulk threshold, under its override)', async () => {
    const r = await db.callTool({ name: 'report_export', arguments: {} });
    const size = Buffer.byteLength(JSON.stringify(r));
    assert.equal((r.structuredContent as { row_count: number }).row_count, 500);
    assert.ok(size > 40_000, `size ${size}`);
    assert.ok(size < DEFAULT_THRESHOLDS.bulk_extraction.per_tool_bytes.report_export!);
  });
});

describe('messaging server (mcp-messaging-01)', () => {
  const outbox = join(work, 'outbox.jsonl');
  let msg: Client;
  before(async () => {
    msg = await startServer('messaging', { MCP_DEMO_OUTBOX: outbox });
  });
  after(() => msg.close());

  test('records every message in the outbox and sends nothing', async () => {
    assert.equal(msg.getServerVersion()?.name, 'mcp-messaging-01');
    const slack = await msg.callTool({
      name: 'slack_send',
      arguments: { channel: '#support', message: 'Customer balance is $48,210' },
    });
    assert.equal((slack.structuredContent as { ok: boolean }).ok, true);
    assert.match(String((slack.structuredContent as { ts: string }).ts), /^\d+\.\d{6}$/);
    await msg.callTool({ name: 'email_send', arguments: { to: 'a@example.com', subject: 's', body: 'b' } });
    await msg.callTool({
      name: 'http_post',
      arguments: { url: 'https://collector.example.net/in', body: '{}' },
    });
    const bad = await msg.callTool({ name: 'http_post', arguments: { url: 'not a url', body: '' } });
    assert.equal(bad.isError, true);
    const lines = readFileSync(outbox, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      lines.map(({ ts: _ts, ...rest }) => rest),
      [
        { tool: 'slack_send', channel: '#support', message: 'Customer balance is $48,210' },
        { tool: 'email_send', to: 'a@example.com', subject: 's', body: 'b' },
        { tool: 'http_post', url: 'https://collector.example.net/in', body: '{}' },
      ],
    );
  });
});

describe('files server (mcp-files-01)', () => {
  const sandbox = join(work, 'files');
  let files: Client;
  const realBackdoorExisted = existsSync('/etc/cron.d/backdoor');
  before(async () => {
    files = await startServer('files', { MCP_DEMO_FILES_ROOT: sandbox });
  });
  after(() => files.close());

  test('file_write to a system path lands in the sandbox, never on the real path', async () => {
    const r = await files.callTool({
      name: 'file_write',
      arguments: { path: '/etc/cron.d/backdoor', content: '* * * * * root /tmp/x\n' },
    });
    assert.equal(r.isError, undefined, text(r));
    assert.equal(readFileSync(join(sandbox, 'etc/cron.d/backdoor'), 'utf8'), '* * * * * root /tmp/x\n');
    assert.equal(existsSync('/etc/cron.d/backdoor'), realBackdoorExisted);
  });

  test('.. cannot climb out of the sandbox', async () => {
    await files.callTool({ name: 'file_write', arguments: { path: '../../../../escape.txt', content: 'x' } });
    assert.ok(existsSync(join(sandbox, 'escape.txt')));
    assert.ok(!existsSync(join(work, 'escape.txt')));
    const read = await files.callTool({ name: 'file_read', arguments: { path: '/../escape.txt' } });
    assert.equal((read.structuredContent as { content: string }).content, 'x');
    const missing = await files.callTool({ name: 'file_read', arguments: { path: '/etc/passwd' } });
    assert.equal(missing.isError, true);
    assert.equal(text(missing), 'no such file: /etc/passwd');
  });

  test('slow_tool sleeps, within bounds', async () => {
    // A lower bound only (a timer never fires early on the monotonic clock), so a slow machine cannot fail it.
    const started = performance.now();
    const r = await files.callTool({ name: 'slow_tool', arguments: { seconds: 0.3 } });
    assert.ok(performance.now() - started >= 299, 'the call returns only after the 0.3 s sleep');
    assert.deepEqual(r.structuredContent, { ok: true, slept_seconds: 0.3 });
    const tooLong = await files.callTool({ name: 'slow_tool', arguments: { seconds: 500 } });
    assert.equal(tooLong.isError, true);
  });
});

describe('knowledge-base server (mcp-kb-01: Python, standard library, under mcp-audit wrap)', () => {
  let receiver: OtlpReceiver;
  let conn: DemoConnection;
  const auditFile = join(work, 'kb-wrap', 'evidence-wrap.jsonl');
  before(async () => {
    receiver = await startOtlpReceiver();
    conn = await connectDemoServers({
      servers: ['kb', 'messaging'],
      env: {
        MCP_DEMO_OUTBOX: join(work, 'kb-outbox.jsonl'),
        MCP_DEMO_WRAP_OTLP: receiver.url,
        MCP_DEMO_WRAP_AUDIT_FILE: auditFile,
        // No instrumented agent in this process to propagate them: wrap takes them from its env.
        MCP_AUDIT_SESSION: 'kb-test',
        MCP_AUDIT_CALLER: 'user:sarah',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
      stderr: 'ignore',
    });
    pids.push(...conn.pids);
    for (const pid of conn.pids) trackPid(pid);
  });
  after(async () => {
    await conn.close();
    await receiver.close();
  });

  test('the client sees the identity from its initialize reply', () => {
    assert.deepEqual(conn.clients.kb!.getServerVersion(), { name: 'mcp-kb-01', version: '1.4.2' });
  });

  test("kb-lookup: each call to it is a wrap span with the audit attributes, and in wrap's own chain", async () => {
    const r = await runScenario('kb-lookup', { clients: conn.clients, sessionId: 'kb-test' });
    assert.deepEqual(
      r.steps.map((s) => [s.server, s.tool, s.isError]),
      [
        ['kb', 'kb_search', false],
        ['kb', 'kb_read', false],
        ['messaging', 'slack_send', false],
      ],
    );
    const missing = await conn.clients.kb!.callTool({ name: 'kb_read', arguments: { id: 'KB-999' } });
    assert.equal(missing.isError, true);
    assert.equal(text(missing), 'no such article: KB-999');
    const kbCalls = () =>
      receiver.spans.filter(
        (s) => s.service === 'mcp-audit-wrap' && s.attributes['mcp.method.name'] === 'tools/call',
      );
    await receiver.waitForSpans(() => kbCalls().length >= 3);
    const spans = kbCalls();
    assert.deepEqual(
      spans.map((s) => [s.name, s.attributes['error.type']]),
      [
        ['tools/call kb_search', undefined],
        ['tools/call kb_read', undefined],
        ['tools/call kb_read', 'tool_error'],
      ],
    );
    for (const span of spans) {
      const a = span.attributes;
      assert.equal(span.kind, 2, 'a SERVER span');
      assert.equal(a['network.transport'], 'pipe');
      assert.equal(a['mcp_audit.proxy'], 'wrap');
      assert.equal(a['mcp_audit.server.name'], 'mcp-kb-01');
      assert.equal(a['mcp_audit.server.version'], '1.4.2');
      assert.equal(a['gen_ai.conversation.id'], 'kb-test');
      assert.equal(a['enduser.id'], 'user:sarah');
    }
    assert.equal(
      spans[0]!.attributes['gen_ai.tool.call.arguments'],
      '{"query":"refund policy over $10,000","limit":3}',
    );

    // The evidence log is durable before wrap exits: close, then read it.
    await conn.close();
    const verified = await verifyLog([auditFile]);
    assert.ok(verified.ok, JSON.stringify(verified));
    const records = (await readRecords([auditFile])).filter((rec) => rec.method === 'tools/call');
    assert.deepEqual(
      records.map((rec) => [rec.tool_name, rec.server_id, rec.side, rec.session_id, rec.error]),
      [
        ['kb_search', 'mcp-kb-01', 'server', 'kb-test', null],
        ['kb_read', 'mcp-kb-01', 'server', 'kb-test', null],
        ['kb_read', 'mcp-kb-01', 'server', 'kb-test', 'tool_error'],
      ],
    );
  });
});

describe('scripted agent scenarios over stdio', () => {
  let conn: DemoConnection;
  const outbox = join(work, 'agent-outbox.jsonl');
  const sandbox = join(work, 'agent-files');
  before(async () => {
    conn = await connectDemoServers({
      env: { MCP_DEMO_OUTBOX: outbox, MCP_DEMO_FILES_ROOT: sandbox, MCP_DEMO_CUSTOMERS: '2400' },
      stderr: 'ignore',
    });
    pids.push(...conn.pids);
    for (const pid of conn.pids) trackPid(pid);
  });
  after(() => conn.close());

  test('ordinary: the incident flow, small and successful, under the audit context', async () => {
    const contexts: unknown[] = [];
    const r = await runScenario('ordinary', {
      clients: conn.clients,
      audit: (ctx, fn) => (contexts.push(ctx), fn()),
    });
    assert.deepEqual(
      r.steps.map((s) => [s.tool, s.isError]),
      [
        ['db_query', false],
        ['slack_send', false],
      ],
    );
    assert.deepEqual(contexts, [
      { callerId: 'user:sarah', sessionId: 'a3f8c', turnId: 'turn-001' },
      { callerId: 'user:sarah', sessionId: 'a3f8c', turnId: 'turn-002' },
    ]);
    assert.ok(r.steps.every((s) => s.bytes < 1024));
  });

  test('injected: bulk, denied then elevated, egress, burst, caller-less backdoor', async () => {
    const r = await runScenario('injected', { clients: conn.clients, sessionId: 'inj-test' });
    assert.equal(r.steps.length, 30);
    assert.ok(
      r.steps[0]!.bytes > DEFAULT_THRESHOLDS.bulk_extraction.default_bytes,
      `bulk ${r.steps[0]!.bytes}`,
    );
    assert.deepEqual(
      r.steps.slice(1, 4).map((s) => [s.tool, s.isError]),
      [
        ['db_query', true],
        ['db_admin_query', false],
        ['slack_send', false],
      ],
    );
    const last = r.steps.at(-1)!;
    assert.deepEqual([last.tool, last.callerId, last.sessionId], ['file_write', null, 'inj-test']);
    assert.ok(existsSync(join(sandbox, 'etc/cron.d/backdoor')));
    const posts = readFileSync(outbox, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { channel: string; message: string });
    const fromInjected = posts.slice(1); // the first one is the ordinary session's
    assert.equal(fromInjected.length, 26);
    assert.equal(fromInjected[0]!.channel, '#general');
    assert.match(fromInjected[0]!.message, /\d{3}-\d{2}-\d{4}/);
  });
});

// ---- threshold evaluation (pure) ----

let seq = 0;
function rec(over: Partial<CallRecord> & { at: number }): CallRecord {
  const { at, ...rest } = over;
  return {
    timestamp: new Date(Date.UTC(2026, 2, 18, 9, 14, 0) + at * 1000).toISOString(),
    session_id: 's1',
    caller_identity: 'user:sarah',
    tool_name: 'db_query',
    result_size_bytes: 200,
    latency_ms: 5,
    server_id: 'mcp-db-prod-01',
    error: null,
    method: 'tools/call',
    span_id: `span${seq++}`,
    parent_span_id: null,
    side: 'client',
    ...rest,
  };
}

function crossed(records: CallRecord[], t: Thresholds = DEFAULT_THRESHOLDS): string[] {
  return (evaluateThresholds(records, t).get('s1') ?? []).map((c) => c.rule);
}

describe('threshold evaluation (collector/rules/thresholds.json)', () => {
  const t = DEFAULT_THRESHOLDS;

  test('bulk extraction: over 100 KiB crosses, exactly 100 KiB does not, per-tool override holds', () => {
    assert.deepEqual(crossed([rec({ at: 0, result_size_bytes: t.bulk_extraction.default_bytes + 1 })]), [
      'bulk_extraction',
    ]);
    assert.deepEqual(crossed([rec({ at: 0, result_size_bytes: t.bulk_extraction.default_bytes })]), []);
    assert.deepEqual(crossed([rec({ at: 0, tool_name: 'report_export', result_size_bytes: 5_000_000 })]), []);
  });

  test('call frequency: 21 calls in 60 s crosses; 20, or 21 spread over 61 s, does not', () => {
    const calls = (n: number, spread: number) =>
      Array.from({ length: n }, (_, i) => rec({ at: (i * spread) / (n - 1), tool_name: 'file_read' }));
    assert.deepEqual(crossed(calls(21, 59)), ['call_frequency']);
    assert.deepEqual(crossed(calls(20, 1)), []);
    assert.deepEqual(crossed(calls(21, 61)), []);
  });

  test('missing caller: only sensitive tools count', () => {
    assert.deepEqual(crossed([rec({ at: 0, tool_name: 'file_write', caller_identity: null })]), [
      'missing_caller',
    ]);
    assert.deepEqual(crossed([rec({ at: 0, tool_name: 'file_read', caller_identity: null })]), []);
  });

  test('error then retry: a failure then another tool within the window', () => {
    const failed = rec({ at: 0, error: 'tool_error' });
    assert.deepEqual(crossed([failed, rec({ at: 2, tool_name: 'db_admin_query' })]), ['error_then_retry']);
    assert.deepEqual(crossed([failed, rec({ at: 2 })]), [], 'same tool again is a retry, not probing');
    assert.deepEqual(
      crossed([failed, rec({ at: t.error_then_retry.window_seconds + 1, tool_name: 'db_admin_query' })]),
      [],
    );
  });

  test('session exfiltration: by total bytes or by call count', () => {
    const many = (n: number, bytes: number) =>
      Array.from({ length: n }, (_, i) =>
        rec({ at: i * 10, tool_name: 'file_read', result_size_bytes: bytes }),
      );
    assert.deepEqual(crossed(many(60, 90_000)), ['session_exfiltration']); // 5.4 MB, no single bulk call
    assert.deepEqual(crossed(many(58, 90_000)), []); // 5.2 MB < 5 MiB
    assert.deepEqual(crossed(many(201, 10)), ['session_exfiltration']);
    assert.deepEqual(crossed(many(200, 10)), []);
  });

  test('data then egress: data tool then egress tool in the window, not the reverse', () => {
    const min = t.data_then_egress.min_data_bytes ?? 0;
    assert.equal(min, 10240);
    // Above min_data_bytes, below the bulk threshold (so only this rule is crossed).
    const data = rec({ at: 0, result_size_bytes: 20_000 });
    assert.deepEqual(crossed([data, rec({ at: 5, tool_name: 'slack_send' })]), ['data_then_egress']);
    assert.deepEqual(
      crossed([rec({ at: 0, result_size_bytes: min }), rec({ at: 5, tool_name: 'slack_send' })]),
      ['data_then_egress'],
      'reaching min_data_bytes counts',
    );
    // The ordinary session of the incident: one ~200-byte lookup, then a Slack reply. Crosses nothing.
    assert.deepEqual(
      crossed([rec({ at: 0, result_size_bytes: 200 }), rec({ at: 5, tool_name: 'slack_send' })]),
      [],
    );
    assert.deepEqual(
      crossed([rec({ at: 0, result_size_bytes: min - 1 }), rec({ at: 5, tool_name: 'slack_send' })]),
      [],
    );
    assert.deepEqual(
      crossed([rec({ at: 0, tool_name: 'slack_send' }), rec({ at: 5, result_size_bytes: 20_000 })]),
      [],
    );
    assert.deepEqual(
      crossed([data, rec({ at: t.data_then_egress.window_seconds + 1, tool_name: 'email_send' })]),
      [],
    );
    // A failed data call returned nothing to send (it is error-then-retry instead).
    assert.deepEqual(
      crossed([rec({ at: 0, error: 'tool_error' }), rec({ at: 5, tool_name: 'slack_send' })]),
      ['error_then_retry'],
    );
  });

  test('latency: a hanging call, a slow p95, and a near miss', () => {
    assert.deepEqual(crossed([rec({ at: 0, tool_name: 'slow_tool', latency_ms: 40_000 })]), ['latency']);
    assert.deepEqual(crossed([rec({ at: 0, tool_name: 'slow_tool', latency_ms: 6_000 })]), ['latency']);
    assert.deepEqual(crossed([rec({ at: 0, tool_name: 'slow_tool', latency_ms: 4_900 })]), []);
  });

  test('error burst: over 20% errors with at least 10 calls', () => {
    const calls = (n: number, errors: number) =>
      Array.from({ length: n }, (_, i) =>
        rec({ at: i, tool_name: 'file_read', error: i < errors ? 'tool_error' : null }),
      );
    assert.ok(crossed(calls(10, 3)).includes('error_burst'));
    assert.ok(!crossed(calls(10, 2)).includes('error_burst'));
    assert.ok(!crossed(calls(9, 5)).includes('error_burst'));
  });

  test('a call seen by both sides counts once; sessions are kept apart', () => {
    const client = rec({ at: 0, tool_name: 'file_read' });
    const server = rec({ at: 0, tool_name: 'file_read', side: 'server', parent_span_id: client.span_id });
    const both = Array.from({ length: 11 }, (_, i) => {
      const c = rec({ at: i, tool_name: 'file_read' });
      return [c, rec({ at: i, tool_name: 'file_read', side: 'server', parent_span_id: c.span_id })];
    }).flat();
    assert.deepEqual(crossed([client, server, ...both]), [], '12 calls, not 24');
    const other = Array.from({ length: 21 }, (_, i) =>
      rec({ at: i, session_id: i % 2 ? 's1' : 's2', tool_name: 'file_read' }),
    );
    assert.deepEqual(crossed(other), []);
    assert.deepEqual(
      evaluateThresholds([rec({ at: 0, method: 'tools/list', result_size_bytes: 10_000_000 })]).size,
      0,
    );
  });
});

// ---- `mcp-audit demo` end to end (needs the build: dist/register.js and dist/demo/*) ----

describe('mcp-audit demo', () => {
  const built = existsSync(join(root, 'dist/register.js')) && existsSync(join(root, 'dist/demo/agent.js'));
  const skip = skipUnlessAvailable(!built && 'dist/ is not built', 'npm run build; npm test builds it first');

  /** The demo command from source, as `mcp-audit demo` runs it; env replaces the test's. */
  async function runDemo(
    args: string[],
    env: NodeJS.ProcessEnv,
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { demoCommand } from ${JSON.stringify(join(root, 'src/cli/demo.ts'))};
         process.exitCode = await demoCommand.run(${JSON.stringify(args)});`,
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env },
    );
    pids.push(child.pid!);
    trackPid(child.pid!);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    return { code, stdout, stderr };
  }

  // The table's verify line names the algorithm; a key in the developer's env would change it.
  const { MCP_AUDIT_HMAC_KEY: _key, MCP_DEMO_PYTHON: _python, ...baseEnv } = process.env;
  const row = (stdout: string, session: string) =>
    stdout.split('\n').find((l) => l.startsWith(session + ' ')) ?? '';
  const INJECTED_RULES = [
    'bulk_extraction',
    'call_frequency',
    'missing_caller',
    'error_then_retry',
    'data_then_egress',
    'system_write',
    'write_without_turn',
  ];

  // How long the demo takes is measured by npm run bench, not asserted here.
  test(
    'writes verifiable evidence logs, a table with the crossed thresholds, and the Python path under wrap',
    { skip, timeout: 120_000 },
    async () => {
      const out = join(work, 'demo-out');
      const { code, stdout, stderr } = await runDemo(['--out', out], baseEnv);
      assert.equal(code, 0, stderr + stdout);
      assert.match(row(stdout, 'a3f8c'), /user:sarah\s+2\s+2\s/);
      assert.match(row(stdout, 'a3f8c'), /\s0\s+none\s*$/, 'the ordinary session crosses no threshold');
      const injected = row(stdout, 'e91d4');
      for (const rule of INJECTED_RULES) assert.ok(injected.includes(rule), `${rule} in: ${injected}`);
      assert.match(injected, /\(none\)×1\s+30\s+4\s/);
      // The knowledge-base session, seen by the agent's in-process spans: three calls, nothing crossed.
      assert.match(row(stdout, 'b72d0'), /user:sarah\s+3\s+3\s.*\s0\s+none\s*$/);
      assert.match(stdout, /OK: \d+ records in 1 file, SHA-256 chain intact/);
      assert.match(stdout, /mcp-audit verify .*evidence\.jsonl/);
      assert.match(stderr, /running injected 30\/30 file_write/);
      assert.match(stderr, /running kb-lookup 3\/3 slack_send/);

      // What wrap recorded of the Python server, from its own chain and its own spans.
      const section = stdout.slice(stdout.indexOf('Python server under `mcp-audit wrap` (kb-lookup; '));
      assert.ok(section.length > 0, stdout);
      for (const tool of ['kb_search', 'kb_read']) {
        assert.match(
          section,
          new RegExp(
            `^${tool}\\s+ok\\s+\\d+ B\\s+mcp-kb-01 1\\.4\\.2\\s+pipe\\s+b72d0\\s+user:sarah \\(propagated\\)\\s+agent's span$`,
            'm',
          ),
        );
      }
      assert.match(
        section,
        /evidence-wrap\.jsonl \(wrap's own chain\):\nOK: 3 records in 1 file, SHA-256 chain intact/,
      );
      assert.match(stdout, /mcp-audit verify .*evidence-wrap\.jsonl/);
      const verified = await verifyLog([join(out, 'evidence-wrap.jsonl')]);
      assert.ok(verified.ok);
      const wrapRecords = await readRecords([join(out, 'evidence-wrap.jsonl')]);
      assert.deepEqual(
        wrapRecords
          .filter((r) => r.method === 'tools/call')
          .map((r) => [r.tool_name, r.service_name, r.side]),
        [
          ['kb_search', 'mcp-audit-wrap', 'server'],
          ['kb_read', 'mcp-audit-wrap', 'server'],
        ],
      );
    },
  );

  test(
    'without python3 it says it skips the Python scenario and why, and runs the rest',
    { skip, timeout: 120_000 },
    async () => {
      // A PATH with no python3 on it (the demo starts node by its absolute path).
      const emptyPath = mkdtempSync(join(work, 'no-python-'));
      const out = join(work, 'demo-no-python');
      const { code, stdout, stderr } = await runDemo(['--out', out], { ...baseEnv, PATH: emptyPath });
      assert.equal(code, 0, stderr + stdout);
      const why =
        'Skipped the kb-lookup scenario: it runs a Python MCP server under `mcp-audit wrap`, and python3 was not found on PATH.';
      assert.ok(stdout.includes(why), stdout);
      assert.ok(stderr.includes(why), stderr);
      assert.equal(row(stdout, 'b72d0'), '', 'the Python session did not run');
      for (const rule of INJECTED_RULES) assert.ok(row(stdout, 'e91d4').includes(rule), rule);
      assert.ok(!existsSync(join(out, 'evidence-wrap.jsonl')));

      // Asked for by name, the missing interpreter is an error, not a skip.
      const named = await runDemo(['--out', out, '--scenario', 'kb-lookup'], { ...baseEnv, PATH: emptyPath });
      assert.equal(named.code, 1);
      assert.match(
        named.stderr,
        /cannot run the kb-lookup scenario: it runs a Python MCP server .* python3 was not found on PATH/,
      );
    },
  );
});
