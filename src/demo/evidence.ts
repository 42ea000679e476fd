// Reads the demo's evidence log back: every audit record of every segment, in chain order, plus
// the per-session summary (src/evidence/report.ts) and the thresholds each session crossed.
import { listSegments, segmentPath } from '../evidence/log-files.js';
import type { AuditRecord } from '../evidence/record.js';
import { SessionAggregator, formatBytes, readAuditRecords, type SessionSummary } from '../evidence/report.js';
import { NO_SESSION, RULE_ORDER, evaluateThresholds, type Crossing, type Thresholds } from './thresholds.js';

export async function logFiles(base: string): Promise<string[]> {
  return (await listSegments(base)).map((n) => segmentPath(base, n));
}

/** Records only: control lines and unparseable lines are verify's business, not the table's. */
export async function readRecords(files: readonly string[]): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for await (const record of readAuditRecords(files)) if (record !== null) out.push(record);
  return out;
}

export interface SessionRow {
  summary: SessionSummary;
  crossed: Crossing[];
}

export function sessionRows(records: readonly AuditRecord[], thresholds?: Thresholds): SessionRow[] {
  const agg = new SessionAggregator();
  for (const r of records) agg.add(r);
  const crossings = evaluateThresholds(records, thresholds);
  return agg
    .sessions()
    .map((summary) => ({ summary, crossed: crossings.get(summary.session_id ?? NO_SESSION) ?? [] }));
}

/** The demo's table: one line per session, then what each crossed, one line per threshold. */
export function formatDemoTable(rows: readonly SessionRow[]): string {
  const header = ['SESSION', 'CALLER', 'CALLS', 'TOOLS', 'BYTES RETURNED', 'ERRORS', 'THRESHOLDS CROSSED'];
  const cells = rows.map(({ summary: s, crossed }) => [
    s.session_id ?? NO_SESSION,
    [...s.callers, ...(s.calls_without_caller > 0 ? [`(none)×${s.calls_without_caller}`] : [])].join(', ') ||
      '-',
    String(s.calls),
    String(s.tools.length),
    formatBytes(s.total_bytes),
    String(s.errors),
    crossed.length === 0
      ? 'none'
      : [...crossed]
          .sort(byRule)
          .map((c) => c.rule)
          .join(', '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const numeric = new Set([2, 3, 4, 5]);
  const line = (r: string[]) =>
    r
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(header), ...cells.map(line)];
  for (const { summary, crossed } of rows) {
    if (crossed.length === 0) continue;
    out.push('', `${summary.session_id ?? NO_SESSION} (tools: ${summary.tools.join(', ')}):`);
    for (const c of [...crossed].sort(byRule)) out.push(`  ✗ ${c.rule.padEnd(20)} ${c.detail}`);
  }
  return out.join('\n');
}

function byRule(a: Crossing, b: Crossing): number {
  return RULE_ORDER.indexOf(a.rule) - RULE_ORDER.indexOf(b.rule);
}
