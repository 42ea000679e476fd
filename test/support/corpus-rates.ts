// Masked and false-positive rates of a redactor on a corpus, per class: shared by
// `npm run redaction:report` (the tables in docs/redaction.md) and the corpus tests, so the
// figures published and the figures tested are computed the same way.
import { readFileSync } from 'node:fs';
import { allStrings, leak, type Secret } from './evasion.js';

/** What the report and tests need of a redactor: createRedactor()'s json(). */
export interface JsonRedactor {
  json(value: unknown): { text?: string };
}

/** The eight ways a string is placed in a payload: bare, prose, SQL, URL query, nested object, array, JSON in a string, multi-line text. */
export const SHAPES: ReadonlyArray<(s: string) => unknown> = [
  (s) => s,
  (s) => `Hi team, please use ${s} for the migration.`,
  (s) => `SELECT * FROM accounts WHERE ref = '${s}' LIMIT 1`,
  (s) => `https://api.example.com/v1/lookup?q=${s}&page=2`,
  (s) => ({ a: { b: [{ c: s }] } }),
  (s) => [1, s, 'x', null],
  (s) => JSON.stringify({ note: s, n: 1 }),
  (s) => `line one\n${s}\nline three`,
];

const MASK = /\[REDACTED:[a-z0-9_]+\]/g;

/** The secret of `value` is hidden in every placement: none of its fingerprints is visible. */
export function maskedEverywhere(r: JsonRedactor, value: string, secret: Secret): boolean {
  return SHAPES.every((shape) => {
    const out = r.json(shape(value));
    if (out.text === undefined) return true;
    // A mask's own label is not a trace (`password` in `[REDACTED:url_password]`).
    const texts = [...allStrings(JSON.parse(out.text)), out.text].map((t) => t.replace(MASK, '[]'));
    return leak(secret, texts) === undefined;
  });
}

/** Some placement of `value` comes out changed (a false positive when `value` holds no secret). */
export function changedSomewhere(r: JsonRedactor, value: string): boolean {
  return SHAPES.some((shape) => {
    const input = shape(value);
    return r.json(input).text !== JSON.stringify(input);
  });
}

/** The classes whose masks appear when `value` is redacted in any placement. */
export function firedClasses(r: JsonRedactor, value: string): string[] {
  const out = new Set<string>();
  for (const shape of SHAPES) {
    const text = r.json(shape(value)).text ?? '';
    for (const m of text.matchAll(/\[REDACTED:([a-z0-9_]+)\]/g)) out.add(m[1]!);
  }
  return [...out].sort();
}

export interface ClassRow {
  cls: string;
  positives: number;
  masked: number;
  negatives: number;
  falsePositives: number;
}

export interface IndependentEntry {
  class: string;
  value: string;
  /** The part that must not stay visible, when it is not the whole value. */
  secret?: string;
  source: string;
  note?: string;
}

export interface IndependentCorpus {
  sources: Array<{ id: string; repository: string; path: string; commit: string; licence: string }>;
  positives: IndependentEntry[];
  negatives: IndependentEntry[];
}

export function loadIndependentCorpus(): IndependentCorpus {
  return JSON.parse(
    readFileSync(new URL('../fixtures/independent-corpus.json', import.meta.url), 'utf8'),
  ) as IndependentCorpus;
}

export interface Outcome {
  rows: ClassRow[];
  survivors: IndependentEntry[];
  falsePositives: IndependentEntry[];
}

/** Positives and negatives, each with a class, measured per class. */
export function measure(
  r: JsonRedactor,
  positives: IndependentEntry[],
  negatives: IndependentEntry[],
): Outcome {
  const rows = new Map<string, ClassRow>();
  const row = (cls: string): ClassRow => {
    let x = rows.get(cls);
    if (!x) rows.set(cls, (x = { cls, positives: 0, masked: 0, negatives: 0, falsePositives: 0 }));
    return x;
  };
  const survivors: IndependentEntry[] = [];
  const falsePositives: IndependentEntry[] = [];
  for (const p of positives) {
    const x = row(p.class);
    x.positives++;
    if (maskedEverywhere(r, p.value, { class: p.class, value: p.secret ?? p.value })) x.masked++;
    else survivors.push(p);
  }
  for (const n of negatives) {
    const x = row(n.class);
    x.negatives++;
    if (changedSomewhere(r, n.value)) {
      x.falsePositives++;
      falsePositives.push(n);
    }
  }
  return { rows: [...rows.values()].sort((a, b) => a.cls.localeCompare(b.cls)), survivors, falsePositives };
}

const pct = (n: number, d: number): string => (d === 0 ? '–' : `${((100 * n) / d).toFixed(1)} %`);

/** The Markdown table of docs/redaction.md. */
export function table(rows: ClassRow[]): string[] {
  const out = ['| class | positives | masked | negatives | false positives |', '|---|---:|---:|---:|---:|'];
  const sum: ClassRow = { cls: '**all**', positives: 0, masked: 0, negatives: 0, falsePositives: 0 };
  for (const x of rows) {
    out.push(
      `| ${x.cls} | ${x.positives} | ${pct(x.masked, x.positives)} | ${x.negatives} | ${pct(x.falsePositives, x.negatives)} |`,
    );
    sum.positives += x.positives;
    sum.masked += x.masked;
    sum.negatives += x.negatives;
    sum.falsePositives += x.falsePositives;
  }
  out.push(
    `| ${sum.cls} | ${sum.positives} | ${pct(sum.masked, sum.positives)} | ${sum.negatives} | ${pct(sum.falsePositives, sum.negatives)} |`,
  );
  return out;
}
