// Which detection thresholds a session crossed, computed from evidence-log records with the same
// numbers the Prometheus alert rules use (collector/rules/thresholds.json, the one definition).
// Pure: records in, crossings out, so the demo table and the unit tests agree with each other.
// This is an offline approximation of the rules (exact windows over exact timestamps, where
// Prometheus sees rates over scrape intervals); near a threshold the two can differ by a call.
import type { AuditRecord } from '../evidence/record.js';
import type { Thresholds, ThresholdRule } from '../detection/thresholds.js';

export type { Thresholds, ThresholdRule };
import { RULE_CHECKS, toCall } from './threshold-rules.js';
import thresholdsJson from '../../collector/rules/thresholds.json' with { type: 'json' };

/** Keys the offline evaluation ignores (alert timing: `for`, keep-firing) are left out of the type. */
export const DEFAULT_THRESHOLDS: Thresholds = thresholdsJson as Thresholds;

/** Display order: size, frequency and identity first, then sequences, latency and errors. */
export const RULE_ORDER: readonly ThresholdRule[] = [
  'bulk_extraction',
  'call_frequency',
  'missing_caller',
  'error_then_retry',
  'session_exfiltration',
  'data_then_egress',
  'latency',
  'error_burst',
  'system_write',
  'unbounded_read',
  'write_without_turn',
];

export interface Crossing {
  rule: ThresholdRule;
  /** One sentence: what crossed, and the threshold it crossed. */
  detail: string;
}

/** The record fields the evaluation reads (a subset of AuditRecord, so test fixtures stay small). */
export type CallRecord = Pick<
  AuditRecord,
  | 'timestamp'
  | 'session_id'
  | 'caller_identity'
  | 'tool_name'
  | 'result_size_bytes'
  | 'latency_ms'
  | 'server_id'
  | 'error'
  | 'method'
  | 'span_id'
  | 'parent_span_id'
  | 'side'
> &
  Partial<Pick<AuditRecord, 'tool_parameters' | 'llm_turn_id'>>;

/** Key for records without a session id: still evaluated, shown as one group. */
export const NO_SESSION = '(none)';

/**
 * The tool calls in `records`, each counted once: a server-side record whose parent is a
 * client-side record of the same call is the same call seen twice (the collector counts it once too:
 * docs/architecture.md, "The metric contract").
 * Non-tool methods (initialize, tools/list) and the log's control lines are dropped.
 */
export function toolCalls<R extends Partial<CallRecord>>(records: Iterable<R>): (R & CallRecord)[] {
  const all = [...records].filter(
    (r): r is R & CallRecord =>
      typeof r === 'object' && r !== null && r.method === 'tools/call' && typeof r.timestamp === 'string',
  );
  const clientSpans = new Set(all.filter((r) => r.side === 'client').map((r) => r.span_id));
  return all.filter((r) => !(r.side === 'server' && r.parent_span_id && clientSpans.has(r.parent_span_id)));
}

/** Crossings of one session's calls (already deduplicated by toolCalls), in RULE_ORDER. */
export function evaluateSession(
  records: readonly CallRecord[],
  t: Thresholds = DEFAULT_THRESHOLDS,
): Crossing[] {
  // Stable sort by start time: records of concurrent calls keep their log order.
  const calls = records.map(toCall).sort((a, b) => a.t - b.t);
  if (calls.length === 0) return [];
  return RULE_ORDER.flatMap((rule) => RULE_CHECKS[rule]?.(calls, t) ?? []);
}

/** Crossings per session id (records without one are grouped under NO_SESSION). */
export function evaluateThresholds(
  records: Iterable<Partial<CallRecord>>,
  t: Thresholds = DEFAULT_THRESHOLDS,
): Map<string, Crossing[]> {
  const sessions = new Map<string, CallRecord[]>();
  for (const r of toolCalls(records)) {
    const key = r.session_id ?? NO_SESSION;
    const calls = sessions.get(key);
    if (calls) calls.push(r);
    else sessions.set(key, [r]);
  }
  const out = new Map<string, Crossing[]>();
  for (const [id, calls] of sessions) out.set(id, evaluateSession(calls, t));
  return out;
}
