// The collector audit file's tolerant reader on crafted crash leftovers: a torn object with the
// restarted collector's first batch glued to it, a torn last line, tears inside strings and
// escapes, and (property) a cut at any byte of any object of a file, counted by span id.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from '../support/property.js';
import {
  parseAuditLine,
  parseAuditText,
  readAuditFile,
  type TracesData,
} from '../../src/evidence/collector-audit-file.js';

const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-torn-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A TracesData line as the collector's file exporter writes it (compact JSON). */
function batch(spanIds: string[], note = 'plain'): string {
  return JSON.stringify(batchData(spanIds, note));
}

function batchData(spanIds: string[], note = 'plain') {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'agent' } }] },
        scopeSpans: [
          {
            scope: { name: 'mcp-audit' },
            spans: spanIds.map((id) => ({
              traceId: `${id}${id}`,
              spanId: id,
              name: 'tools/call read',
              attributes: [
                // strings holding braces, quotes and the object-start text itself (escaped)
                { key: 'gen_ai.tool.call.arguments', value: { stringValue: `{"resourceSpans":"${note}"}` } },
                { key: 'note', value: { stringValue: 'a \\ backslash } and {' } },
              ],
            })),
          },
        ],
      },
    ],
  };
}

/** Span ids of `spanIds` whose JSON ends within the first `at` characters of their batch's line. */
function completeBefore(spanIds: string[], note: string, at: number): string[] {
  const text = batch(spanIds, note);
  const spans = batchData(spanIds, note).resourceSpans[0]!.scopeSpans[0]!.spans;
  return spans
    .filter((s) => {
      const json = JSON.stringify(s);
      return text.indexOf(json) + json.length <= at;
    })
    .map((s) => s.spanId);
}

const ids = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`.padEnd(16, '0'));

function spanIdsOf(text: string): { seen: Map<string, number>; summary: ReturnType<typeof parseAuditText> } {
  const seen = new Map<string, number>();
  const summary = parseAuditText(text, (d: TracesData) => {
    for (const rs of d.resourceSpans ?? [])
      for (const ss of rs.scopeSpans ?? [])
        for (const s of ss.spans ?? []) seen.set(s.spanId!, (seen.get(s.spanId!) ?? 0) + 1);
  });
  return { seen, summary };
}

describe('collector audit file reader', () => {
  it('reads an intact file: every object, no tear', () => {
    const text = `${batch(ids('a', 3))}\n${batch(ids('b', 2))}\n`;
    const { seen, summary } = spanIdsOf(text);
    assert.equal(summary.records, 2);
    assert.equal(summary.spans, 5);
    assert.equal(seen.size, 5);
    assert.deepEqual(summary.tears, []);
  });

  it('recovers the batch glued after a torn object and reports the tear with its line', () => {
    const before = batch(ids('a', 3));
    const torn = batch(ids('t', 4)).slice(0, 150); // killed mid-write, inside the first span
    const glued = batch(ids('g', 5)); // the restarted collector's first batch, same line
    const after = batch(ids('z', 2));
    const text = `${before}\n${torn}${glued}\n${after}\n`;
    const { seen, summary } = spanIdsOf(text);
    assert.equal(summary.lines, 3);
    assert.equal(summary.records, 3);
    assert.deepEqual(
      [...seen.keys()].sort(),
      [...ids('a', 3), ...ids('g', 5), ...ids('z', 2)].sort(),
      'every complete object around the tear, once each',
    );
    assert.deepEqual(summary.tears, [
      { line: 2, length: 150, recoveredOnLine: 1, salvagedSpans: 0, atEnd: false },
    ]);
  });

  it('salvages the spans a torn object holds whole, with their resource, and only those', () => {
    const full = batch(ids('t', 4));
    const at = full.indexOf(ids('t', 4)[2]!); // inside the third span
    const text = `${full.slice(0, at)}${batch(ids('g', 1))}\n`;
    let resources = 0;
    const seen: string[] = [];
    const summary = parseAuditText(text, (d) => {
      for (const rs of d.resourceSpans ?? []) {
        if (rs.resource?.attributes?.length) resources++;
        for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) seen.push(s.spanId!);
      }
    });
    assert.deepEqual(seen.sort(), [...ids('t', 4).slice(0, 2), ...ids('g', 1)].sort());
    assert.equal(resources, 2, 'the salvaged spans keep their resource');
    assert.equal(summary.spans, 3);
    assert.deepEqual(summary.tears, [
      { line: 1, length: at, recoveredOnLine: 1, salvagedSpans: 2, atEnd: false },
    ]);
  });

  it('a torn last line without a newline is a tear at the end', () => {
    const text = `${batch(ids('a', 1))}\n${batch(ids('t', 2)).slice(0, 40)}`;
    const { seen, summary } = spanIdsOf(text);
    assert.equal(seen.size, 1);
    assert.deepEqual(summary.tears, [
      { line: 2, length: 40, recoveredOnLine: 0, salvagedSpans: 0, atEnd: true },
    ]);
  });

  it('two objects on one line with no fragment between them are both read: glued, no tear', () => {
    const { records, fragments } = parseAuditLine(`${batch(ids('a', 1))}${batch(ids('b', 1))}`);
    assert.equal(records.length, 2);
    assert.deepEqual(fragments, []);
    // the collector killed after an object, before its newline: the next run appends to the line
    const { seen, summary } = spanIdsOf(
      `${batch(ids('a', 2))}\n${batch(ids('b', 2))}${batch(ids('c', 1))}\n`,
    );
    assert.equal(seen.size, 5);
    assert.deepEqual(summary.glued, [2]);
    assert.deepEqual(summary.tears, []);
  });

  it('a line of garbage is one tear; blank lines are skipped', () => {
    const { summary } = spanIdsOf(`\n\u0000\u0000garbage\n\n${batch(ids('a', 1))}\n`);
    assert.equal(summary.records, 1);
    assert.deepEqual(
      summary.tears.map((t) => t.line),
      [2],
    );
  });

  it('a cut at any point of any object loses only the spans not yet written whole (property, by span id)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 2, maxLength: 6 }),
        fc.nat(),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        (sizes, which, where) => {
          const lines = sizes.map((n, i) => ({
            ids: ids(`l${i}x`, n),
            text: batch(ids(`l${i}x`, n), `n${i}`),
          }));
          const cut = which % (lines.length - 1); // never the last: something is glued after it
          const at = Math.floor(where * lines[cut]!.text.length);
          const parts = lines.map((l, i) => (i === cut ? l.text.slice(0, at) : `${l.text}\n`));
          const text = parts.join('');
          const { seen, summary } = spanIdsOf(text);
          const expected = lines
            .flatMap((l, i) => (i === cut ? completeBefore(l.ids, `n${i}`, at) : l.ids))
            .sort();
          assert.deepEqual([...seen.keys()].sort(), expected);
          assert.ok([...seen.values()].every((n) => n === 1));
          if (at === 0) assert.deepEqual(summary.tears, []);
          else {
            assert.equal(summary.tears.length, 1);
            assert.equal(summary.tears[0]!.line, cut + 1);
            assert.equal(summary.tears[0]!.length, at);
            assert.equal(
              summary.tears[0]!.salvagedSpans,
              completeBefore(lines[cut]!.ids, `n${cut}`, at).length,
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads a file from disk the same way, line by line', async () => {
    const file = join(dir, 'audit.jsonl');
    const text = `${batch(ids('a', 2))}\n${batch(ids('t', 2)).slice(0, 99)}${batch(ids('g', 3))}\n`;
    writeFileSync(file, text);
    let spans = 0;
    const summary = await readAuditFile(file, (d) => {
      for (const rs of d.resourceSpans ?? [])
        for (const ss of rs.scopeSpans ?? []) spans += ss.spans?.length ?? 0;
    });
    assert.equal(spans, 5);
    assert.deepEqual(summary, parseAuditText(text));
    writeFileSync(file, '');
    assert.deepEqual(await readAuditFile(file), { lines: 0, records: 0, spans: 0, glued: [], tears: [] });
  });
});
