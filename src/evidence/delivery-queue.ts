// The span processor between the instrumented process and its exporter (the collector, or the
// evidence log). Unlike the SDK's BatchSpanProcessor it never loses a span silently (just over 300
// lines: queueing, retry and the shutdown deadline share one accounting of every span):
//
// - a bounded queue sized for bursts; a span that does not fit is counted (`queue_full`);
// - a failed batch that could succeed later (collector down, refusing, overloaded) goes back to
//   the head of the queue and is retried with capped exponential backoff for as long as the
//   collector stays away; only what overflows the queue meanwhile is lost, and counted;
// - a batch the collector refuses for good (a 4xx) is counted (`export_rejected`);
// - shutdown() delivers what it can before a deadline and counts the rest (`shutdown`), so a
//   process exits on time however many spans wait and whatever the collector does.
//
// Every loss goes to `onDrop`, which the SDK turns into a metric, a diag line and an evidence-log
// `dropped` record. Timers are unref'd: the queue never keeps the host process alive by itself.

import { context, TraceFlags } from '@opentelemetry/api';
import { ExportResultCode, suppressTracing, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import { ExportAttemptError } from './otlp-http-exporter.js';

export type DropReason = 'queue_full' | 'export_rejected' | 'shutdown';

export interface DeliveryQueueOptions {
  exporter: SpanExporter;
  /** Spans held at most (waiting, being retried or in flight). @default 100000 */
  maxQueueSize?: number;
  /** Spans per export request. @default 1024 */
  maxExportBatchSize?: number;
  /** A partial batch waits at most this long. @default 1000 */
  scheduledDelayMillis?: number;
  /** Export requests in flight at once. @default 2 */
  maxConcurrentExports?: number;
  /** An export that has not called back after this long counts as failed (retryable). @default 30000 */
  exportTimeoutMillis?: number;
  /** First retry delay after a failure; doubles up to maxRetryDelayMillis. @default 500 */
  initialRetryDelayMillis?: number;
  /** @default 5000 */
  maxRetryDelayMillis?: number;
  /** How long shutdown() may try to deliver before counting the rest as lost. @default 2000 */
  shutdownTimeoutMillis?: number;
  /** Every span not handed on, with why. Must not throw. */
  onDrop: (reason: DropReason, count: number, detail: string) => void;
  /** Called once when exports start failing and once when they succeed again. */
  onHealthChange?: (healthy: boolean, detail: string) => void;
}

export class DeliveryQueue implements SpanProcessor {
  private readonly exporter: SpanExporter;
  private readonly maxQueueSize: number;
  private readonly batchSize: number;
  private readonly delayMs: number;
  private readonly maxConcurrent: number;
  private readonly exportTimeoutMs: number;
  private readonly initialRetryMs: number;
  private readonly maxRetryMs: number;
  private readonly shutdownTimeoutMs: number;
  private readonly onDrop: DeliveryQueueOptions['onDrop'];
  private readonly onHealthChange: DeliveryQueueOptions['onHealthChange'];

  private pending: ReadableSpan[] = [];
  private inFlightSpans = 0;
  private inFlightExports = 0;
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = 0;
  private healthy = true;
  private lastError = '';
  private draining = false;
  /** An export failed during the current flush: stop sending until the flush has returned. */
  private drainFailed = false;
  private stopped = false;
  /** The shutdown deadline passed: what was in flight is already counted as lost. */
  private abandoned = false;
  private shutdownPromise: Promise<void> | undefined;
  private waiters: Array<() => void> = [];

  /** Counters for status lines and tests. */
  readonly stats = { accepted: 0, delivered: 0, dropped: 0, failedExports: 0 };

  constructor(options: DeliveryQueueOptions) {
    this.exporter = options.exporter;
    this.maxQueueSize = Math.max(1, options.maxQueueSize ?? 100_000);
    this.batchSize = Math.min(this.maxQueueSize, Math.max(1, options.maxExportBatchSize ?? 1024));
    this.delayMs = Math.max(0, options.scheduledDelayMillis ?? 1000);
    this.maxConcurrent = Math.max(1, options.maxConcurrentExports ?? 2);
    this.exportTimeoutMs = Math.max(1, options.exportTimeoutMillis ?? 30_000);
    this.initialRetryMs = Math.max(1, options.initialRetryDelayMillis ?? 500);
    this.maxRetryMs = Math.max(this.initialRetryMs, options.maxRetryDelayMillis ?? 5000);
    this.shutdownTimeoutMs = Math.max(0, options.shutdownTimeoutMillis ?? 2000);
    this.onDrop = options.onDrop;
    this.onHealthChange = options.onHealthChange;
  }

  /** Spans accepted and not yet delivered or counted as lost. */
  get outstanding(): number {
    return this.pending.length + this.inFlightSpans;
  }

  /** The last export error, for status lines ('' when the last export succeeded). */
  get lastExportError(): string {
    return this.healthy ? '' : this.lastError;
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.stopped) {
      this.drop('shutdown', 1, 'span ended after shutdown');
      return;
    }
    if (this.outstanding >= this.maxQueueSize) {
      this.drop('queue_full', 1, `${this.maxQueueSize} spans waiting`);
      return;
    }
    this.stats.accepted++;
    this.pending.push(span);
    if (this.pending.length >= this.batchSize) this.pump();
    else this.timer ??= unref(setTimeout(() => this.onTimer(), this.delayMs));
  }

  /** Exports everything queued now; resolves when it is delivered or an export failed. */
  async forceFlush(): Promise<void> {
    if (this.outstanding === 0) return;
    this.draining = true;
    this.drainFailed = false;
    await new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      this.pump();
    });
    this.draining = false;
    this.drainFailed = false;
  }

  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.stop();
    return this.shutdownPromise;
  }

  private async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    // Ref'd, unlike every other timer here: export sockets are unref'd, so at beforeExit this is
    // what keeps the process alive until the flush is done or the deadline has passed.
    let deadline: NodeJS.Timeout | undefined;
    await Promise.race([
      this.forceFlush(),
      new Promise<void>((resolve) => (deadline = setTimeout(resolve, this.shutdownTimeoutMs))),
    ]);
    clearTimeout(deadline);
    const left = this.outstanding;
    if (left > 0) {
      const why = this.healthy
        ? `not confirmed within the ${this.shutdownTimeoutMs} ms exit deadline`
        : this.lastError;
      this.abandoned = true;
      this.pending = [];
      this.inFlightSpans = 0;
      this.drop('shutdown', left, why);
    }
    this.settleWaiters();
    // With requests abandoned, the exporter's shutdown may wait for them: do not wait with it.
    const closing = Promise.resolve()
      .then(() => this.exporter.shutdown())
      .catch(() => undefined);
    if (!this.abandoned) await closing;
  }

  private onTimer(): void {
    this.timer = undefined;
    this.pump(true);
  }

  private pump(partial = false): void {
    while (
      this.retryTimer === undefined &&
      !this.drainFailed &&
      !this.abandoned &&
      this.inFlightExports < this.maxConcurrent &&
      this.pending.length > 0 &&
      (partial || this.draining || this.pending.length >= this.batchSize)
    ) {
      this.send(this.pending.splice(0, this.batchSize));
    }
    if (this.pending.length > 0 && this.retryTimer === undefined && !this.stopped) {
      this.timer ??= unref(setTimeout(() => this.onTimer(), this.delayMs));
    }
    const stuck = this.drainFailed || this.retryTimer !== undefined;
    if (this.outstanding === 0 || (this.draining && stuck && this.inFlightExports === 0)) {
      this.settleWaiters();
    }
  }

  private send(batch: ReadableSpan[]): void {
    this.inFlightExports++;
    this.inFlightSpans += batch.length;
    let settled = false;
    const timedOut = new ExportAttemptError(`no answer within ${this.exportTimeoutMs} ms`, true);
    const watchdog = unref(
      setTimeout(() => finish({ code: ExportResultCode.FAILED, error: timedOut }), this.exportTimeoutMs),
    );
    const finish = (result: ExportResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(watchdog);
      this.inFlightExports--;
      // After the shutdown deadline the batch was already counted as lost: nothing more to do.
      if (this.abandoned) return;
      this.inFlightSpans -= batch.length;
      if (result.code === ExportResultCode.SUCCESS) this.delivered(batch.length);
      else this.failed(batch, result.error);
      this.pump();
    };
    const fail = (err: unknown) =>
      finish({ code: ExportResultCode.FAILED, error: err instanceof Error ? err : new Error(String(err)) });
    const run = () => {
      try {
        context.with(suppressTracing(context.active()), () => this.exporter.export(batch, finish));
      } catch (err) {
        fail(err);
      }
    };
    // Resource detectors may still be running (host, process): serializing before they settle
    // would read incomplete resource attributes.
    const waiting = new Set<Promise<void>>();
    for (const span of batch) {
      const resource = span.resource;
      if (resource.asyncAttributesPending && resource.waitForAsyncAttributes) {
        waiting.add(resource.waitForAsyncAttributes());
      }
    }
    if (waiting.size === 0) run();
    else Promise.all(waiting).then(run, fail);
  }

  private delivered(count: number): void {
    this.stats.delivered += count;
    this.retryDelayMs = 0;
    if (!this.healthy) {
      this.healthy = true;
      this.onHealthChange?.(true, 'exports succeed again');
    }
  }

  private failed(batch: ReadableSpan[], error: Error | undefined): void {
    this.stats.failedExports++;
    const message = error?.message || 'export failed';
    this.lastError = message;
    if (!isRetryable(error)) {
      this.drop('export_rejected', batch.length, message);
      return;
    }
    if (this.healthy) {
      this.healthy = false;
      this.onHealthChange?.(false, message);
    }
    this.pending = batch.concat(this.pending);
    // Flushing (or exiting): report back now rather than wait out a backoff.
    if (this.stopped || this.draining) {
      this.drainFailed = true;
      return;
    }
    this.retryDelayMs = Math.min(
      this.maxRetryMs,
      this.retryDelayMs ? this.retryDelayMs * 2 : this.initialRetryMs,
    );
    const hinted = error instanceof ExportAttemptError ? error.retryAfterMs : undefined;
    const delay = Math.min(this.maxRetryMs * 6, hinted ?? this.retryDelayMs * (0.8 + Math.random() * 0.4));
    clearTimeout(this.retryTimer);
    this.retryTimer = unref(
      setTimeout(() => {
        this.retryTimer = undefined;
        this.pump(true);
      }, delay),
    );
  }

  private drop(reason: DropReason, count: number, detail: string): void {
    this.stats.dropped += count;
    try {
      this.onDrop(reason, count, detail);
    } catch {
      // accounting must never break the host
    }
  }

  private settleWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  private clearTimers(): void {
    clearTimeout(this.timer);
    clearTimeout(this.retryTimer);
    this.timer = undefined;
    this.retryTimer = undefined;
  }
}

/** A network error or a 429/5xx may pass later; a 4xx says the same batch will never be taken. */
function isRetryable(error: Error | undefined): boolean {
  if (error instanceof ExportAttemptError) return error.retryable;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'number' && code >= 400 && code < 500) return code === 408 || code === 429;
  return true;
}

function unref(timer: NodeJS.Timeout): NodeJS.Timeout {
  timer.unref();
  return timer;
}
