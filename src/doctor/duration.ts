// Prometheus-style durations (retention settings, --lookback, --app-retention): parsed to seconds
// and written back in the largest whole units.

// ---- durations ----------------------------------------------------------------------------------

const UNIT_SECONDS: Record<string, number> = {
  y: 365 * 86400,
  w: 7 * 86400,
  d: 86400,
  h: 3600,
  m: 60,
  s: 1,
  ms: 0.001,
};

/** Prometheus-style duration (30d, 1h30m, 90s, 1y) in seconds; null when malformed or zero. */
export function parseDuration(text: string): number | null {
  if (!/^(\d+(ms|y|w|d|h|m|s))+$/.test(text)) return null;
  let total = 0;
  for (const m of text.matchAll(/(\d+)(ms|y|w|d|h|m|s)/g)) total += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
  return total > 0 ? total : null;
}

/** Seconds in the largest whole units, e.g. 1296000 → 15d, 5400 → 1h30m. */
export function formatSeconds(seconds: number): string {
  let rest = Math.round(seconds);
  const out: string[] = [];
  for (const [u, s] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= s) {
      out.push(`${Math.floor(rest / s)}${u}`);
      rest %= s;
    }
  }
  return out.join('') || '0s';
}
