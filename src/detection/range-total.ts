// How many events a counter counted over a time range, exactly, across collector restarts. The
// dashboards' totals and `mcp-audit doctor` read counts through this one expression; a bare sum of
// counter values (or their largest value) is wrong as soon as the collector restarts, because its
// counters start again at zero (docs/reliability.md).
//
// Why not increase(): it extrapolates to the range's edges and needs two samples, so a session
// whose first scrape already shows 50 calls counts 0. Why not max_over_time()/last_over_time():
// after a restart a series shows only what the new process counted.
//
// The expression walks the range in steps (a subquery) and adds, at each step, what the counter
// gained since the previous step, from the step's last sample (`cur`, read with last_over_time,
// which skips staleness markers, so the samples scraped just before a crash are counted):
//  - no earlier sample live at the previous step (a series born in the range, or one that went
//    stale because its collector stopped answering, and is back): its whole value, since what it
//    shows now was counted by a process started since;
//  - else no reset: the difference with that sample (`prev`);
//  - else (the value fell: a restart between two scrapes) the pre-reset peak's gain over `prev`
//    (the largest sample inside the step, when above `prev`) plus the new process's count.
// Exact when the step is at most the scrape interval (a collector outage then always leaves a
// step where the series is stale) and a series resets at most once per step. A scrape that fails
// while the collector lives on also makes its series stale: its next value is counted whole, an
// overcount by what the series had counted (docs/reliability.md).

export interface RangeTotalOptions {
  /** The range, e.g. `$__range` or `1h`. */
  range: string;
  /** The subquery step, at most the scrape interval: e.g. `$__interval` or `5s`. */
  step: string;
}

/** Per-series count of `selector` over the range (one series per input series, no __name__). */
export function rangeIncrease(selector: string, o: RangeTotalOptions): string {
  const s = selector;
  const cur = `last_over_time(${s}[${o.step}])`;
  // An instant selector: absent when the series was stale (or did not exist) a step ago.
  const prev = `${s} offset ${o.step}`;
  const gain = `(${cur} - ${prev} >= 0)`;
  const afterReset = `(${cur} + clamp_min(max_over_time(${s}[${o.step}]) - ${prev}, 0))`;
  // `+ 0` drops the metric name (last_over_time keeps it) as the other terms do: one series each.
  return `sum_over_time((${gain} or ${afterReset} or ${cur} + 0)[${o.range}:${o.step}])`;
}

/** rangeIncrease summed by `labels` (none: one total). */
export function rangeTotal(selector: string, o: RangeTotalOptions, labels: string[] = []): string {
  const by = labels.length ? ` by (${labels.join(', ')})` : '';
  return `sum${by} (${rangeIncrease(selector, o)})`;
}
