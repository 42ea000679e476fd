// Every counterexample `npm run fuzz` has found, replayed as a fixed case: property failures by
// their fast-check seed and path (the exact failing input), corpus-fuzzer inputs as they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from '../support/property.js';
import { REDACTION_PROPERTIES } from '../support/redaction-properties.js';
import { allStrings, leak, type Secret } from '../support/evasion.js';
import { createRedactor } from '../../src/redaction/redact.js';

interface Regressions {
  properties: Array<{ name: string; seed: number; path: string }>;
  inputs: Array<{ note?: string; secret: Secret; input: unknown }>;
}

const regressions = JSON.parse(
  readFileSync(new URL('../fixtures/redaction-regressions.json', import.meta.url), 'utf8'),
) as Regressions;
const redactor = createRedactor({ maxBytes: 1 << 20 });

test('the regression fixture has cases', () => {
  assert.ok(regressions.inputs.length >= 10);
});

for (const p of regressions.properties) {
  test(`property replay: ${p.name} (seed ${p.seed}, path ${p.path})`, () => {
    const property = REDACTION_PROPERTIES.find((x) => x.name === p.name);
    assert.ok(property, `no property named ${p.name}`);
    fc.assert(property.property(), { seed: p.seed, path: p.path, endOnFailure: true });
  });
}

test('every recorded fuzzer input has its secret masked', () => {
  for (const r of regressions.inputs) {
    const out = redactor.json(r.input);
    assert.ok(out.text !== undefined);
    const found = leak(r.secret, [...allStrings(JSON.parse(out.text)), out.text]);
    assert.equal(found, undefined, `${r.note ?? r.secret.class}: ${out.text}`);
    assert.ok(out.count >= 1, r.note);
  }
});
