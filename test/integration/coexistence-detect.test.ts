// How mcp-audit/register tells that the process already has an OpenTelemetry SDK, with the real
// API globals and real SDK providers (in this process; the child-process runs are in
// coexistence-sdk.test.ts). The tests run in order: the global tracer provider is registered last.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { metrics, trace } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type HistogramMetricData } from '@opentelemetry/sdk-metrics';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import {
  detectExistingSdk,
  globalTracerProviderRegistered,
  lateBoundMeterProvider,
} from '../../src/sdk-detect.js';

const AUTO = '@opentelemetry/auto-instrumentations-node/register';

class ManualReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

test('no SDK, no auto-instrumentations preload: mcp-audit starts its own', () => {
  assert.equal(globalTracerProviderRegistered(), false);
  assert.equal(detectExistingSdk(['--import', 'mcp-audit/register'], {}), undefined);
  assert.equal(detectExistingSdk(['--import', './auto-instrumentations-node/registered.mjs'], {}), undefined);
});

test('the auto-instrumentations register entry among the preloads, in any spelling', () => {
  for (const execArgv of [
    ['--import', 'mcp-audit/register', '--import', AUTO],
    ['--import', AUTO, '--import', 'mcp-audit/register'],
    [`--require=${AUTO}`],
    ['-r', `/app/node_modules/${AUTO}.js`],
  ]) {
    assert.match(
      detectExistingSdk(execArgv, {})?.reason ?? '',
      /auto-instrumentations-node\/register is preloaded/,
    );
  }
  assert.ok(detectExistingSdk([], { NODE_OPTIONS: `--require ${AUTO}` }), 'NODE_OPTIONS counts too');
});

test('histograms bound late follow the meter provider registered after them', async () => {
  const histogram = lateBoundMeterProvider()
    .getMeter('mcp-audit')
    .createHistogram('mcp.client.operation.duration');
  histogram.record(1); // no meter provider yet: the no-op takes it
  const reader = new ManualReader();
  const provider = new MeterProvider({ readers: [reader] });
  assert.ok(metrics.setGlobalMeterProvider(provider));
  histogram.record(2, { 'mcp.method.name': 'tools/call' });
  histogram.record(3, { 'mcp.method.name': 'tools/call' });
  const { resourceMetrics } = await reader.collect();
  const data = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics) as HistogramMetricData[];
  assert.deepEqual(
    data.map((m) => m.descriptor.name),
    ['mcp.client.operation.duration'],
  );
  const point = data[0]!.dataPoints[0]!;
  assert.equal(point.value.count, 2);
  assert.equal(point.value.sum, 5);
  assert.deepEqual(point.attributes, { 'mcp.method.name': 'tools/call' });
  await provider.shutdown();
});

test('a registered global tracer provider is an SDK already running', () => {
  assert.ok(trace.setGlobalTracerProvider(new TracerProvider()));
  assert.equal(globalTracerProviderRegistered(), true);
  assert.match(detectExistingSdk([], {})?.reason ?? '', /global tracer provider is registered/);
});
