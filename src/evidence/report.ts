// Per-session aggregation of audit records (one call may look normal, the session
// reveals the attack). Usable incrementally (the demo feeds it from the exporter's onRecord) and
// over files (`mcp-audit report`).
//
// Each tool call is counted once, whichever sides are instrumented: client records always count;
// a server record is the same call as a client record when its parent span is that client span
// (the context travels in params._meta), or, failing that, when an unmatched client record of the
// same session and trace called the same tool. Only unmatched server records count.

import { isControl, type ChainBody } from './hash-chain.js';
import { readLines } from './log-files.js';
import type { AuditRecord } from './record.js';

export const TOOLS_CALL = 'tools/call';

export interface SessionSummary {
  /** null groups records that carry no session. */
  session_id: string | null;
  calls: number;
  total_bytes: number;
  /** Distinct tools, sorted. */
  tools: string[];
  first_ts: string | null;
  last_ts: string | null;
  /** From the first call's start to the last call's end. */
  duration_ms: number;
  errors: number;
  error_rate: number;
  callers: string[];
  /** Calls with no caller identity (an alert of its own: McpSensitiveToolWithoutCaller). */
  calls_without_caller: number;
  servers: string[];
}

const CALL_FIELDS = [
  'session_id',
  'caller_identity',
  'tool_name',
  'result_size_bytes',
  'latency_ms',
  'server_id',
  'error',
  'trace_id',
  'span_id',
  'parent_span_id',
  'side',
  'timestamp',
] as const satisfies ReadonlyArray<keyof AuditRecord>;

type Call = Pick<AuditRecord, (typeof CALL_FIELDS)[number]>;

export class SessionAggregator {
  // Only the fields the summary needs: memory stays proportional to calls, not to arguments.
  private readonly calls: Call[] = [];

  add(record: AuditRecord): void {
    if (record.method !== TOOLS_CALL) return;
    const call = {} as Record<keyof Call, unknown>;
    for (const field of CALL_FIELDS) call[field] = record[field];
    this.calls.push(call as Call);
  }

  /** Sessions ordered by their first call. */
  sessions(): SessionSummary[] {
    const bySession = new Map<string | null, Call[]>();
    for (const call of countedOnce(this.calls)) {
      const list = bySession.get(call.session_id) ?? [];
      list.push(call);
      bySession.set(call.session_id, list);
    }
    return [...bySession.entries()]
      .map(([id, calls]) => summarize(id, calls))
      .sort((a, b) => (a.first_ts ?? '').localeCompare(b.first_ts ?? ''));
  }
}

function countedOnce(calls: readonly Call[]): Call[] {
  const clients = new Map<string, Call>();
  const unmatchedByTool = new Map<string, Call[]>();
  for (const c of calls) {
    if (c.side !== 'client') continue;
    clients.set(`${c.trace_id}/${c.span_id}`, c);
  }
  const matched = new Set<Call>();
  const servers: Call[] = [];
  for (const c of calls) {
    if (c.side !== 'server') continue;
    const parent = c.parent_span_id ? clients.get(`${c.trace_id}/${c.parent_span_id}`) : undefined;
    if (parent && !matched.has(parent)) matched.add(parent);
    else servers.push(c);
  }
  for (const c of clients.values()) {
    if (matched.has(c)) continue;
    const k = fallbackKey(c);
    unmatchedByTool.set(k, [...(unmatchedByTool.get(k) ?? []), c]);
  }
  const counted: Call[] = calls.filter((c) => c.side !== 'server');
  for (const s of servers) {
    const pool = unmatchedByTool.get(fallbackKey(s));
    if (pool && pool.length > 0) pool.shift();
    else counted.push(s);
  }
  return counted;
}

function fallbackKey(c: Call): string {
  return JSON.stringify([c.session_id, c.trace_id, c.tool_name]);
}

function summarize(sessionId: string | null, calls: Call[]): SessionSummary {
  let first = Infinity;
  let lastEnd = -Infinity;
  let bytes = 0;
  let errors = 0;
  let withoutCaller = 0;
  const tools = new Set<string>();
  const callers = new Set<string>();
  const servers = new Set<string>();
  for (const c of calls) {
    const start = Date.parse(c.timestamp);
    if (Number.isFinite(start)) {
      first = Math.min(first, start);
      lastEnd = Math.max(lastEnd, start + c.latency_ms);
    }
    bytes += c.result_size_bytes ?? 0;
    if (c.error !== null) errors++;
    if (c.tool_name) tools.add(c.tool_name);
    if (c.caller_identity) callers.add(c.caller_identity);
    else withoutCaller++;
    if (c.server_id) servers.add(c.server_id);
  }
  const known = Number.isFinite(first);
  return {
    session_id: sessionId,
    calls: calls.length,
    total_bytes: bytes,
    tools: [...tools].sort(),
    first_ts: known ? new Date(first).toISOString() : null,
    last_ts: known ? new Date(Math.floor(lastEnd)).toISOString() : null,
    duration_ms: known ? Math.round((lastEnd - first) * 1000) / 1000 : 0,
    errors,
    error_rate: calls.length > 0 ? Math.round((errors / calls.length) * 10000) / 10000 : 0,
    callers: [...callers].sort(),
    calls_without_caller: withoutCaller,
    servers: [...servers].sort(),
  };
}

export interface FileReport {
  sessions: SessionSummary[];
  /** Audit records read (all methods, both sides). */
  records: number;
  /** Lines that were not audit records: control lines, unparseable lines. */
  skipped: number;
}

/**
 * The lines of the log files in order: each audit record, or null for a line that is not one (a
 * control line, an unparseable line). Not a verification: run `verify` for that.
 */
export async function* readAuditRecords(files: readonly string[]): AsyncGenerator<AuditRecord | null> {
  for (const file of files) {
    for await (const raw of readLines(file)) {
      let body: ChainBody;
      try {
        body = JSON.parse(raw.bytes.toString('utf8')) as ChainBody;
      } catch {
        yield null;
        continue;
      }
      if (typeof body === 'object' && body !== null && !isControl(body) && typeof body.trace_id === 'string')
        yield body;
      else yield null;
    }
  }
}

/** Aggregates log files. Not a verification: run `verify` for that; bad lines are skipped here. */
export async function reportFiles(files: readonly string[]): Promise<FileReport> {
  const agg = new SessionAggregator();
  let records = 0;
  let skipped = 0;
  for await (const record of readAuditRecords(files)) {
    if (record === null) {
      skipped++;
      continue;
    }
    records++;
    agg.add(record);
  }
  return { sessions: agg.sessions(), records, skipped };
}

export function formatSessionTable(sessions: readonly SessionSummary[]): string {
  const header = ['SESSION', 'CALLER', 'CALLS', 'TOOLS', 'BYTES', 'ERRORS', 'DURATION', 'SERVERS'];
  const rows = sessions.map((s) => [
    s.session_id ?? '(none)',
    [...s.callers, ...(s.calls_without_caller > 0 ? [`(none)×${s.calls_without_caller}`] : [])].join(',') ||
      '-',
    String(s.calls),
    `${s.tools.length} ${s.tools.length > 0 ? `(${s.tools.join(',')})` : ''}`.trim(),
    formatBytes(s.total_bytes),
    `${s.errors} (${(s.error_rate * 100).toFixed(0)}%)`,
    formatMillis(s.duration_ms),
    s.servers.join(',') || '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 2 && i <= 5 && i !== 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

/** Milliseconds for people: `420 ms`, `3.2 s`, `2 min 5 s`. */
function formatMillis(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
