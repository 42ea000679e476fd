// Percentiles and the paired differences the tables report: each configuration against the
// baseline of the same round, then the median over rounds (and the spread, so noise shows).

export function percentile(values: ArrayLike<number>, p: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank]!;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(values: number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** One run's figures: CPU per call, latency median and p95 (µs). */
export interface RunFigures {
  cpu: number;
  p50: number;
  p95: number;
}

export function figures(cpuPerCallUs: number, latenciesUs: number[]): RunFigures {
  return { cpu: cpuPerCallUs, p50: percentile(latenciesUs, 0.5), p95: percentile(latenciesUs, 0.95) };
}

export interface PairedRow {
  cpu: Spread;
  p50: Spread;
  p95: Spread;
}

/** `runs[i]` and `baselines[i]` are the same round. */
export function paired(runs: RunFigures[], baselines: RunFigures[]): PairedRow {
  const diff = (key: keyof RunFigures) => spread(runs.map((r, i) => r[key] - baselines[i]![key]));
  return { cpu: diff('cpu'), p50: diff('p50'), p95: diff('p95') };
}

export function us(value: number, signed = true): string {
  if (!Number.isFinite(value)) return 'n/a';
  const text = Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(1);
  return signed && value >= 0 ? `+${text}` : text;
}

/** `+12.3 µs (8.1 … 15.0)`: the median paired difference and its range over rounds. */
export function withRange(s: Spread, unit = 'µs'): string {
  return `${us(s.median)} ${unit} (${us(s.min, false)} … ${us(s.max, false)})`;
}
