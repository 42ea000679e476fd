import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLogWriter } from '../../src/evidence/log-writer.js';
import {
  SessionAggregator,
  formatSessionTable,
  reportFiles,
  type SessionSummary,
} from '../../src/evidence/report.js';
import type { AuditRecord } from '../../src/evidence/record.js';

const root = mkdtempSync(join(tmpdir(), 'mcp-audit-report-'));
after(() => rmSync(root, { recursive: true, force: true }));

let spanSeq = 0;
function call(p: Partial<AuditRecord> & { at: number }): AuditRecord {
  const { at, ...rest } = p;
  return {
    timestamp: new Date(Date.UTC(2026, 2, 18, 9, 0, 0) + at).toISOString(),
    session_id: 'good',
    caller_identity: 'user:sarah',
    caller_source: 'context',
    tool_name: 'db_query',
    tool_parameters: null,
    result_summary: null,
    result_size_bytes: 100,
    latency_ms: 50,
    server_id: 'mcp-db',
    error: null,
    llm_turn_id: null,
    method: 'tools/call',
    trace_id: 't1'.padEnd(32, '0'),
    span_id: (++spanSeq).toString(16).padStart(16, '0'),
    parent_span_id: null,
    side: 'client',
    service_name: 'agent',
    ...rest,
  };
}

/** A client call and the server span of the same call (its parent is the client span). */
function both(p: Partial<AuditRecord> & { at: number }): AuditRecord[] {
  const c = call(p);
  return [
    c,
    call({
      ...p,
      side: 'server',
      parent_span_id: c.span_id,
      caller_identity: null,
      at: p.at + 1,
      latency_ms: 40,
    }),
  ];
}

const records: AuditRecord[] = [
  ...both({ at: 0, tool_name: 'db_query', result_size_bytes: 2000 }),
  ...both({ at: 1000, tool_name: 'file_read', result_size_bytes: 300, error: 'tool_error' }),
  call({ at: 1500, method: 'tools/list', tool_name: 'tools/list', result_size_bytes: 9999 }), // not a tool call
  // Server only (client not instrumented): counts.
  call({
    at: 2000,
    side: 'server',
    tool_name: 'slack_send',
    server_id: 'mcp-msg',
    caller_identity: 'service:batch',
  }),
  // Server span whose client parent link is missing, but the same trace has the client record of that tool.
  call({ at: 3000, trace_id: 't2'.padEnd(32, '0'), tool_name: 'db_query', result_size_bytes: 5 }),
  call({
    at: 3001,
    trace_id: 't2'.padEnd(32, '0'),
    tool_name: 'db_query',
    side: 'server',
    parent_span_id: 'ffffffffffffffff',
  }),
  // Another session, no caller.
  call({
    at: 10_000,
    session_id: 'evil',
    caller_identity: null,
    tool_name: 'db_query',
    result_size_bytes: 500_000,
  }),
  // Same trace id as the good session's server-only slack_send: must not be paired with it.
  call({
    at: 70_000,
    session_id: 'evil',
    caller_identity: null,
    tool_name: 'slack_send',
    result_size_bytes: 10,
  }),
];

const expected: SessionSummary[] = [
  {
    session_id: 'good',
    calls: 4,
    total_bytes: 2000 + 300 + 100 + 5,
    tools: ['db_query', 'file_read', 'slack_send'],
    first_ts: '2026-03-18T09:00:00.000Z',
    last_ts: '2026-03-18T09:00:03.050Z',
    duration_ms: 3050,
    errors: 1,
    error_rate: 0.25,
    callers: ['service:batch', 'user:sarah'],
    calls_without_caller: 0,
    servers: ['mcp-db', 'mcp-msg'],
  },
  {
    session_id: 'evil',
    calls: 2,
    total_bytes: 500_010,
    tools: ['db_query', 'slack_send'],
    first_ts: '2026-03-18T09:00:10.000Z',
    last_ts: '2026-03-18T09:01:10.050Z',
    duration_ms: 60_050,
    errors: 0,
    error_rate: 0,
    callers: [],
    calls_without_caller: 2,
    servers: ['mcp-db'],
  },
];

describe('session report', () => {
  it('aggregates per session, counting each tool call once (client preferred)', () => {
    const agg = new SessionAggregator();
    for (const r of records) agg.add(r);
    assert.deepStrictEqual(agg.sessions(), expected);
  });

  it('reads log files (skipping control lines) and formats a table', async () => {
    const file = join(root, 'audit.log');
    const w = new AuditLogWriter({ file, maxQueue: 1 });
    const first = w.append(records.slice(0, 5));
    await w.append(records.slice(5, 6)).catch(() => undefined); // refused: a `dropped` control line
    await first;
    await w.append(records.slice(5));
    await w.close();
    const report = await reportFiles([file]);
    assert.deepStrictEqual(report.sessions, expected);
    assert.equal(report.records, records.length);
    assert.equal(report.skipped, 1);
    const table = formatSessionTable(report.sessions).split('\n');
    assert.match(table[0]!, /^SESSION\s+CALLER\s+CALLS\s+TOOLS\s+BYTES\s+ERRORS\s+DURATION\s+SERVERS$/);
    assert.match(
      table[1]!,
      /^good\s+service:batch,user:sarah\s+4\s+3 \(db_query,file_read,slack_send\)\s+2\.3 KiB\s+1 \(25%\)\s+3\.0 s\s+mcp-db,mcp-msg$/,
    );
    assert.match(
      table[2]!,
      /^evil\s+\(none\)×2\s+2\s+2 \(db_query,slack_send\)\s+488\.3 KiB\s+0 \(0%\)\s+1 min 0 s\s+mcp-db$/,
    );
  });
});
