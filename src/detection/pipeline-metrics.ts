// The audit pipeline's own health metrics as Prometheus stores them: the collector's
// self-telemetry (service.telemetry.metrics, scraped from its own endpoint; names as
// otelcol-mcp v0.161 exposes them, counters without a _total suffix) and the SDK's loss counter.
// `mcp-audit doctor` and the overview dashboard's pipeline row read them.

/** By role. */
export const PIPELINE_METRICS = {
  /** A gauge every collector exposes: which collectors report at all. */
  memory: 'otelcol_process_memory_rss',
  accepted: 'otelcol_receiver_accepted_spans',
  refused: 'otelcol_receiver_refused_spans',
  receiverFailed: 'otelcol_receiver_failed_spans',
  sendFailed: 'otelcol_exporter_send_failed_spans',
  enqueueFailed: 'otelcol_exporter_enqueue_failed_spans',
  queueSize: 'otelcol_exporter_queue_size',
  queueCapacity: 'otelcol_exporter_queue_capacity',
  inFlight: 'otelcol_exporter_in_flight_requests',
  memoryLimiterRefused: 'otelcol_processor_memory_limiter_refused_spans',
  sdkDropped: 'mcp_audit_dropped_spans_total',
} as const;

/** The counters among them (the rest are gauges): read only through rate() or a range count. */
export const PIPELINE_COUNTERS: readonly string[] = [
  PIPELINE_METRICS.accepted,
  PIPELINE_METRICS.refused,
  PIPELINE_METRICS.receiverFailed,
  PIPELINE_METRICS.sendFailed,
  PIPELINE_METRICS.enqueueFailed,
  PIPELINE_METRICS.memoryLimiterRefused,
  PIPELINE_METRICS.sdkDropped,
];

/** Labels of the pipeline metrics a query may group by. */
export const PIPELINE_LABELS = [
  'exporter',
  'receiver',
  'transport',
  'processor',
  'data_type',
  'reason',
  'destination',
] as const;
