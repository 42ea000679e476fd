// The offline check of each detection rule over one session's calls: what the Prometheus rule
// of the same name looks for, over exact timestamps. One function per rule.
import type { Thresholds, ThresholdRule } from '../detection/thresholds.js';
import { systemWrite, unboundedRead, writeWithoutTurn } from './content-checks.js';
import type { CallRecord, Crossing } from './thresholds.js';

/** A call as the checks read it: times in ms, missing values defaulted. */
export interface Call {
  t: number;
  tool: string;
  server: string;
  bytes: number;
  latencyMs: number;
  error: boolean;
  caller: string | null;
  args: unknown;
  turn: string | null;
}

export function toCall(r: CallRecord): Call {
  return {
    t: Date.parse(r.timestamp),
    tool: r.tool_name ?? '(unknown)',
    server: r.server_id ?? '(unknown)',
    bytes: r.result_size_bytes ?? 0,
    latencyMs: r.latency_ms ?? 0,
    error: r.error !== null && r.error !== undefined && r.error !== '',
    caller: r.caller_identity || null,
    args: r.tool_parameters ?? null,
    turn: r.llm_turn_id || null,
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
function slidingMax(
  calls: readonly Call[],
  windowMs: number,
  score: (count: number, bytes: number) => number,
) {
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

type RuleCheck = (calls: readonly Call[], t: Thresholds) => Crossing | undefined;

/** The largest single result above its tool's limit. */
function bulkExtraction(calls: readonly Call[], t: Thresholds): Crossing | undefined {
  const bulk = calls
    .map((c) => ({ c, limit: t.bulk_extraction.per_tool_bytes[c.tool] ?? t.bulk_extraction.default_bytes }))
    .filter(({ c, limit }) => c.bytes > limit)
    .sort((a, b) => b.c.bytes - a.c.bytes)[0];
  if (!bulk) return undefined;
  return {
    rule: 'bulk_extraction',
    detail: `${bulk.c.tool} returned ${bytes(bulk.c.bytes)} in one call (> ${bytes(bulk.limit)})`,
  };
}

function callFrequency(calls: readonly Call[], t: Thresholds): Crossing | undefined {
  const freq = t.call_frequency;
  const burst = slidingMax(calls, freq.window_seconds * 1000, (count) => count);
  if (burst.count <= freq.max_calls) return undefined;
  return {
    rule: 'call_frequency',
    detail: `${burst.count} calls within ${freq.window_seconds} s (> ${freq.max_calls})`,
  };
}

function missingCaller(calls: readonly Call[], t: Thresholds): Crossing | undefined {
  const anonymous = calls.filter(
    (c) => c.caller === null && t.missing_caller.sensitive_tools.includes(c.tool),
  );
  if (anonymous.length === 0) return undefined;
  const tools = [...new Set(anonymous.map((c) => c.tool))].join(', ');
  return {
    rule: 'missing_caller',
    detail: `${anonymous.length} call(s) to ${tools} with no caller identity`,
  };
}

/** The first call matching `first`, then a later call within `windowMs` matching `then(first)`. */
function firstSequence(
  calls: readonly Call[],
  windowMs: number,
  first: (c: Call) => boolean,
  then: (c: Call, before: Call) => boolean,
): [Call, Call] | undefined {
  for (let i = 0; i < calls.length; i++) {
    const a = calls[i]!;
    if (!first(a)) continue;
    for (let j = i + 1; j < calls.length && calls[j]!.t - a.t <= windowMs; j++) {
      if (then(calls[j]!, a)) return [a, calls[j]!];
    }
  }
  return undefined;
}

function errorThenRetry(calls: readonly Call[], t: Thresholds): Crossing | undefined {
  const found = firstSequence(
    calls,
    t.error_then_retry.window_seconds * 1000,
    (c) => c.error,
    (c, failed) => c.tool !== failed.tool,
  );
  if (!found) return undefined;
  const [failed, next] = found;
  return {
    rule: 'error_then_retry',
    detail: `${failed.tool} failed, then ${next.tool} was called ${((next.t - failed.t) / 1000).toFixed(1)} s later`,
  };
}

function sessionExfiltration(calls: readonly Call[], t: Thresholds): Crossing | undefined {
  const ex = t.session_exfiltration;
  const byBytes = slidingMax(calls, ex.window_seconds * 1000, (_count, sum) => sum);
  const byCount = slidingMax(calls, ex.window_seconds * 1000, (count) => count);
  if (byBytes.bytes <= ex.max_bytes && byCount.count <= ex.max_calls) return undefined;
  const why =
    byBytes.bytes > ex.max_bytes
      ? `${bytes(byBytes.bytes)} returned (> ${bytes(ex.max_bytes)})`
      : `${byCount.count} calls (> ${ex.max_calls})`;
  return { rule: 'session_exfiltration', detail: `${why} within ${ex.window_seconds / 60} min` };
}

function dataThenEgress(calls: readonly Call[], t: Thresholds): Crossing | undefined {
  const de = t.data_then_egress;
  const minData = de.min_data_bytes ?? 0;
  const found = firstSequence(
    calls,
    de.window_seconds * 1000,
    (c) => !c.error && de.data_tools.includes(c.tool) && c.bytes >= minData,
    (c) => de.egress_tools.includes(c.tool),
  );
  if (!found) return undefined;
  const [data, egress] = found;
  return { rule: 'data_then_egress', detail: `${data.tool} (${bytes(data.bytes)}) then ${egress.tool}` };
}

/** A hanging call if there is one, else the first tool whose p95 over the window is above its limit. */
function latency(calls: readonly Call[], t: Thresholds): Crossing | undefined {
  const lat = t.latency;
  const hanging = calls
    .filter((c) => c.latencyMs > lat.hanging_seconds * 1000)
    .sort((a, b) => b.latencyMs - a.latencyMs)[0];
  if (hanging) {
    return {
      rule: 'latency',
      detail: `${hanging.tool} ran ${(hanging.latencyMs / 1000).toFixed(1)} s (hanging: > ${lat.hanging_seconds} s)`,
    };
  }
  for (const tool of new Set(calls.map((c) => c.tool))) {
    const limit = (lat.per_tool_p95_seconds[tool] ?? lat.p95_seconds) * 1000;
    const mine = calls.filter((c) => c.tool === tool);
    const worst = mine.reduce((max, end) => {
      const inWindow = mine.filter((c) => c.t <= end.t && end.t - c.t < lat.window_seconds * 1000);
      if (inWindow.length < (lat.min_calls ?? 1)) return max;
      return Math.max(max, p95(inWindow.map((c) => c.latencyMs)));
    }, 0);
    if (worst > limit) {
      return { rule: 'latency', detail: `${tool} p95 ${(worst / 1000).toFixed(1)} s (> ${limit / 1000} s)` };
    }
  }
  return undefined;
}

/** The first server or tool whose error ratio over a window of at least min_calls calls is too high. */
function errorBurst(calls: readonly Call[], t: Thresholds): Crossing | undefined {
  const eb = t.error_burst;
  const groups = new Map<string, Call[]>();
  for (const c of calls) {
    for (const key of [`server ${c.server}`, `tool ${c.tool}`]) {
      const group = groups.get(key);
      if (group) group.push(c);
      else groups.set(key, [c]);
    }
  }
  for (const [key, group] of groups) {
    let start = 0;
    let errors = 0;
    for (let end = 0; end < group.length; end++) {
      if (group[end]!.error) errors++;
      while (group[end]!.t - group[start]!.t >= eb.window_seconds * 1000) if (group[start++]!.error) errors--;
      const count = end - start + 1;
      if (count >= eb.min_calls && errors / count > eb.ratio) {
        return {
          rule: 'error_burst',
          detail: `${key}: ${errors}/${count} calls failed within ${eb.window_seconds / 60} min (> ${eb.ratio * 100}%)`,
        };
      }
    }
  }
  return undefined;
}

/** The offline check of each rule the demo evaluates (rules without one are left to Prometheus). */
export const RULE_CHECKS: Partial<Record<ThresholdRule, RuleCheck>> = {
  bulk_extraction: bulkExtraction,
  call_frequency: callFrequency,
  missing_caller: missingCaller,
  error_then_retry: errorThenRetry,
  session_exfiltration: sessionExfiltration,
  data_then_egress: dataThenEgress,
  latency,
  error_burst: errorBurst,
  system_write: systemWrite,
  unbounded_read: unboundedRead,
  write_without_turn: writeWithoutTurn,
};
