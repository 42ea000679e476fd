// PromQL building blocks of the alert rules: selectors, window increases robust to new and reset
// series, histogram thresholds, and the literal formats Prometheus and client_golang write.
// docs/alerts.md explains the shapes and why (first samples, counter resets).

/** A Prometheus duration literal in the one unit that states `seconds` exactly: 5m, 90s, 250ms. */
export function durationLiteral(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`bad duration ${seconds}`);
  if (seconds === 0) return '0s';
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  if (Number.isInteger(seconds)) return `${seconds}s`;
  return `${Math.round(seconds * 1000)}ms`;
}

/** Bytes in the largest binary unit that divides them exactly: 102400 → `100 KiB`. */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1 && v % 1024 === 0) {
    v /= 1024;
    i++;
  }
  return `${v} ${units[i]}`;
}

/** Go's strconv.FormatFloat(v, 'g', -1, 64): how client_golang writes `le` label values. */
export function goFloat(v: number): string {
  if (v === 0) return '0';
  const [mant, expStr] = v.toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? '-' : '+';
    return `${mant}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(v);
}

/**
 * A regex matching every way a bucket bound is written as an `le` label: Go's %g form
 * ("1.048576e+06", client_golang and Prometheus 2.x), the plain decimal ("1048576") and
 * Prometheus 3's normalised form for integers ("1048576.0").
 */
export function leRegex(v: number): string {
  const forms = new Set([goFloat(v), String(v)]);
  if (Number.isInteger(v)) {
    for (const f of [...forms]) if (!/[.e]/.test(f)) forms.add(`${f}.0`);
  }
  return [...forms].map((f) => f.replace(/[.+]/g, (c) => `\\${c}`)).join('|');
}

function promString(s: string): string {
  return JSON.stringify(s);
}

export function regexAlternation(values: string[]): string {
  return values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
}

export type Matcher = [label: string, op: '=' | '!=' | '=~' | '!~', value: string];

export function sel(metric: string, matchers: Matcher[] = []): string {
  if (matchers.length === 0) return metric;
  const m = matchers.map(([l, op, v]) =>
    op === '=~' || op === '!~' ? `${l}${op}\`${v}\`` : `${l}${op}${promString(v)}`,
  );
  return `${metric}{${m.join(', ')}}`;
}

export function indent(s: string, n = 2): string {
  const pad = ' '.repeat(n);
  return s
    .split('\n')
    .map((l) => (l.length > 0 ? pad + l : l))
    .join('\n');
}

/**
 * Increase of counter series `s` over the last `w`, robust to series that start inside the window
 * and to counter resets. increase() cannot be used: it needs two samples, so a session whose
 * first scrape already shows 50 calls would count 0, and every session's series is new.
 *  - series that existed `w` ago and did not reset: exact difference (no extrapolation);
 *  - series born inside the window (no sample `w` ago) or reset inside it: the current value,
 *    i.e. everything counted since the series (re)started, which all happened inside the window.
 */
export function windowIncrease(s: string, w: string): string {
  return `(\n  (${s} - ${s} offset ${w} >= 0 unless resets(${s}[${w}]) > 0)\n  or\n  ${s}\n)`;
}

export function sumBy(labels: string[], inner: string): string {
  return `sum by (${labels.join(', ')}) (\n${indent(inner)}\n)`;
}

/**
 * Timestamps (at subquery resolution) at which counter series `s` changed or first appeared,
 * for use inside a subquery. Used to order events (an error, then a call to another tool).
 */
export function changeTimes(s: string, step: string): string {
  return `timestamp((${s} != ${s} offset ${step}) or (${s} unless ${s} offset ${step}))`;
}

/**
 * Number of observations above `threshold` in the last `w` per `by` group, from a classic
 * histogram: exact when the threshold is a bucket bound (count - bucket{le=threshold}).
 * Between bounds lo < threshold < hi it fires when a call is certainly above the threshold:
 * some call was above hi, or the calls above lo averaged (lower bound, from _sum) above it.
 */
export function observationsAbove(
  hist: string,
  bounds: readonly number[],
  threshold: number,
  matchers: Matcher[],
  w: string,
  by: string[],
): { expr: string; exact: boolean } {
  const count = sumBy(by, windowIncrease(sel(`${hist}_count`, matchers), w));
  const bucket = (le: number) =>
    sumBy(by, windowIncrease(sel(`${hist}_bucket`, [...matchers, ['le', '=~', leRegex(le)]]), w));
  if (bounds.includes(threshold)) {
    return { expr: `${count}\n-\n${bucket(threshold)}\n> 0`, exact: true };
  }
  const lo = Math.max(0, ...bounds.filter((b) => b < threshold));
  const hi = bounds.find((b) => b > threshold);
  const sum = sumBy(by, windowIncrease(sel(`${hist}_sum`, matchers), w));
  const above = lo === 0 ? count : `(\n${indent(count)}\n-\n${indent(bucket(lo))}\n)`;
  const lower = `(\n${indent(above)}\n  > 0\n)\nand\n(\n${indent(sum)}\n${
    lo === 0 ? '' : `  - ${lo} *\n${indent(count)}\n`
  }  >\n${indent(above)}\n  * ${threshold - lo}\n)`;
  if (hi === undefined) return { expr: lower, exact: false };
  return {
    expr: `(\n${indent(count)}\n-\n${indent(bucket(hi))}\n> 0\n)\nor\n(\n${indent(lower)}\n)`,
    exact: false,
  };
}
