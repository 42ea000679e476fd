// No total shown anywhere is a bare sum of counters. A collector restart sets its counters back
// to zero, so sum(x_total), max_over_time(x_total[range]) or last_over_time(x_total[range]) show
// only what the new process counted. Every PromQL expression of the dashboards, the alert rules
// and `mcp-audit doctor` is scanned: a counter may appear only inside rate(), irate(), increase(),
// resets() or the shared reset-aware forms (the range count of src/detection/range-total.ts, the
// rules' window increase and change times); the one exception is named with its reason.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { OUTPUT_DIR } from '../../dashboards/src/generate.js';
import { promQueries } from '../../dashboards/src/queries.js';
import { METRICS } from '../../src/detection/metrics.js';
import { PIPELINE_COUNTERS } from '../../src/detection/pipeline-metrics.js';
import { rangeIncrease } from '../../src/detection/range-total.js';
import { changeTimes, windowIncrease } from '../../src/detection/rules/promql.js';
import { readPrometheus } from '../../src/doctor/prometheus.js';
import { readPipeline } from '../../src/doctor/pipeline.js';
import { endpoint } from '../../src/doctor/sources.js';
import { REPO_ROOT } from '../support/stack.js';

const HISTOGRAMS = [METRICS.resultSize, METRICS.duration];
const COUNTERS: readonly string[] = [
  ...Object.values(METRICS).filter((m) => !HISTOGRAMS.includes(m as never)),
  ...HISTOGRAMS.flatMap((h) => ['count', 'sum', 'bucket'].map((s) => `${h}_${s}`)),
  ...PIPELINE_COUNTERS,
];

/** A series selector: a name and optional matchers (strings may hold braces). */
const SELECTOR = String.raw`[a-zA-Z_:][\w:]*(?:\{(?:[^{}"]|"(?:[^"\\]|\\.)*")*\})?`;

/** A regex matching what `build` produces for any selector and any durations. */
function template(build: (s: string, d: string[]) => string, durations: number): RegExp {
  const names = Array.from({ length: durations }, (_, i) => `QDURQ${i}Q`);
  // Whitespace-insensitive: the rules file indents what the generator nests.
  let re = build('QSELQ', names)
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/ /g, '\\s*');
  re = re.replace('QSELQ', `(?<s>${SELECTOR})`).replaceAll('QSELQ', '\\k<s>');
  names.forEach((n, i) => {
    re = re.replace(n, `(?<d${i}>[^\\]\\[\\s:]+)`).replaceAll(n, `\\k<d${i}>`);
  });
  return new RegExp(re, 'g');
}

const SAFE_FORMS: RegExp[] = [
  template((s, [r, t]) => rangeIncrease(s, { range: r!, step: t! }), 2),
  template((s, [w]) => windowIncrease(s, w!), 1),
  template((s, [t]) => changeTimes(s, t!), 1),
  // a subquery step's increase, a reset or a new series counting its whole value (McpDataThenEgress)
  template((s, [t]) => `((${s} - ${s} offset ${t} >= 0) or ${s})`, 1),
  new RegExp(String.raw`\b(?:rate|irate|increase|resets)\(\s*${SELECTOR}\s*\[[^\]]+\]\s*\)`, 'g'),
];

/** Counters an expression reads outside the reset-aware forms. */
export function bareCounters(expr: string): string[] {
  let rest = expr;
  for (const form of SAFE_FORMS) rest = rest.replace(form, ' SAFE ');
  rest = rest.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return COUNTERS.filter((c) => new RegExp(`(?<![\\w:])${c}(?![\\w:])`).test(rest));
}

// McpHangingCall compares, per call, how many in-flight marks were made `age` ago with how many
// calls have ended since: two counters of the same collector at the same instants, so a restart
// resets both and the comparison holds (docs/alerts.md). It shows no total.
const EXCEPTIONS: Record<string, { counters: string[]; reason: string }> = {
  McpHangingCall: {
    counters: [METRICS.inFlightMarks, `${METRICS.duration}_count`, `${METRICS.duration}_bucket`],
    reason: 'marks against completions of the same collector at the same instant',
  },
};

interface Expr {
  where: string;
  expr: string;
}

function dashboardExprs(): Expr[] {
  return readdirSync(OUTPUT_DIR)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) =>
      promQueries(f, JSON.parse(readFileSync(join(OUTPUT_DIR, f), 'utf8')))
        // a variable's selector only lists label values
        .filter((q) => !q.where.startsWith('variable'))
        .map((q) => ({ where: `${f} ${q.where}`, expr: q.expr })),
    );
}

function ruleExprs(): Array<Expr & { alert: string }> {
  const dir = join(REPO_ROOT, 'collector/rules');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yml'))
    .flatMap((f) => {
      const doc = parseYaml(readFileSync(join(dir, f), 'utf8')) as {
        groups: Array<{ rules: Array<{ alert?: string; record?: string; expr: string }> }>;
      };
      return doc.groups.flatMap((g) =>
        g.rules.map((r) => ({
          where: `${f} ${r.alert ?? r.record}`,
          alert: r.alert ?? r.record ?? '',
          expr: r.expr,
        })),
      );
    });
}

/** The queries doctor sends, as a Prometheus would receive them (a listener that records them). */
async function doctorExprs(): Promise<Expr[]> {
  const seen: string[] = [];
  const server = createServer((socket) => {
    socket.once('data', (chunk) => {
      const path = /^GET (\S+)/.exec(chunk.toString('latin1'))?.[1] ?? '/';
      const query = new URL(path, 'http://x').searchParams.get('query');
      if (query) seen.push(query);
      const body = JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } });
      socket.end(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  after(() => server.close());
  const ep = endpoint(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const q = { lookback: '1h', lookbackSeconds: 3600, timeoutMs: 5000 };
  await readPrometheus(ep, { ...q, service: 'svc' });
  await readPipeline(ep, { ...q, auditFiles: [] });
  return seen.map((expr, i) => ({ where: `doctor query ${i}`, expr }));
}

describe('totals are reset-aware', () => {
  it('the scan flags bare sums, largest and last values of counters, and passes the safe forms', () => {
    const c = METRICS.calls;
    for (const bad of [
      `sum(${c})`,
      `sum by (session_id) (${c}{server=~"$server"})`,
      `sum(max_over_time(${c}{caller="none"}[$__range]))`,
      `sum(last_over_time(${c}[1h]))`,
      `topk(10, ${c})`,
      `sum(otelcol_receiver_refused_spans)`,
    ])
      assert.notDeepEqual(bareCounters(bad), [], `not flagged: ${bad}`);
    for (const ok of [
      `sum(rate(${c}{server=~"$server"}[$__rate_interval]))`,
      `sum by (tool) (${rangeIncrease(`${c}{caller="none", tool=~"a|b"}`, { range: '$__range', step: '$__interval' })})`,
      `sum(${rangeIncrease('otelcol_receiver_refused_spans', { range: '1h', step: '15s' })}) or vector(0)`,
      `sum by (session_id) (${windowIncrease(`${c}{tool="x"}`, '5m')}) > 3`,
      `histogram_quantile(0.95, sum by (le) (rate(${METRICS.duration}_bucket[5m])))`,
      `max by (exporter) (otelcol_exporter_queue_size / otelcol_exporter_queue_capacity)`,
    ])
      assert.deepEqual(bareCounters(ok), [], `flagged: ${ok}`);
  });

  it('no dashboard panel or variable shows a bare counter', () => {
    const exprs = dashboardExprs();
    assert.ok(exprs.length >= 40, `${exprs.length} dashboard queries`);
    const bare = exprs.filter((e) => bareCounters(e.expr).length > 0);
    assert.deepEqual(
      bare.map((e) => `${e.where}: ${bareCounters(e.expr).join(', ')} in ${e.expr}`),
      [],
    );
    // the totals do use the range count
    assert.ok(exprs.filter((e) => e.expr.includes('sum_over_time((')).length >= 10);
  });

  it('no alert rule reads a bare counter (one exception, with its reason)', () => {
    const rules = ruleExprs();
    assert.ok(rules.length >= 10, `${rules.length} rules`);
    const bare = rules
      .map((r) => ({ ...r, counters: bareCounters(r.expr) }))
      .filter((r) => r.counters.length > 0)
      .filter((r) => !r.counters.every((c) => EXCEPTIONS[r.alert]?.counters.includes(c)));
    assert.deepEqual(
      bare.map((r) => `${r.where}: ${r.counters.join(', ')}`),
      [],
    );
    // an exception that no longer applies is removed, not kept
    for (const [alert, e] of Object.entries(EXCEPTIONS))
      assert.ok(
        rules.some((r) => r.alert === alert && bareCounters(r.expr).length > 0),
        `${alert} (${e.reason}) no longer needs its exception`,
      );
  });

  it('no doctor query reads a bare counter', async () => {
    const exprs = await doctorExprs();
    assert.ok(exprs.length >= 10, `${exprs.length} doctor queries`);
    const bare = exprs.filter((e) => bareCounters(e.expr).length > 0);
    assert.deepEqual(
      bare.map((e) => `${e.where}: ${e.expr}`),
      [],
    );
  });
});
