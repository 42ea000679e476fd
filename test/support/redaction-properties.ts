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

// The email, phone and key=value patterns as first written, before they were rewritten for speed
// (atomic groups, a leading lookahead): the rewrites must find exactly what these find.
const FIRST_WRITTEN: Record<string, RegExp> = {
  email:
    /(?<![A-Za-z0-9._%+-])(?:(?<!:\/\/)[A-Za-z0-9._%+-]+@|[A-Za-z0-9._%+-]+%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}(?![A-Za-z0-9-])/g,
  phone: new RegExp(
    '(?<![A-Za-z0-9_+])\\+(?:[1-9][0-9]{6,14}(?![0-9])|[1-9][0-9]{0,2}(?:[ .-]?\\([0-9]{1,4}\\))?[ .-]?[0-9]{1,8}(?:[ ./-]{1,3}[0-9]{1,8}){0,6}(?![A-Za-z0-9]|[.-][0-9]))' +
      '|(?<![A-Za-z0-9_+.-])(?:1[ .-]?)?(?:\\([2-9][0-9]{2}\\)[ ./-]{0,3}[2-9][0-9]{2}[ ./-]{1,3}[0-9]{4}|[2-9][0-9]{2}[ ./-]{1,3}[2-9][0-9]{2}[ ./-]{1,3}[0-9]{4})(?![A-Za-z0-9]|[.-][0-9])' +
      '|(?:(?<![A-Za-z0-9_+./-])|(?<=:\\/\\/))0[1-9][0-9]{0,2}[ ./-][1-9][0-9]{5,7}(?![A-Za-z0-9]|[./-][0-9])',
    'g',
  ),
  key: /(?<![A-Za-z0-9_.-])-{0,2}([A-Za-z_][A-Za-z0-9_.-]{0,127})(\\{0,3}["'`])?[ \t]{0,16}(?:=>|[:=]|%3[AaDd])[ \t]{0,16}/g,
};
const rewritten: Record<string, RegExp> = {
  email: detectors.find((d) => d.name === 'email')!.re!,
  phone: detectors.find((d) => d.name === 'phone')!.re!,
  key: keyValueDetectors(isBuiltinSensitiveKey)[0]!.re!,
};
// Pieces the three patterns turn on: digits and their separators, '+' and parentheses, the local
// part and domain of an address, encodings, quotes, escapes and the key separators.
const patternPiece = fc.oneof(
  fc.constantFrom(
    '+',
    '(',
    ')',
    ' ',
    '.',
    '-',
    '/',
    '_',
    '@',
    '%40',
    '%3A',
    '%3d',
    '://',
    ':',
    '=',
    '=>',
    '\t',
    '"',
    "'",
    '`',
    '\\',
    '\\"',
    '0',
    '1',
    '5',
    '9',
    '415',
    '555',
    '0132',
    '4111',
    'x',
    'ab',
    'Z',
    'example',
    '.com',
    'password',
    'key',
    '--',
    '\n',
  ),
  fc.stringMatching(/^[0-9 .()+-]{1,12}$/),
  fc.stringMatching(/^[A-Za-z0-9._%+-]{1,10}$/),
  // Whole candidates: an address, a phone-shaped number, a key and its separator.
  fc
    .tuple(
      fc.stringMatching(/^[A-Za-z0-9._%+-]{1,10}$/),
      fc.constantFrom('@', '%40', '@@', ''),
      fc.stringMatching(/^[A-Za-z0-9.-]{1,10}$/),
      fc.constantFrom('.com', '.c', '.io', '', '.com-'),
    )
    .map((t) => t.join('')),
  fc.stringMatching(/^(?:\+|1 )?\(?[0-9]{1,4}\)?(?:[ ./-]{1,2}[0-9]{1,8}){0,4}$/),
  fc.stringMatching(/^\+?1?[ .-]?\(?[2-9][0-9]{2}\)?[ ./-]{0,2}[2-9][0-9]{2}[ ./-]{1,2}[0-9]{4}$/),
  fc.stringMatching(/^0[1-9][0-9]{0,2}[ ./-][1-9][0-9]{5,7}$/),
  fc
    .tuple(
      fc.constantFrom('', '-', '--', '---'),
      fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,12}$/),
      fc.constantFrom('', '"', '\\"', "'"),
      fc.constantFrom('', ' ', '\t '),
      fc.constantFrom('=', ':', '=>', '%3A', '%3d', '%2', ''),
    )
    .map((t) => t.join('')),
);

// Where the match starts and what it is; for key=value also the key and the quote (accept reads them).
function execAt(r: RegExp, s: string, from: number, groups: boolean): string {
  r.lastIndex = from;
  const m = r.exec(s);
  r.lastIndex = 0;
  if (m === null) return 'none';
  return JSON.stringify(groups ? [m.index, m[0], m[1] ?? null, m[2] ?? null] : [m.index, m[0]]);
}

const p8: RedactionProperty = {
  name: 'the email, phone and key=value patterns find what they found as first written, from every start',
  numRuns: 1500,
  property: () =>
    fc.property(
      fc.array(patternPiece, { maxLength: 14 }),
      fc.constantFrom('email', 'phone', 'key'),
      (parts, name) => {
        const s = parts.join('');
        const first = FIRST_WRITTEN[name]!;
        const now = rewritten[name]!;
        for (let from = 0; from <= s.length; from++) {
          // The email rewrite adds a capture group (its atomic group): there only where and what matched count.
          const groups = name === 'key';
          assert.equal(
            execAt(now, s, from, groups),
            execAt(first, s, from, groups),
            `${name} from ${from} in ${JSON.stringify(s)}`,
          );
        }
      },
    ),
};

// Strings holding corpus secrets, pieces of them, the rules' literals and near misses, so the fast
// path's gates (literals found in one pass, the base64 run) meet texts where a rule does match.
const ruleLiterals = detectors.flatMap((d) => d.literals ?? []);
const corpusValue = fc.constantFrom(...corpus.secrets.map((x) => x.value));
const gatePiece = fc.oneof(
  corpusValue,
  corpusValue.chain((v) => fc.nat(v.length).map((n) => v.slice(0, n))),
  corpusValue.chain((v) => fc.nat(v.length).map((n) => v.slice(n))),
  fc.constantFrom(...ruleLiterals),
  fc.stringMatching(/^[A-Za-z0-9/+]{30,50}$/),
  fc.constantFrom(' ', '\n', '=', ':', '"', '[REDACTED:email]', '\u00e9', '\uff10', '\u200b'),
  fc.string({ maxLength: 12 }),
);

const p9: RedactionProperty = {
  name: "the fast path's gates never change what a scan finds (corpus secrets, their pieces, rule literals)",
  numRuns: 2000,
  property: () =>
    fc.property(fc.array(gatePiece, { maxLength: 8 }), (parts) => {
      const s = parts.join('');
      for (const whole of [false, true])
        assert.deepEqual(scanText(s, detectors, { whole }), scanText(s, detectors, { whole, fast: false }));
    }),
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

export const REDACTION_PROPERTIES: readonly RedactionProperty[] = [p1, p2, p3, p4, p5, p6, p7, p8, p9];
