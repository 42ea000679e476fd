// mcp_audit.result.size is the result's serialized JSON in UTF-8 bytes. It is measured without
// serializing a large result again, so it must equal what JSON.stringify would give, byte for byte,
// for every value a tool or a transport can hand over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resultSize } from '../../src/instrumentation/summarize.js';
import fc from '../support/property.js';

/** What the size means: the bytes of JSON.stringify, 0 when it throws or writes nothing. */
function serializedBytes(value: unknown): number {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? 0 : Buffer.byteLength(text, 'utf8');
  } catch {
    return 0;
  }
}

// Long strings (measured in place) built from what JSON escapes or encodes in more than one byte;
// a lone surrogate (written as \uXXXX) rarely, so most of them are well-formed.
const UNITS = [
  'a',
  ' ',
  '"',
  '\\',
  '\n',
  '\t',
  '\b',
  '\f',
  '\r',
  '\u0001',
  '\u001f',
  '\u007f',
  'é',
  '€',
  '😀',
  '\u2028',
];
const longString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ minLength: 1000, maxLength: 5000, unit: fc.constantFrom(...UNITS) }) },
  {
    weight: 1,
    arbitrary: fc.string({
      minLength: 1000,
      maxLength: 5000,
      unit: fc.constantFrom(...UNITS, '\ud800', '\udc00'),
    }),
  },
);

test('any value: exactly the bytes of JSON.stringify', () => {
  fc.assert(
    fc.property(
      fc.anything({
        maxDepth: 4,
        maxKeys: 80,
        withDate: true,
        withMap: true,
        withSet: true,
        withTypedArray: true,
        withSparseArray: true,
        withBoxedValues: true,
        withNullPrototype: true,
        withObjectString: true,
        values: [longString, fc.string(), fc.double(), fc.boolean(), fc.constant(null)],
      }),
      (value) => assert.equal(resultSize(value), serializedBytes(value)),
    ),
    { numRuns: 2000 },
  );
});

test('tool results as the SDK carries them, small and large', () => {
  const text = (s: string) => ({ content: [{ type: 'text', text: s }] });
  const rows = Array.from({ length: 5000 }, (_, i) => ({ id: i, name: `Ada ${i}`, note: 'café "x"\n' }));
  for (const result of [
    text('ok'),
    text('r'.repeat(1 << 20)),
    text(`${'line "quoted" \\ tab\t\n'.repeat(50_000)}`),
    text('😀'.repeat(300_000)),
    text(`${'a'.repeat(4000)}\ud800`),
    { content: [{ type: 'text', text: JSON.stringify({ rows }) }], structuredContent: { rows } },
    { contents: [{ uri: 'file:///a', blob: Buffer.alloc(600_000, 7).toString('base64') }] },
    { content: [], isError: true, _meta: { at: new Date(0), skipped: undefined } },
  ]) {
    assert.equal(resultSize(result), serializedBytes(result));
  }
});

test('what JSON.stringify cannot write measures 0; what it omits measures nothing', () => {
  const cycle: Record<string, unknown> = { a: { b: {} } };
  (cycle.a as { b: Record<string, unknown> }).b.c = cycle;
  assert.equal(resultSize(cycle), 0);
  assert.equal(resultSize({ n: 1n }), 0);
  assert.equal(resultSize(undefined), 0);
  assert.equal(
    resultSize(() => 1),
    0,
  );
  assert.equal(resultSize({ f: () => 1, u: undefined, s: Symbol('x'), ok: true }), '{"ok":true}'.length);
  assert.equal(resultSize([undefined, () => 1]), '[null,null]'.length);
  const long = 'x'.repeat(5000);
  assert.equal(resultSize({ toJSON: (key: string) => `${key}${long}` }), 5002);
  assert.equal(resultSize({ a: { toJSON: (key: string) => `${key}${long}` } }), 5003 + '{"a":}'.length);
});
