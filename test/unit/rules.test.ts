// The Prometheus alert rules: generated from thresholds.json, valid for promtool, and covered by
// promtool unit tests (collector/rules/tests/*.yml) for every alert. Needs promtool on PATH (the
// Debian package `prometheus`) or PROMTOOL=/path/to/promtool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALERTS_PATH, ROOT, loadThresholds } from '../../scripts/generate-rules.js';
import { buildRules, generateAlerts } from '../../src/detection/rules/build.js';
import { goFloat, leRegex } from '../../src/detection/rules/promql.js';
import { DEFAULT_OPTIONS } from '../../src/detection/rules/rule.js';
import type { Thresholds as RuleThresholds } from '../../src/detection/thresholds.js';
import { MCP_ALERT_NAMES } from '../../src/detection/alerts.js';

const RULES_DIR = join(ROOT, 'collector/rules');
const TESTS_DIR = join(RULES_DIR, 'tests');
const PROMTOOL = process.env.PROMTOOL ?? 'promtool';

const ALERTS: readonly string[] = MCP_ALERT_NAMES;

function promtool(args: string[]): { status: number | null; output: string } {
  const r = spawnSync(PROMTOOL, args, { cwd: RULES_DIR, encoding: 'utf8' });
  if (r.error) {
    throw new Error(
      `cannot run ${PROMTOOL} (install the Debian package prometheus, or set PROMTOOL): ${r.error.message}`,
    );
  }
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const testFiles = readdirSync(TESTS_DIR)
  .filter((f) => f.endsWith('.yml'))
  .sort()
  .map((f) => join('tests', f));

test('the committed alert rules equal a fresh generation from thresholds.json', () => {
  const fresh = generateAlerts(loadThresholds(), DEFAULT_OPTIONS);
  assert.equal(
    readFileSync(ALERTS_PATH, 'utf8'),
    fresh,
    'stale: run npm run rules:generate and commit the result',
  );
  // Deterministic: a second run gives the same bytes.
  assert.equal(generateAlerts(loadThresholds(), DEFAULT_OPTIONS), fresh);
});

test('promtool check rules accepts every rule file', () => {
  const files = readdirSync(RULES_DIR).filter((f) => /^mcp-audit-.*\.yml$/.test(f));
  assert.ok(files.includes('mcp-audit-alerts.yml'));
  const r = promtool(['check', 'rules', ...files]);
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /SUCCESS: \d+ rules found/);
});

test('promtool test rules passes every unit test file', () => {
  assert.ok(testFiles.length >= ALERTS.length, `expected a test file per alert, found ${testFiles.length}`);
  const r = promtool(['test', 'rules', ...testFiles]);
  assert.equal(r.status, 0, r.output);
  assert.equal(r.output.match(/SUCCESS/g)?.length ?? 0, testFiles.length, r.output);
});

test('every alert has a promtool test in which it fires and one in which it must not', () => {
  const all = testFiles.map((f) => readFileSync(join(RULES_DIR, f), 'utf8')).join('\n');
  const generated = new Set(buildRules(loadThresholds()).map((r) => r.alert));
  assert.deepEqual([...generated].sort(), [...ALERTS].sort());
  for (const alert of ALERTS) {
    const fires = new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels:`).test(all);
    const silent = new RegExp(`alertname: ${alert}(\\n\\s+|, )exp_alerts: \\[\\]`).test(all);
    assert.ok(fires, `${alert}: no test where it fires`);
    assert.ok(silent, `${alert}: no test where it must stay silent`);
  }
});

test('no rule runs a subquery over more than ordering_record_seconds (the ordering alerts read recordings)', () => {
  const file = readFileSync(ALERTS_PATH, 'utf8');
  const ranges = [...file.matchAll(/\[(\w+):(\w+)\]/g)].map((m) => m[1]);
  assert.ok(ranges.length >= 7, `${ranges.length} subqueries`);
  assert.deepEqual([...new Set(ranges)], ['30s']);
  for (const record of [
    'mcp_audit:tool_call_time:last',
    'mcp_audit:tool_error_time:first',
    'mcp_audit:data_event_time:first',
  ])
    assert.match(file, new RegExp(`- record: ${record}\\n`));
});

test('le label values match every way an exporter writes a bucket bound', () => {
  assert.equal(goFloat(102400), '102400');
  assert.equal(goFloat(1048576), '1.048576e+06');
  assert.equal(goFloat(52428800), '5.24288e+07');
  assert.equal(goFloat(0.005), '0.005');
  assert.equal(goFloat(30), '30');
  const re = (v: number) => new RegExp(`^(?:${leRegex(v)})$`);
  for (const s of ['5.24288e+06', '5242880', '5242880.0']) assert.match(s, re(5242880));
  for (const s of ['30', '30.0']) assert.match(s, re(30));
  assert.doesNotMatch('300', re(30));
  assert.match('0.25', re(0.25));
});

test('thresholds drive the rules: per-tool overrides, validation', () => {
  const base = loadThresholds();
  const clone = (): RuleThresholds => JSON.parse(JSON.stringify(base)) as RuleThresholds;

  const t = clone();
  t.bulk_extraction.per_tool_bytes = { big_dump: 1048576, same_as_default: t.bulk_extraction.default_bytes };
  const bulk = buildRules(t).filter((r) => r.alert === 'McpBulkExtraction');
  assert.deepEqual(
    bulk.map((r) => r.labels.threshold),
    ['100 KiB', '1 MiB'],
    'an override equal to the default needs no rule of its own',
  );
  assert.match(bulk[0]!.expr, /tool!~`big_dump`/);
  assert.match(bulk[1]!.expr, /tool="big_dump"/);

  const bad = clone();
  bad.latency.hanging_seconds = 45;
  assert.throws(() => buildRules(bad), /hanging_seconds must be a bucket bound/);
  const overlap = clone();
  overlap.data_then_egress.egress_tools = [...overlap.data_then_egress.egress_tools, 'db_query'];
  assert.throws(() => buildRules(overlap), /both data and egress/);

  const longLook = clone();
  longLook.alerting = {
    ...longLook.alerting,
    ordering_record_seconds: longLook.error_then_retry.window_seconds,
  };
  assert.throws(
    () => buildRules(longLook),
    /ordering_record_seconds must be a multiple of subquery_step_seconds below/,
  );

  const url = generateAlerts(base, { ...DEFAULT_OPTIONS, jaegerUrl: 'http://jaeger.internal:16686/' });
  assert.match(url, /"http:\/\/jaeger\.internal:16686\/search\?service=/);
  assert.doesNotMatch(url, /127\.0\.0\.1:16686/);
});

test('generator CLI --check reports the committed file as up to date', () => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/generate-rules.ts', '--check'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MCP_AUDIT_JAEGER_URL: '', MCP_AUDIT_RUNBOOK_BASE: '' },
  });
  assert.equal(out, '');
});
