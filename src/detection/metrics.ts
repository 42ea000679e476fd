// The metric contract (docs/architecture.md, "The metric contract"): what the collector derives from
// tools/call spans and Prometheus stores. The alert rules, the dashboards and the tests read it; the
// collector config (collector/config.yaml) must produce exactly these names, labels and buckets.
import {
  METRIC_IN_FLIGHT_MARKS,
  METRIC_PII_RESULT_CALLS,
  METRIC_RISKY_CALLS,
  METRIC_TURN_CALLS,
  METRIC_RESULT_BYTES,
  METRIC_RESULT_SIZE,
  METRIC_TOOL_CALL_DURATION,
  METRIC_TOOL_CALLS,
  METRIC_TOOL_ERRORS,
} from '../semconv.js';

export { METRIC_LABELS } from '../semconv.js';

/** Metric names exactly as Prometheus sees them, by role. */
export const METRICS = {
  calls: METRIC_TOOL_CALLS,
  errors: METRIC_TOOL_ERRORS,
  resultBytes: METRIC_RESULT_BYTES,
  resultSize: METRIC_RESULT_SIZE,
  duration: METRIC_TOOL_CALL_DURATION,
  riskyCalls: METRIC_RISKY_CALLS,
  piiResultCalls: METRIC_PII_RESULT_CALLS,
  turnCalls: METRIC_TURN_CALLS,
  inFlightMarks: METRIC_IN_FLIGHT_MARKS,
} as const;

/** Bucket bounds of the two histograms, as configured in the collector. */
export const RESULT_SIZE_BOUNDS = [1024, 10240, 102400, 1048576, 5242880, 52428800] as const;
export const DURATION_BOUNDS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
] as const;
