// Which detection thresholds a session crossed, computed from evidence-log records with the same
// numbers the Prometheus alert rules use (collector/rules/thresholds.json, the one definition).
// Pure: records in, crossings out, so the demo table and the unit tests agree with each other.
// This is an offline approximation of the rules (exact windows over exact timestamps, where
// Prometheus sees rates over scrape intervals); near a threshold the two can differ by a call.
import type { AuditRecord } from '../evidence/record.js';
import type { Thresholds, ThresholdRule } from '../detection/thresholds.js';

export type { Thresholds, ThresholdRule };
import thresholdsJson from '../../collector/rules/thresholds.json' with { type: 'json' };

/** Keys the offline evaluation ignores (alert timing: `for`, keep-firing) are left out of the type. */
export const DEFAULT_THRESHOLDS: Thresholds = thresholdsJson as Thresholds;

/** Display order: the seed's three rules first, then issue 5's. */
export const RULE_ORDER: readonly ThresholdRule[] = [
  'bulk_extraction',
  'call_frequency',
  'missing_caller',
  'error_then_retry',
  'session_exfiltration',
  'data_then_egress',
  'latency',
  'error_burst',
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
>;

/** Key for records without a session id: still evaluated, shown as one group. */
export const NO_SESSION = '(none)';

/**
 * The tool calls in `records`, each counted once: a server-side record whose parent is a
 * client-side record of the same call is the same call seen twice (DESIGN.md section 3).
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

interface Call {
  t: number;
  tool: string;
  server: string;
  bytes: number;
  latencyMs: number;
  error: boolean;
  caller: string | null;
}

function toCall(r: CallRecord): Call {
  return {
    t: Date.parse(r.timestamp),
    tool: r.tool_name ?? '(unknown)',
    server: r.server_id ?? '(unknown)',
    bytes: r.result_size_bytes ?? 0,
    latencyMs: r.latency_ms ?? 0,
    error: r.error !== null && r.error !== undefined && r.error !== '',
    caller: r.caller_identity || null,
  };
}

const KIB = 1024;
function bytes(n: number): string {
  if (n >= KIB * KIB) return `${(n / KIB / KIB).toFixed(1)} MiB`;
  if (n >= KIB) return `${(n / KIB).toFixed(1)} KiB`;
  return `${n} B`;
}

/**
 * Largest aggregate over any window [t - window, t] ending at a call. `calls` must be sorted by
 * time; returns the best window's count and byte sum for the predicate chosen by the caller.
 */
function slidingMax(calls: Call[], windowMs: number, score: (count: number, bytes: number) => number) {
  let best = { count: 0, bytes: 0, score: -Infinity };
  let start = 0;
  let sum = 0;
  for (let end = 0; end < calls.length; end++) {
    sum += calls[end]!.bytes;
    while (calls[end]!.t - calls[start]!.t >= windowMs) sum -= calls[start++]!.bytes;
    const count = end - start + 1;
    const s = score(count, sum);
    if (s > best.score) best = { count, bytes: sum, score: s };
  }
  return best;
}

function p95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(0.95 * sorted.length) - 1)] ?? 0;
}

/** Crossings of one session's calls (already deduplicated by toolCalls), in RULE_ORDER. */
export function evaluateSession(
  records: readonly CallRecord[],
  t: Thresholds = DEFAULT_THRESHOLDS,
): Crossing[] {
  // Stable sort by start time: records of concurrent calls keep their log order.
  const calls = records.map(toCall).sort((a, b) => a.t - b.t);
  const out: Crossing[] = [];
  if (calls.length === 0) return out;

  const bulk = calls
    .map((c) => ({ c, limit: t.bulk_extraction.per_tool_bytes[c.tool] ?? t.bulk_extraction.default_bytes }))
    .filter(({ c, limit }) => c.bytes > limit)
    .sort((a, b) => b.c.bytes - a.c.bytes)[0];
  if (bulk) {
    out.push({
      rule: 'bulk_extraction',
      detail: `${bulk.c.tool} returned ${bytes(bulk.c.bytes)} in one call (> ${bytes(bulk.limit)})`,
    });
  }

  const freq = t.call_frequency;
  const burst = slidingMax(calls, freq.window_seconds * 1000, (count) => count);
  if (burst.count > freq.max_calls) {
    out.push({
      rule: 'call_frequency',
      detail: `${burst.count} calls within ${freq.window_seconds} s (> ${freq.max_calls})`,
    });
  }

  const anonymous = calls.filter(
    (c) => c.caller === null && t.missing_caller.sensitive_tools.includes(c.tool),
  );
  if (anonymous.length > 0) {
    const tools = [...new Set(anonymous.map((c) => c.tool))].join(', ');
    out.push({
      rule: 'missing_caller',
      detail: `${anonymous.length} call(s) to ${tools} with no caller identity`,
    });
  }

  const retryWindow = t.error_then_retry.window_seconds * 1000;
  retry: for (let i = 0; i < calls.length; i++) {
    const failed = calls[i]!;
    if (!failed.error) continue;
    for (let j = i + 1; j < calls.length && calls[j]!.t - failed.t <= retryWindow; j++) {
      if (calls[j]!.tool !== failed.tool) {
        out.push({
          rule: 'error_then_retry',
          detail: `${failed.tool} failed, then ${calls[j]!.tool} was called ${((calls[j]!.t - failed.t) / 1000).toFixed(1)} s later`,
        });
        break retry;
      }
    }
  }

  const ex = t.session_exfiltration;
  const byBytes = slidingMax(calls, ex.window_seconds * 1000, (_count, sum) => sum);
  const byCount = slidingMax(calls, ex.window_seconds * 1000, (count) => count);
  if (byBytes.bytes > ex.max_bytes || byCount.count > ex.max_calls) {
    const why =
      byBytes.bytes > ex.max_bytes
        ? `${bytes(byBytes.bytes)} returned (> ${bytes(ex.max_bytes)})`
        : `${byCount.count} calls (> ${ex.max_calls})`;
    out.push({ rule: 'session_exfiltration', detail: `${why} within ${ex.window_seconds / 60} min` });
  }

  const de = t.data_then_egress;
  const minData = de.min_data_bytes ?? 0;
  egress: for (let i = 0; i < calls.length; i++) {
    const data = calls[i]!;
    if (data.error || !de.data_tools.includes(data.tool) || data.bytes < minData) continue;
    for (let j = i + 1; j < calls.length && calls[j]!.t - data.t <= de.window_seconds * 1000; j++) {
      if (de.egress_tools.includes(calls[j]!.tool)) {
        out.push({
          rule: 'data_then_egress',
          detail: `${data.tool} (${bytes(data.bytes)}) then ${calls[j]!.tool}`,
        });
        break egress;
      }
    }
  }

  const lat = t.latency;
  const hanging = calls
    .filter((c) => c.latencyMs > lat.hanging_seconds * 1000)
    .sort((a, b) => b.latencyMs - a.latencyMs)[0];
  if (hanging) {
    out.push({
      rule: 'latency',
      detail: `${hanging.tool} ran ${(hanging.latencyMs / 1000).toFixed(1)} s (hanging: > ${lat.hanging_seconds} s)`,
    });
  } else {
    for (const tool of new Set(calls.map((c) => c.tool))) {
      const limit = (lat.per_tool_p95_seconds[tool] ?? lat.p95_seconds) * 1000;
      const mine = calls.filter((c) => c.tool === tool);
      const worst = mine.reduce((max, end) => {
        const inWindow = mine.filter((c) => c.t <= end.t && end.t - c.t < lat.window_seconds * 1000);
        if (inWindow.length < (lat.min_calls ?? 1)) return max;
        return Math.max(max, p95(inWindow.map((c) => c.latencyMs)));
      }, 0);
      if (worst > limit) {
        out.push({
          rule: 'latency',
          detail: `${tool} p95 ${(worst / 1000).toFixed(1)} s (> ${limit / 1000} s)`,
        });
        break;
      }
    }
  }

  const eb = t.error_burst;
  const groups = new Map<string, Call[]>();
  for (const c of calls) {
    for (const key of [`server ${c.server}`, `tool ${c.tool}`]) {
      const group = groups.get(key);
      if (group) group.push(c);
      else groups.set(key, [c]);
    }
  }
  burst: for (const [key, group] of groups) {
    let start = 0;
    let errors = 0;
    for (let end = 0; end < group.length; end++) {
      if (group[end]!.error) errors++;
      while (group[end]!.t - group[start]!.t >= eb.window_seconds * 1000) if (group[start++]!.error) errors--;
      const count = end - start + 1;
      if (count >= eb.min_calls && errors / count > eb.ratio) {
        out.push({
          rule: 'error_burst',
          detail: `${key}: ${errors}/${count} calls failed within ${eb.window_seconds / 60} min (> ${eb.ratio * 100}%)`,
        });
        break burst;
      }
    }
  }

  return out;
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
