// npm run redaction:report: masked and false-positive rates per class, measured with the
// built-in redactor on two corpora, printed as the Markdown tables of docs/redaction.md.
// - The project's corpus (test/fixtures/secrets-corpus.json): secrets per class, and look-alikes
//   (no class of their own: a false positive is counted against the class whose mask appears).
// - The independent corpus (test/fixtures/independent-corpus.json): the test strings of
//   Yelp detect-secrets and Microsoft Presidio, positives and negatives per upstream detector.
// A secret counts as masked when none of its fingerprints (whole, digits-only, partial) is
// visible in any of eight placements (bare, prose, SQL, URL query, nested object, array, JSON in
// a string, multi-line text); a negative counts as a false positive when any placement comes out
// changed. The measuring code is test/support/corpus-rates.ts, shared with the tests.
import { readFileSync } from 'node:fs';

const { createRedactor } = await import('../src/redaction/redact.ts');
const { measure, table, firedClasses, loadIndependentCorpus } =
  await import('../test/support/corpus-rates.ts');

const r = createRedactor({ maxBytes: 1 << 20 });
const pct = (n, d) => (d === 0 ? '–' : `${((100 * n) / d).toFixed(1)} %`);

const project = JSON.parse(
  readFileSync(new URL('../test/fixtures/secrets-corpus.json', import.meta.url), 'utf8'),
);
const own = measure(r, project.secrets, []);
const lookalikeHits = new Map();
const hits = [];
for (const value of project.lookalikes) {
  const fired = firedClasses(r, value);
  if (fired.length > 0) hits.push({ value, fired });
  for (const cls of fired) lookalikeHits.set(cls, (lookalikeHits.get(cls) ?? 0) + 1);
}
const n = project.lookalikes.length;
for (const row of own.rows) {
  row.negatives = n;
  row.falsePositives = lookalikeHits.get(row.cls) ?? 0;
}

console.log('### Project corpus (test/fixtures/secrets-corpus.json)');
console.log('');
console.log(
  `Negatives are the ${n} look-alikes, shared by every class; a false positive is a look-alike that class masked.`,
);
console.log('');
for (const line of table(own.rows))
  console.log(
    line.replace(
      /\| \*\*all\*\* \|(.*)\| [0-9]+ \| [^|]+ \|$/,
      `| **all** |$1| ${n} | ${pct(hits.length, n)} |`,
    ),
  );
for (const h of hits) console.log(`  false positive: ${JSON.stringify(h.value)} (${h.fired.join(', ')})`);
for (const s of own.survivors) console.log(`  survived: ${s.class} ${JSON.stringify(s.value)}`);

const indep = loadIndependentCorpus();
const out = measure(r, indep.positives, indep.negatives);
console.log('');
console.log('### Independent corpus (test/fixtures/independent-corpus.json)');
console.log('');
for (const line of table(out.rows)) console.log(line);
console.log('');
console.log(
  `Positives ${indep.positives.length}, masked ${indep.positives.length - out.survivors.length} (${pct(indep.positives.length - out.survivors.length, indep.positives.length)}); negatives ${indep.negatives.length}, false positives ${out.falsePositives.length} (${pct(out.falsePositives.length, indep.negatives.length)})`,
);
for (const s of out.survivors) console.log(`  survived: ${s.class} ${JSON.stringify(s.value)}`);
for (const f of out.falsePositives)
  console.log(
    `  false positive: ${f.class} ${JSON.stringify(f.value)} (${firedClasses(r, f.value).join(', ')})`,
  );
