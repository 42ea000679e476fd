// The reset-aware range total (src/detection/range-total.ts) evaluated by Prometheus' own engine
// (promtool test rules) on counter histories a collector restart produces: a restart with failed
// scrapes in between (staleness markers), a restart between two scrapes, a series born inside
// the range, scrapes more frequent than the step, and calls made before the range. A bare sum, the
// largest value and increase() are shown wrong on the same histories.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rangeIncrease, rangeTotal } from '../../src/detection/range-total.js';

const dir = mkdtempSync(join(tmpdir(), 'mcp-range-total-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Case {
  name: string;
  /** promtool input series notation, one sample per `interval`. */
  values: string;
  interval: string;
  step: string;
  /** Calls the counter counted inside the range (the truth). */
  calls: number;
}

// Evaluated at 10m over the last 10m; `_` = no sample (the series does not exist yet).
const CASES: Case[] = [
  { name: 'born inside the range at 5', values: '_x4 5 6 7 20', interval: '15s', step: '15s', calls: 20 },
  // 0..10, two failed scrapes while the collector is down, then the new process counts 3..7.
  {
    name: 'restart with failed scrapes',
    values: '_ 0+1x10 stale stale 3+1x4',
    interval: '15s',
    step: '15s',
    calls: 17,
  },
  // 1..10 then 2, 4: the restart fell between two scrapes, no staleness marker.
  { name: 'restart between scrapes', values: '_ 1+1x9 2 4', interval: '15s', step: '15s', calls: 14 },
  // The restarted process re-sends what the SDKs queued while it was down: its first scraped
  // value is above the last one before the crash (the failed scrapes show the restart).
  {
    name: 'restart overtaking the old value',
    values: '_ 1+1x4 stale 10+1x5',
    interval: '15s',
    step: '15s',
    calls: 20,
  },
  // Scraped every 5s, stepped every 5s, two failed scrapes.
  {
    name: 'restart with a 5s scrape',
    values: '_x3 1+1x20 stale stale 30+1x5',
    interval: '5s',
    step: '5s',
    calls: 56,
  },
  // Scraped every 30s, stepped every 15s.
  {
    name: 'scrapes coarser than the step',
    values: '_ 1+1x9 stale 1+1x3',
    interval: '30s',
    step: '15s',
    calls: 14,
  },
  // Four restarts, each with a failed scrape.
  {
    name: 'four restarts',
    values: '_ 1+1x4 stale 1+1x4 stale 1+1x4 stale 1+1x4 stale 1+1x4',
    interval: '15s',
    step: '15s',
    calls: 25,
  },
  // 100 calls long before the range (the series reaches back), then 10 inside it.
  {
    name: 'calls before the range',
    values: '0+5x20 100x20 100+1x10',
    interval: '15s',
    step: '15s',
    calls: 10,
  },
];

function promtool(): string {
  const r = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  assert.equal(r.status, 0, 'promtool is needed (scripts/build.sh installs the prometheus package)');
  return 'promtool';
}

function run(tests: unknown[]): { ok: boolean; out: string } {
  const file = join(dir, `t-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, JSON.stringify({ rule_files: [], evaluation_interval: '15s', tests }));
  const r = spawnSync(promtool(), ['test', 'rules', file], { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

function caseTest(c: Case, expr: string, value: number) {
  const evalAt = c.name === 'calls before the range' ? '20m' : '10m';
  return {
    interval: c.interval,
    input_series: [{ series: 'mcp_audit_tool_calls_total{session_id="s1"}', values: c.values }],
    promql_expr_test: [{ expr, eval_time: evalAt, exp_samples: [{ labels: '{}', value }] }],
  };
}

describe('reset-aware range total', () => {
  for (const c of CASES) {
    it(`${c.name}: ${c.calls} calls`, () => {
      const range = '10m';
      const expr = rangeTotal('mcp_audit_tool_calls_total', { range, step: c.step });
      const r = run([caseTest(c, expr, c.calls)]);
      assert.ok(r.ok, `${expr}\n${r.out}`);
    });
  }

  it('the forms it replaces are wrong on the restart histories (so the cases can fail)', () => {
    const wrong = [
      (s: string) => `sum(last_over_time(${s}[10m]))`,
      (s: string) => `sum(max_over_time(${s}[10m]))`,
      (s: string) => `sum(increase(${s}[10m]))`,
    ];
    for (const c of CASES.filter((x) => /restart/.test(x.name))) {
      for (const form of wrong) {
        const expr = form('mcp_audit_tool_calls_total');
        const r = run([caseTest(c, expr, c.calls)]);
        assert.ok(!r.ok, `${expr} gave the right total on '${c.name}': the case does not test resets`);
      }
    }
  });

  it('keeps one series per input series, without the metric name', () => {
    const expr = rangeIncrease('mcp_audit_tool_calls_total', { range: '10m', step: '15s' });
    const r = run([
      {
        interval: '15s',
        input_series: [
          { series: 'mcp_audit_tool_calls_total{session_id="a"}', values: '_ 1+1x4' },
          { series: 'mcp_audit_tool_calls_total{session_id="b"}', values: '_ 2+2x4 stale 1' },
        ],
        promql_expr_test: [
          {
            expr,
            eval_time: '5m',
            exp_samples: [
              { labels: '{session_id="a"}', value: 5 },
              { labels: '{session_id="b"}', value: 11 },
            ],
          },
        ],
      },
    ]);
    assert.ok(r.ok, r.out);
  });
});
