// The metric contract (DESIGN.md section 6): what the collector derives from tools/call spans and
// Prometheus stores. The alert rules, the dashboards and the tests read these names; the collector
// config (collector/config.yaml) must produce exactly them.

/** Metric names exactly as Prometheus sees them. */
export const METRICS = {
  calls: 'mcp_audit_tool_calls_total',
  errors: 'mcp_audit_tool_errors_total',
  resultBytes: 'mcp_audit_result_bytes_total',
  resultSize: 'mcp_audit_result_size_bytes',
  duration: 'mcp_audit_tool_call_duration_seconds',
} as const;

/** Labels of every contract metric; a missing value is the literal `none`. */
export const METRIC_LABELS = [
  'session_id',
  'tool',
  'caller',
  'server',
  'error_type',
  'service_name',
] as const;

/** Bucket bounds of the two histograms, as configured in the collector. */
export const RESULT_SIZE_BOUNDS = [1024, 10240, 102400, 1048576, 5242880, 52428800] as const;
export const DURATION_BOUNDS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
] as const;
