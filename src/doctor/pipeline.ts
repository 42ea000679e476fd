// Reads the audit pipeline's own health: the collector's self-telemetry as Prometheus scraped it
// (spans refused by the receiver, failed and unqueued exports per exporter, exporter queue fill,
// memory-limiter refusals), the spans SDKs counted as lost (mcp_audit_dropped_spans_total), and
// the collector's audit file (torn lines a crash left). Counts over the lookback are reset-aware
// (src/detection/range-total.ts): a collector restart sets its counters back to zero.
import { readAuditFile, type AuditFileSummary } from '../evidence/collector-audit-file.js';
import { rangeTotal } from '../detection/range-total.js';
import { durationLiteral } from '../detection/rules/promql.js';
import { parseDuration } from './duration.js';
import { PIPELINE_METRICS } from '../detection/pipeline-metrics.js';
import { getJson, settle, type Endpoint, type Settled } from './sources.js';

export { PIPELINE_METRICS };

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export interface QueueFill {
  exporter: string;
  size: number;
  capacity: number;
  /** Largest size seen in the lookback. */
  peak: number;
}

export interface PipelineData {
  /** Collector instances whose self-telemetry Prometheus holds in the lookback. */
  collectors: Settled<number>;
  accepted: Settled<number>;
  refused: Settled<number>;
  receiverFailed: Settled<number>;
  /** By exporter. */
  sendFailed: Settled<Sample[]>;
  enqueueFailed: Settled<Sample[]>;
  queues: Settled<QueueFill[]>;
  memoryLimiterRefused: Settled<number>;
  /** By reason and destination; [] when no SDK ever reported a loss (the counter starts then). */
  sdkDropped: Settled<Sample[]>;
  /** One entry per --audit-file. */
  auditFiles: Array<{ file: string; summary: Settled<AuditFileSummary> }>;
}

export interface PipelineQuery {
  lookback: string;
  lookbackSeconds: number;
  /** Prometheus' scrape interval, the step of the range totals (default 15 s). */
  scrapeSeconds?: number;
  timeoutMs: number;
  auditFiles: string[];
}

/** Beyond this many steps a range total gets coarser (cheaper, exact only between restarts). */
const MAX_STEPS = 20_000;

/** The subquery step of the range totals: the scrape interval, which makes them exact across
 * collector restarts (range-total.ts), coarser only past MAX_STEPS. */
export function totalStep(lookbackSeconds: number, scrapeSeconds?: number): string {
  return durationLiteral(stepSeconds(lookbackSeconds, scrapeSeconds));
}

function stepSeconds(lookbackSeconds: number, scrapeSeconds = 15): number {
  return Math.max(scrapeSeconds, Math.ceil(lookbackSeconds / MAX_STEPS));
}

/** The shortest scrape interval of Prometheus' active targets; undefined when it cannot be read. */
export async function readScrapeInterval(ep: Endpoint, timeoutMs: number): Promise<number | undefined> {
  try {
    const body = (await getJson(ep, 'api/v1/targets', { state: 'active' }, 'Prometheus', timeoutMs)) as {
      data?: { activeTargets?: Array<{ scrapeInterval?: string }> };
    };
    const seconds = (body.data?.activeTargets ?? [])
      .map((t) => parseDuration(t.scrapeInterval ?? ''))
      .filter((s): s is number => s !== null);
    return seconds.length ? Math.min(...seconds) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * When to evaluate the range totals: the next multiple of their step. A subquery's steps fall on
 * multiples of the step, so evaluated now its last step can be up to a step old and miss the
 * latest samples; evaluated at the next multiple, its last step covers them.
 */
export function totalTime(lookbackSeconds: number, scrapeSeconds?: number, nowMs = Date.now()): string {
  const step = stepSeconds(lookbackSeconds, scrapeSeconds);
  return String(Math.ceil(nowMs / 1000 / step) * step);
}

export async function readPipeline(ep: Endpoint, q: PipelineQuery): Promise<PipelineData> {
  const t = q.timeoutMs;
  const range = { range: q.lookback, step: totalStep(q.lookbackSeconds, q.scrapeSeconds) };
  const at = totalTime(q.lookbackSeconds, q.scrapeSeconds);
  const total = (metric: string): Promise<number> =>
    vector(ep, rangeTotal(metric, range), t, at).then((v) => v[0]?.value ?? 0);
  const totalBy = (metric: string, by: string[]): Promise<Sample[]> =>
    vector(ep, rangeTotal(metric, range, by), t, at).then((v) => v.filter((s) => s.value > 0));
  const M = PIPELINE_METRICS;
  const [collectors, accepted, refused, receiverFailed, sendFailed, enqueueFailed, queues, memory, sdk] =
    await Promise.all([
      settle(
        vector(ep, `count(last_over_time(${M.memory}[${q.lookback}]))`, t).then((v) => v[0]?.value ?? 0),
      ),
      settle(total(M.accepted)),
      settle(total(M.refused)),
      settle(total(M.receiverFailed)),
      settle(totalBy(M.sendFailed, ['exporter'])),
      settle(totalBy(M.enqueueFailed, ['exporter'])),
      settle(readQueues(ep, q.lookback, t)),
      settle(total(M.memoryLimiterRefused)),
      settle(totalBy(M.sdkDropped, ['reason', 'destination'])),
    ]);
  const auditFiles = await Promise.all(
    q.auditFiles.map(async (file) => ({ file, summary: await settle(readAuditFileReason(file)) })),
  );
  return {
    collectors,
    accepted,
    refused,
    receiverFailed,
    sendFailed,
    enqueueFailed,
    queues,
    memoryLimiterRefused: memory,
    sdkDropped: sdk,
    auditFiles,
  };
}

async function readQueues(ep: Endpoint, lookback: string, timeoutMs: number): Promise<QueueFill[]> {
  const M = PIPELINE_METRICS;
  const [size, capacity, peak] = await Promise.all([
    vector(ep, `max by (exporter) (${M.queueSize})`, timeoutMs),
    vector(ep, `max by (exporter) (${M.queueCapacity})`, timeoutMs),
    vector(ep, `max by (exporter) (max_over_time(${M.queueSize}[${lookback}]))`, timeoutMs),
  ]);
  const of = (v: Sample[], exporter: string) => v.find((s) => s.labels.exporter === exporter)?.value;
  return capacity
    .map((c) => ({
      exporter: c.labels.exporter ?? '(unnamed)',
      capacity: c.value,
      size: of(size, c.labels.exporter ?? '') ?? 0,
      peak: of(peak, c.labels.exporter ?? '') ?? 0,
    }))
    .sort((a, b) => a.exporter.localeCompare(b.exporter));
}

async function readAuditFileReason(file: string): Promise<AuditFileSummary> {
  try {
    return await readAuditFile(file);
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new Error(
      `${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : 'cannot read the file'}`,
    );
  }
}

/** An instant query, now or at `time` (Unix seconds). */
export async function vector(
  ep: Endpoint,
  expr: string,
  timeoutMs: number,
  time?: string,
): Promise<Sample[]> {
  const params: Record<string, string> = time ? { query: expr, time } : { query: expr };
  const body = (await getJson(ep, 'api/v1/query', params, 'Prometheus', timeoutMs)) as {
    status?: string;
    data?: { result?: Array<{ metric?: Record<string, string>; value?: [number, string] }> };
  };
  if (body.status !== 'success') throw new Error(`Prometheus query failed: ${expr}`);
  return (body.data?.result ?? []).map((r) => ({ labels: r.metric ?? {}, value: Number(r.value?.[1]) }));
}
