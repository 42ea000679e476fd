// The redaction properties, defined once: `npm test` runs them with the fixed seed of
// test/support/property.ts, `npm run fuzz` with random seeds, and the regression replay
// (redact.regressions.test.ts) re-runs each recorded counterexample by its seed and path.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { createRedactor, type CaptureMode } from '../../src/redaction/redact.js';
import { builtinDetectors } from '../../src/redaction/detectors.js';
import { keyValueDetectors } from '../../src/redaction/key-value.js';
import { isBuiltinSensitiveKey } from '../../src/redaction/keys.js';
import { scanText } from '../../src/redaction/scanner.js';
import { PLACEMENTS, TRANSFORMS, allStrings, leak, type Rng } from './evasion.js';

const corpus = JSON.parse(
  readFileSync(new URL('../fixtures/secrets-corpus.json', import.meta.url), 'utf8'),
) as {
  secrets: Array<{ class: string; value: string }>;
};

const red = createRedactor({ hashKey: 'prop' });
const modes: CaptureMode[] = ['redacted', 'hash', 'shape', 'none'];

const anything = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withTypedArray: true,
  withSparseArray: true,
  stringUnit: 'binary',
});

function assertJson(text: string | undefined, maxBytes: number): void {
  if (text === undefined) return;
  assert.ok(Buffer.byteLength(text) <= maxBytes, `${Buffer.byteLength(text)} > ${maxBytes}`);
  JSON.parse(text);
}

const p1: RedactionProperty = {
  name: 'value/json/string never throw; json text is valid JSON within maxBytes (no allowance)',
  numRuns: 1500,
  property: () =>
    fc.property(
      anything,
      fc.integer({ min: 64, max: 600 }),
      fc.constantFrom(...modes),
      (v, maxBytes, mode) => {
        const r = createRedactor({ maxBytes, hashKey: 'prop' });
        r.value(v, mode);
        assertJson(r.json(v, mode).text, maxBytes);
        assertJson(red.json(v, mode).text, 4096);
        r.string(v as string);
      },
    ),
};

const p2: RedactionProperty = {
  name: 'arbitrary unicode strings: string() output has no lone-surrogate cuts and json() stays bounded',
  numRuns: 500,
  property: () =>
    fc.property(
      fc.string({ unit: 'binary', maxLength: 400 }),
      fc.integer({ min: 64, max: 200 }),
      (s, maxBytes) => {
        const r = createRedactor({ maxBytes });
        assert.equal(typeof r.string(s).text, 'string');
        assertJson(r.json({ s, arr: [s, s] }).text, maxBytes);
      },
    ),
};

function shapeMatches(input: unknown, output: unknown): void {
  if (Array.isArray(input)) {
    assert.ok(Array.isArray(output));
    assert.equal(output.length, input.length);
    input.forEach((x, i) => shapeMatches(x, (output as unknown[])[i]));
  } else if (typeof input === 'object' && input !== null) {
    assert.ok(typeof output === 'object' && output !== null && !Array.isArray(output));
    const keys = Object.keys(input);
    assert.equal(Object.keys(output).length, keys.length);
    for (const k of keys) {
      const outKey = red.string(k).count === 0 ? k : undefined;
      if (outKey === undefined) continue;
      assert.ok(Object.prototype.hasOwnProperty.call(output, outKey), `key ${JSON.stringify(k)} lost`);
      shapeMatches((input as Record<string, unknown>)[k], (output as Record<string, unknown>)[outKey]);
    }
  }
}

const p3: RedactionProperty = {
  name: 'array lengths and key sets survive for plain JSON data within the depth limit, in every mode',
  numRuns: 1000,
  property: () =>
    fc.property(
      fc.jsonValue({ maxDepth: 8 }),
      fc.constantFrom<CaptureMode>('redacted', 'hash', 'shape'),
      (v, mode) => {
        const out = red.value(v, mode);
        assert.equal(out.truncated, false);
        shapeMatches(v, out.value);
      },
    ),
};

const p4: RedactionProperty = {
  name: 'redaction is idempotent',
  numRuns: 500,
  property: () =>
    fc.property(fc.jsonValue({ maxDepth: 5 }), (v) => {
      const once = red.value(v);
      const twice = red.value(once.value);
      assert.deepEqual(twice.value, once.value);
      assert.equal(twice.count, 0);
    }),
};

// Secrets are placed as tokens: separated from the random text by a space, the way they appear in
// prose, logs and SQL. Glued to letters (`abc4111…`) a number is deliberately not a card.
const secretArb = fc.constantFrom(...corpus.secrets);
// Large enough that truncation never hides the question of whether the secret was masked.
const roomy = createRedactor({ maxBytes: 1 << 20 });
const textArb = fc.string({ maxLength: 30 });

function core(s: { class: string; value: string }): string {
  if (s.class === 'url_password') return /^[^:]+:\/\/[^:/@]*:(.+)@[^@]*$/.exec(s.value)![1]!;
  if (s.class === 'bearer') return s.value.replace(/^(Bearer|Basic)\s+/, '');
  if (s.value.startsWith('https://hooks.slack.com/services/')) return s.value.slice(33);
  return s.value;
}

const p5: RedactionProperty = {
  name: 'an injected corpus secret never survives, wherever it lands in arbitrary data',
  numRuns: 2000,
  property: () =>
    fc.property(
      fc.jsonValue({ maxDepth: 4 }),
      secretArb,
      textArb,
      textArb,
      fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.nat(20)), { maxLength: 4 }),
      (base, secret, before, after, path) => {
        const text = `${before} ${secret.value} ${after}`;
        let doc: unknown = text;
        for (const step of path.reverse()) {
          doc =
            typeof step === 'number'
              ? [...Array.from({ length: step % 4 }, () => base), doc]
              : { [step]: doc, other: base };
        }
        const out = roomy.json({ base, doc });
        assert.ok(out.text !== undefined && !out.truncated);
        const c = core(secret);
        assert.ok(
          !out.text.includes(JSON.stringify(c).slice(1, -1)),
          `${secret.class} survived: ${out.text.slice(0, 300)}`,
        );
        assert.ok(out.count >= 1);
      },
    ),
};

const detectors = [...builtinDetectors(new Set()), ...keyValueDetectors(isBuiltinSensitiveKey)];
const tokenish = fc.constantFrom(
  'Bearer ',
  'Basic ',
  'eyJ',
  'AKIA',
  'sk-',
  'ghp_',
  'xoxb-',
  '@',
  '%40',
  ':',
  '=',
  ' ',
  '-',
  '.',
  'password',
  'token',
);

const p6: RedactionProperty = {
  name: 'the fast path never changes what a scan finds',
  numRuns: 3000,
  property: () =>
    fc.property(
      fc.array(fc.oneof(fc.string({ maxLength: 20 }), tokenish, fc.stringMatching(/^[A-Za-z~. ]{0,40}$/)), {
        maxLength: 8,
      }),
      (parts) => {
        const s = parts.join('');
        assert.deepEqual(scanText(s, detectors, { fast: true }), scanText(s, detectors, { fast: false }));
      },
    ),
};

export interface RedactionProperty {
  name: string;
  numRuns: number;
  property: () => fc.IRawProperty<unknown[]>;
}

/** A small seeded generator, so one fast-check integer drives every choice of a transform. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const p7: RedactionProperty = {
  name: 'an evasion form of a corpus secret (separators, format characters, Unicode digits, encodings) never survives',
  numRuns: 2000,
  property: () =>
    fc.property(
      secretArb,
      fc.constantFrom(...TRANSFORMS),
      fc.constantFrom(...PLACEMENTS),
      fc.integer(),
      (secret, transform, placement, seed) => {
        const rng = mulberry32(seed);
        const value = transform.applies(secret) ? transform.apply(secret, rng) : secret.value;
        const input = placement.place(value, rng);
        const out = roomy.json(input);
        assert.ok(out.text !== undefined && !out.truncated);
        const found = leak(secret, [...allStrings(JSON.parse(out.text)), out.text]);
        assert.equal(
          found,
          undefined,
          `${secret.class} via ${transform.name} in ${placement.name}: ${JSON.stringify(input).slice(0, 200)} -> ${out.text.slice(0, 300)}`,
        );
      },
    ),
};

export const REDACTION_PROPERTIES: readonly RedactionProperty[] = [p1, p2, p3, p4, p5, p6, p7];
