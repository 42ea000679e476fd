// The trace-store sampling overlay (collector/sampling.yaml): its policies are a fresh generation
// from thresholds.json (scripts/generate-sampling.ts), name every tool the rules single out, and
// its traces pipeline is config.yaml's with Jaeger moved behind the sampler. The end-to-end proof
// that no must-keep trace is dropped is test/e2e/tail-sampling.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT, loadThresholds } from '../../scripts/generate-rules.js';
import {
  SAMPLING_PATH,
  bulkBytes,
  renderOverlay,
  sensitiveTools,
  slowMs,
} from '../../scripts/generate-sampling.js';

interface Policy {
  name: string;
  type: string;
  string_attribute?: { key: string; values: string[] };
  numeric_attribute?: { key: string; min_value: number };
  latency?: { threshold_ms: number };
  probabilistic?: { sampling_percentage: unknown };
}
interface Overlay {
  processors: { tail_sampling: { policies: Policy[] } };
  service: {
    pipelines: Record<string, { receivers?: string[]; processors?: string[]; exporters: string[] }>;
  };
}

const committed = readFileSync(SAMPLING_PATH, 'utf8');
const overlay = parse(committed) as Overlay;
const policies = overlay.processors.tail_sampling.policies;
const policy = (name: string) => policies.find((p) => p.name === name);

test('the committed sampling policies equal a fresh generation from thresholds.json', () => {
  assert.equal(committed, renderOverlay(committed, loadThresholds()), 'run npm run rules:generate');
});

test('every tool list of thresholds.json is kept whole, and the bounds are the smallest of the rules', () => {
  const t = loadThresholds();
  const kept = new Set(policy('sensitive_tools')!.string_attribute!.values);
  assert.equal(policy('sensitive_tools')!.string_attribute!.key, 'gen_ai.tool.name');
  for (const list of [
    t.missing_caller.sensitive_tools,
    t.unbounded_read.sensitive_tools,
    t.data_then_egress.data_tools,
    t.data_then_egress.egress_tools,
    t.system_write.write_tools,
    t.write_without_turn.write_tools,
  ])
    for (const tool of list) assert.ok(kept.has(tool), `${tool} is not always kept`);
  assert.deepEqual([...kept].sort(), sensitiveTools(t));
  assert.equal(policy('bulk_result')!.numeric_attribute!.min_value, bulkBytes(t));
  assert.ok(bulkBytes(t) <= t.bulk_extraction.default_bytes);
  assert.equal(policy('slow_call')!.latency!.threshold_ms, slowMs(t));
  assert.ok(slowMs(t) <= t.latency.p95_seconds * 1000);
  // The share of the rest is the only probabilistic policy, and it is configurable.
  assert.deepEqual(
    policies.filter((p) => p.type === 'probabilistic').map((p) => p.probabilistic!.sampling_percentage),
    ['${env:MCP_AUDIT_SAMPLE_PERCENT:-10}'],
  );
  for (const name of ['errors', 'error_type', 'result_pii_count', 'result_pii_classes', 'argument_risk'])
    assert.ok(policy(name), `policy ${name} missing`);
});

test('a changed thresholds.json makes the committed overlay stale, and --check fails on it', () => {
  const t = loadThresholds();
  t.missing_caller.sensitive_tools = [...t.missing_caller.sensitive_tools, 'vault_read'];
  const fresh = renderOverlay(committed, t);
  assert.notEqual(fresh, committed);
  assert.match(fresh, /"vault_read"/);
  const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-sampling-'));
  try {
    const thresholdsPath = join(dir, 'thresholds.json');
    const overlayPath = join(dir, 'sampling.yaml');
    writeFileSync(thresholdsPath, JSON.stringify(t));
    writeFileSync(overlayPath, committed);
    const check = (args: string[]) =>
      spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          join(ROOT, 'scripts/generate-sampling.ts'),
          '--thresholds',
          thresholdsPath,
          '--overlay',
          overlayPath,
          ...args,
        ],
        { cwd: ROOT, encoding: 'utf8' },
      );
    const stale = check(['--check']);
    assert.equal(stale.status, 1, stale.stderr);
    assert.match(stale.stderr, /stale/);
    assert.equal(check([]).status, 0);
    assert.equal(readFileSync(overlayPath, 'utf8'), fresh);
    assert.equal(check(['--check']).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the overlay's traces pipeline is config.yaml's with Jaeger behind the sampler only", () => {
  const base = parse(readFileSync(join(ROOT, 'collector/config.yaml'), 'utf8')) as Overlay;
  const baseExporters = base.service.pipelines.traces!.exporters;
  assert.ok(baseExporters.includes('otlp_grpc/jaeger'));
  assert.deepEqual(
    overlay.service.pipelines.traces!.exporters,
    baseExporters.map((e) => (e === 'otlp_grpc/jaeger' ? 'forward/trace_store' : e)),
    'restate config.yaml traces exporters with otlp_grpc/jaeger → forward/trace_store',
  );
  assert.deepEqual(overlay.service.pipelines['traces/trace_store'], {
    receivers: ['forward/trace_store'],
    processors: ['tail_sampling'],
    exporters: ['otlp_grpc/jaeger'],
  });
  // No other pipeline of either file samples.
  for (const [name, p] of Object.entries(base.service.pipelines))
    assert.ok(!(p.processors ?? []).includes('tail_sampling'), `${name} samples`);
});
