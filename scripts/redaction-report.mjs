// npm run redaction:report: masked and false-positive rates per class, measured with the
// built-in redactor on test/fixtures/secrets-corpus.json. A secret counts as masked when none of
// its fingerprints (whole, digits-only, partial) is visible in any of eight placements (bare,
// prose, SQL, URL query, nested object, array, JSON in a string, multi-line text); a look-alike
// counts as a false positive when any placement comes out changed. Prints a Markdown table
// (the one in docs/redaction.md).
import { readFileSync } from 'node:fs';

const { createRedactor } = await import('../src/redaction/redact.ts');
const { allStrings, leak } = await import('../test/support/evasion.ts');

const corpus = JSON.parse(
  readFileSync(new URL('../test/fixtures/secrets-corpus.json', import.meta.url), 'utf8'),
);
const r = createRedactor({ maxBytes: 1 << 20 });

const shapes = (s) => [
  s,
  `Hi team, please use ${s} for the migration.`,
  `SELECT * FROM accounts WHERE ref = '${s}' LIMIT 1`,
  `https://api.example.com/v1/lookup?q=${s}&page=2`,
  { a: { b: [{ c: s }] } },
  [1, s, 'x', null],
  JSON.stringify({ note: s, n: 1 }),
  `line one\n${s}\nline three`,
];

const byClass = new Map();
for (const secret of corpus.secrets) {
  const row = byClass.get(secret.class) ?? { total: 0, masked: 0 };
  row.total++;
  const hidden = shapes(secret.value).every((input) => {
    const out = r.json(input);
    return leak(secret, [...allStrings(JSON.parse(out.text)), out.text]) === undefined;
  });
  if (hidden) row.masked++;
  byClass.set(secret.class, row);
}
let lookalikeHits = 0;
const hits = [];
for (const l of corpus.lookalikes) {
  const changed = shapes(l).some((input) => r.json(input).text !== JSON.stringify(input));
  if (changed) {
    lookalikeHits++;
    hits.push(l);
  }
}

const pct = (n, d) => (d === 0 ? '–' : `${((100 * n) / d).toFixed(1)} %`);
console.log('| class | samples | masked |');
console.log('|---|---:|---:|');
let total = 0;
let masked = 0;
for (const [cls, row] of [...byClass.entries()].sort(([a], [b]) => a.localeCompare(b))) {
  console.log(`| ${cls} | ${row.total} | ${pct(row.masked, row.total)} |`);
  total += row.total;
  masked += row.masked;
}
console.log(`| **all secrets** | ${total} | ${pct(masked, total)} |`);
console.log('');
console.log(
  `Look-alikes: ${corpus.lookalikes.length}, false positives ${lookalikeHits} (${pct(lookalikeHits, corpus.lookalikes.length)})`,
);
for (const h of hits) console.log(`  false positive: ${JSON.stringify(h)}`);
