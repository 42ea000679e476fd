// How a checklist line's evidence is put together: each source gives a part (✓, ✗ or ?, with its
// text), and counts and shares are written the same way on every line.
import type { Check } from './observations.js';

/** One source's finding on a checklist line. */
export interface Part {
  ok: boolean | null;
  text: string;
}
export const pass = (text: string): Part => ({ ok: true, text });
export const fail = (text: string): Part => ({ ok: false, text });
export const unknown = (text: string): Part => ({ ok: null, text });

/** Any source showing the red flag fails the line; all sources clean passes it; otherwise unknown. */
export function combine(id: string, title: string, parts: Part[]): Check {
  const ok = parts.some((p) => p.ok === false) ? false : parts.every((p) => p.ok === true) ? true : null;
  return { id, title, ok, evidence: parts.map((p) => p.text).join('; ') };
}

/** Names, up to `max` of them, then how many more. */
export function list(names: string[], max = 8): string {
  return names.length <= max
    ? names.join(', ')
    : `${names.slice(0, max).join(', ')}, +${names.length - max} more`;
}

export const pct = (x: number): string => `${Math.round(x * 1000) / 10}%`;
export const share = (n: number, d: number): string => `${fmt(n)}/${fmt(d)} (${pct(d ? n / d : 0)})`;
export const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(1));
