// The independent corpus (test/fixtures/independent-corpus.json: the test strings Yelp
// detect-secrets and Microsoft Presidio ship for their own detectors) through the built-in
// redactor, in the eight placements of the report: every upstream positive masked, and the
// false positives on the upstream negatives counted (published in docs/redaction.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRedactor } from '../../src/redaction/redact.js';
import { firedClasses, loadIndependentCorpus, measure } from '../support/corpus-rates.js';

const corpus = loadIndependentCorpus();
const redactor = createRedactor({ maxBytes: 1 << 20 });

// The count published in docs/redaction.md (30 of 236): lower both when a change removes one.
const PUBLISHED_FALSE_POSITIVES = 30;

test('the fixture names its sources, with licence and commit, and keeps positives and negatives apart', () => {
  const ids = new Set(corpus.sources.map((s) => s.id));
  for (const s of corpus.sources) {
    assert.match(s.commit, /^[0-9a-f]{40}$/, s.id);
    assert.ok(['MIT', 'Apache-2.0'].includes(s.licence), s.id);
    assert.ok(s.repository.includes('/') && s.path.length > 0, s.id);
  }
  assert.ok(corpus.positives.length >= 200, `${corpus.positives.length} positives`);
  assert.ok(corpus.negatives.length >= 200, `${corpus.negatives.length} negatives`);
  for (const e of [...corpus.positives, ...corpus.negatives]) assert.ok(ids.has(e.source), e.source);
  const positive = new Set(corpus.positives.map((p) => p.value));
  for (const n of corpus.negatives)
    assert.ok(!positive.has(n.value), `both positive and negative: ${n.value}`);
});

test('every upstream positive is masked in every placement', () => {
  const { survivors } = measure(redactor, corpus.positives, []);
  assert.deepEqual(
    survivors.map((s) => `${s.class} ${JSON.stringify(s.value)} (${s.source})`),
    [],
  );
});

test('false positives on the upstream negatives: counted, and no more than published', (t) => {
  const { falsePositives } = measure(redactor, [], corpus.negatives);
  const n = corpus.negatives.length;
  t.diagnostic(
    `independent corpus: ${falsePositives.length}/${n} negatives changed (${((100 * falsePositives.length) / n).toFixed(1)} % false positives)`,
  );
  for (const f of falsePositives)
    t.diagnostic(
      `  ${f.class}: ${JSON.stringify(f.value).slice(0, 100)} (${firedClasses(redactor, f.value).join(', ')})`,
    );
  assert.ok(
    falsePositives.length <= PUBLISHED_FALSE_POSITIVES,
    `${falsePositives.length} false positives, more than the ${PUBLISHED_FALSE_POSITIVES} published`,
  );
});
