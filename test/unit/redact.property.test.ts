// The redaction properties with the fixed seed of test/support/property.ts (deterministic);
// `npm run fuzz` explores the same properties with random seeds.
import { test } from 'node:test';
import fc from '../support/property.js';
import { REDACTION_PROPERTIES } from '../support/redaction-properties.js';

for (const p of REDACTION_PROPERTIES) {
  test(p.name, () => {
    fc.assert(p.property(), { numRuns: p.numRuns });
  });
}
