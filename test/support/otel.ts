// In-process harness: a fresh tracer and meter provider with in-memory exporters, and the
// instrumentation enabled BEFORE the MCP SDK is imported, through the same loader hook the
// register entry uses. Tests get the SDK classes from `loadSdk()`, never from a static import,
// so they exercise the automatic patching path.
import { context, propagation, trace, metrics } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { register } from 'node:module';
import { McpInstrumentation } from '../../src/instrumentation/instrumentation.js';
import type { McpInstrumentationConfig } from '../../src/instrumentation/types.js';

class TestMetricReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/**
 * Counts spans started and not yet ended, and tells waiters after every end. "Exactly n spans"
 * then needs no grace period: once every started span has ended, an extra span would already be
 * in the exporter (or still open, and waited for), so the count is final.
 */
class OpenSpans implements SpanProcessor {
  open = 0;
  private readonly listeners = new Set<() => void>();
  onStart(): void {
    this.open++;
  }
  onEnd(): void {
    this.open--;
    // After the exporting processor's onEnd (registered first) has stored the span.
    queueMicrotask(() => {
      for (const listener of this.listeners) listener();
    });
  }
  listen(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

let loaderRegistered = false;

export interface Harness {
  spans: InMemorySpanExporter;
  metricReader: TestMetricReader;
  instrumentation: McpInstrumentation;
  /**
   * Waits until at least `n` spans have ended and no started span is still open (span finishing is
   * deferred past the call), then returns every finished span: the count is final, so tests that
   * expect exactly n see an extra one. Fails with the spans seen when the deadline passes.
   */
  waitForSpans(n: number, timeoutMs?: number): Promise<ReadableSpan[]>;
  /** Waits until no started span is open (e.g. before asserting that nothing was recorded). */
  settled(timeoutMs?: number): Promise<ReadableSpan[]>;
  reset(): void;
}

export function setupHarness(config: McpInstrumentationConfig = {}): Harness {
  if (!loaderRegistered) {
    register('import-in-the-middle/hook.mjs', import.meta.url, {
      data: { include: [/[\\/]node_modules[\\/]@modelcontextprotocol[\\/]/] },
    });
    loaderRegistered = true;
  }
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  const spans = new InMemorySpanExporter();
  const openSpans = new OpenSpans();
  const provider = new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter: spans }), openSpans],
  });
  trace.setGlobalTracerProvider(provider);
  const metricReader = new TestMetricReader({
    aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE,
  });
  const meterProvider = new MeterProvider({ readers: [metricReader] });
  metrics.setGlobalMeterProvider(meterProvider);
  const instrumentation = new McpInstrumentation(config);
  instrumentation.setTracerProvider(provider);
  instrumentation.setMeterProvider(meterProvider);
  return {
    spans,
    metricReader,
    instrumentation,
    waitForSpans(n, timeoutMs = 5000) {
      return new Promise<ReadableSpan[]>((resolve, reject) => {
        const check = () => {
          const finished = spans.getFinishedSpans();
          if (finished.length < n || openSpans.open > 0) return;
          done();
          resolve(finished);
        };
        const timer = setTimeout(() => {
          done();
          const names = spans.getFinishedSpans().map((s) => s.name);
          reject(
            new Error(
              `expected ${n} spans within ${timeoutMs} ms, got ${names.length} (${openSpans.open} still open): ${names.join(', ')}`,
            ),
          );
        }, timeoutMs);
        const unlisten = openSpans.listen(check);
        const done = () => {
          clearTimeout(timer);
          unlisten();
        };
        check();
      });
    },
    settled(timeoutMs = 5000) {
      return this.waitForSpans(0, timeoutMs);
    },
    reset() {
      spans.reset();
    },
  };
}

export { InMemoryMetricExporter };
