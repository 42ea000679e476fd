// Settings of the span queues and the metrics reader, from the environment: audit defaults
// (a queue sized for bursts, a short batch delay, a 2 s exit deadline) where the OTel defaults
// suit tracing, and the standard OTEL_BSP_* / OTEL_METRIC_* variables honoured.

import { createRequire } from 'node:module';
import type { MetricReader } from '@opentelemetry/sdk-metrics';
import { ENV_SHUTDOWN_TIMEOUT } from '../env.js';
import { OtlpHttpMetricExporter } from './otlp-http-exporter.js';

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 2000;
// Sized for bursts (the tracing default is 2,048): a span is a few KiB, so 100,000 spans stay
// within a few hundred MiB in the worst case of a long outage, and a one-process burst of 50,000
// calls fits whole.
const DEFAULT_MAX_QUEUE_SIZE = 100_000;
const DEFAULT_EXPORT_BATCH_SIZE = 1024;
const DEFAULT_SCHEDULE_DELAY_MS = 1000;

export function intEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, warnings: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= 0) return n;
  warnings.push(`mcp-audit: ignoring ${name}=${JSON.stringify(raw)} (not a whole number); using ${fallback}`);
  return fallback;
}

export interface QueueSettings {
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
  shutdownTimeoutMillis: number;
}

export function queueSettings(env: NodeJS.ProcessEnv, warnings: string[]): QueueSettings {
  return {
    maxQueueSize: intEnv(env, 'OTEL_BSP_MAX_QUEUE_SIZE', DEFAULT_MAX_QUEUE_SIZE, warnings),
    maxExportBatchSize: intEnv(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', DEFAULT_EXPORT_BATCH_SIZE, warnings),
    scheduledDelayMillis: intEnv(env, 'OTEL_BSP_SCHEDULE_DELAY', DEFAULT_SCHEDULE_DELAY_MS, warnings),
    exportTimeoutMillis: intEnv(env, 'OTEL_BSP_EXPORT_TIMEOUT', 30_000, warnings),
    shutdownTimeoutMillis: intEnv(env, ENV_SHUTDOWN_TIMEOUT, DEFAULT_SHUTDOWN_TIMEOUT_MS, warnings),
  };
}

export function otlpProtocol(env: NodeJS.ProcessEnv, signal: 'TRACES' | 'METRICS'): string {
  return (
    env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`] ||
    env.OTEL_EXPORTER_OTLP_PROTOCOL ||
    'http/protobuf'
  ).toLowerCase();
}

/**
 * OTLP/HTTP metrics (the default) go through our exporter, whose sockets never hold the process
 * open at exit; any other OTEL_METRICS_EXPORTER or protocol is left to the OTel SDK's own setup.
 */
export function metricReaders(
  env: NodeJS.ProcessEnv,
  settings: QueueSettings,
  warnings: string[],
): { metricReaders?: MetricReader[] } {
  const names = (env.OTEL_METRICS_EXPORTER || 'otlp').split(',').map((s) => s.trim().toLowerCase());
  const protocol = otlpProtocol(env, 'METRICS');
  if (names.length !== 1 || names[0] !== 'otlp' || protocol === 'grpc') return {};
  const temporality = (env.OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE ?? '').toLowerCase();
  const interval = Math.max(100, intEnv(env, 'OTEL_METRIC_EXPORT_INTERVAL', 60_000, warnings));
  const timeout = Math.max(
    100,
    intEnv(env, 'OTEL_METRIC_EXPORT_TIMEOUT', settings.exportTimeoutMillis, warnings),
  );
  // Loaded here, not at start-up: only a process that exports metrics needs the metrics SDK.
  const { PeriodicExportingMetricReader } = createRequire(import.meta.url)(
    '@opentelemetry/sdk-metrics',
  ) as typeof import('@opentelemetry/sdk-metrics');
  const reader = new PeriodicExportingMetricReader({
    exporter: new OtlpHttpMetricExporter(
      protocol === 'http/json' ? 'json' : 'protobuf',
      temporality === 'delta' ? 'delta' : 'cumulative',
    ),
    exportIntervalMillis: interval,
    // The reader refuses a timeout longer than its interval.
    exportTimeoutMillis: Math.min(interval, timeout),
  });
  return { metricReaders: [reader] };
}
