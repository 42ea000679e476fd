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
} from '@opentelemetry/sdk-trace';
import { register } from 'node:module';
import { McpInstrumentation } from '../../src/instrumentation/instrumentation.js';
import type { McpInstrumentationConfig } from '../../src/instrumentation/types.js';

class TestMetricReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

let loaderRegistered = false;

export interface Harness {
  spans: InMemorySpanExporter;
  metricReader: TestMetricReader;
  instrumentation: McpInstrumentation;
  /** Waits until `n` spans have ended (span finishing is deferred past the call). */
  waitForSpans(n: number, timeoutMs?: number): Promise<ReadableSpan[]>;
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
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
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
    async waitForSpans(n, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (spans.getFinishedSpans().length < n) {
        if (Date.now() > deadline) {
          const names = spans.getFinishedSpans().map((s) => s.name);
          throw new Error(`expected ${n} spans, got ${names.length}: ${names.join(', ')}`);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      // Give a straggler a moment so tests that expect exactly n can see an extra one.
      await new Promise((r) => setTimeout(r, 20));
      return spans.getFinishedSpans();
    },
    reset() {
      spans.reset();
    },
  };
}

export { InMemoryMetricExporter };
