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
// gained since the previous step, from the step's last sample:
//  - no reset: the difference with the last sample before the step (`prev`);
//  - a reset inside the step (the value fell below `prev`): the pre-reset peak's gain over `prev`
//    (the largest sample inside the step, when above `prev`) plus the new process's count;
//  - no earlier sample (a series born in the range, or back after a gap longer than `gap`): its
//    whole value.
// `prev` is read with last_over_time over `gap`, which ignores staleness markers, so the scrapes
// that failed while the collector was down do not make the restarted series look new.
// Exact as long as a series resets at most once per step and a restarted process's first sample
// is below its predecessor's last (else Prometheus cannot see the reset at all).

export interface RangeTotalOptions {
  /** The range, e.g. `$__range` or `1h`. */
  range: string;
  /** The subquery step, e.g. `$__interval` or `15s`: at most one reset per step is told apart. */
  step: string;
  /** How far back the previous sample is looked for (default 5m, Prometheus' lookback). */
  gap?: string;
}

/** Per-series count of `selector` over the range (one series per input series, no __name__). */
export function rangeIncrease(selector: string, o: RangeTotalOptions): string {
  const gap = o.gap ?? '5m';
  const s = selector;
  // The step's last sample (not the instant value, which a staleness marker hides: the samples
  // scraped just before the collector died would be skipped) and the last one before the step.
  const cur = `last_over_time(${s}[${o.step}])`;
  const prev = `last_over_time(${s}[${gap}] offset ${o.step})`;
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
