// Thresholds that would make a rule meaningless (a zero threshold, an empty tool list, a hanging
// time between histogram buckets) stop the generator with the key to fix.
import { DURATION_BOUNDS, METRICS } from '../metrics.js';
import type { Thresholds } from '../thresholds.js';

/** Throws an Error naming the first key of thresholds.json that no rule can be built from. */
export function validateThresholds(t: Thresholds): void {
  const positive = (what: string, v: unknown) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      throw new Error(`${what} must be a positive number`);
  };
  positive('bulk_extraction.default_bytes', t.bulk_extraction.default_bytes);
  for (const [tool, v] of Object.entries(t.bulk_extraction.per_tool_bytes))
    positive(`per_tool_bytes.${tool}`, v);
  positive('call_frequency.max_calls', t.call_frequency.max_calls);
  positive('session_exfiltration.max_bytes', t.session_exfiltration.max_bytes);
  positive('session_exfiltration.max_calls', t.session_exfiltration.max_calls);
  positive('latency.p95_seconds', t.latency.p95_seconds);
  for (const [tool, v] of Object.entries(t.latency.per_tool_p95_seconds))
    positive(`per_tool_p95_seconds.${tool}`, v);
  if (!(DURATION_BOUNDS as readonly number[]).includes(t.latency.hanging_seconds)) {
    throw new Error(
      `latency.hanging_seconds must be a bucket bound of ${METRICS.duration} (${DURATION_BOUNDS.join(', ')})`,
    );
  }
  const mark = t.latency.in_flight_mark_seconds;
  if (
    mark !== 0 &&
    !((DURATION_BOUNDS as readonly number[]).includes(mark) && mark < t.latency.hanging_seconds)
  ) {
    throw new Error(
      `latency.in_flight_mark_seconds must be 0 or a bucket bound of ${METRICS.duration} below hanging_seconds`,
    );
  }
  positive('write_without_turn.window_seconds', t.write_without_turn.window_seconds);
  if (!(t.error_burst.ratio > 0 && t.error_burst.ratio < 1))
    throw new Error('error_burst.ratio must be in (0, 1)');
  for (const [what, list] of [
    ['missing_caller.sensitive_tools', t.missing_caller.sensitive_tools],
    ['data_then_egress.data_tools', t.data_then_egress.data_tools],
    ['data_then_egress.egress_tools', t.data_then_egress.egress_tools],
    ['system_write.write_tools', t.system_write.write_tools],
    ['unbounded_read.sensitive_tools', t.unbounded_read.sensitive_tools],
    ['write_without_turn.write_tools', t.write_without_turn.write_tools],
  ] as const) {
    if (!Array.isArray(list) || list.length === 0) throw new Error(`${what} must be a non-empty list`);
  }
  const overlap = t.data_then_egress.data_tools.filter((x) => t.data_then_egress.egress_tools.includes(x));
  if (overlap.length > 0) throw new Error(`tools both data and egress: ${overlap.join(', ')}`);
  const minData = t.data_then_egress.min_data_bytes;
  if (minData !== undefined && !(typeof minData === 'number' && Number.isFinite(minData) && minData >= 0))
    throw new Error('data_then_egress.min_data_bytes must be a number >= 0');
  const step = t.alerting?.subquery_step_seconds ?? 1;
  if (!Number.isInteger(step) || step < 1)
    throw new Error('alerting.subquery_step_seconds must be an integer >= 1');
  const record = t.alerting?.ordering_record_seconds ?? 30;
  const shortest = Math.min(t.error_then_retry.window_seconds, t.data_then_egress.window_seconds);
  if (!Number.isInteger(record) || record < step || record % step !== 0 || record >= shortest)
    throw new Error(
      `alerting.ordering_record_seconds must be a multiple of subquery_step_seconds below the ordering windows (${shortest} s)`,
    );
}
