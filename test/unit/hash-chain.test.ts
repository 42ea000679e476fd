import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from '../support/property.js';
import { SpanKind } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import {
  GENESIS_HASH,
  canonicalJson,
  checkEntry,
  computeHash,
  sealEntry,
  type ChainEntry,
} from '../../src/evidence/hash-chain.js';
import { AuditLogWriter, QueueFullError } from '../../src/evidence/log-writer.js';
import { AuditFileExporter } from '../../src/evidence/file-exporter.js';
import { verifyLog } from '../../src/evidence/verify.js';
import type { AuditRecord } from '../../src/evidence/record.js';
import { ATTR_GEN_AI_TOOL_NAME, ATTR_MCP_METHOD_NAME } from '../../src/semconv.js';

const root = mkdtempSync(join(tmpdir(), 'mcp-audit-chain-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshFile = () => join(root, `t${n++}`, 'audit.log');

function rec(i: number, extra: Partial<AuditRecord> = {}): AuditRecord {
  return {
    timestamp: new Date(Date.UTC(2026, 2, 18, 9, 0, i)).toISOString(),
    session_id: 's1',
    caller_identity: 'user:sarah',
    caller_source: 'context',
    tool_name: 'db_query',
    tool_parameters: { sql: 'SELECT ?', n: i },
    result_summary: 'rows: 1',
    result_size_bytes: 100 + i,
    latency_ms: 1.5,
    server_id: 'db',
    error: null,
    llm_turn_id: null,
    method: 'tools/call',
    trace_id: 'a'.repeat(32),
    span_id: i.toString(16).padStart(16, '0'),
    parent_span_id: null,
    side: 'client',
    service_name: 'agent',
    ...extra,
  };
}

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
const entries = (file: string) => lines(file).map((l) => JSON.parse(l) as ChainEntry);

describe('canonical JSON and the line hash', () => {
  it('sorts keys at every depth, has no whitespace, drops undefined like JSON', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [1, { z: null, y: 'é"' }], c: undefined } }),
      '{"a":{"d":[1,{"y":"é\\"","z":null}]},"b":1}',
    );
  });

  it('is independent of key insertion order (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        assert.equal(canonicalJson(reversed), canonicalJson(obj));
        assert.deepStrictEqual(JSON.parse(canonicalJson(obj)), JSON.parse(JSON.stringify(obj)));
      }),
    );
  });

  it('hash = SHA-256(prev_hash + canonical(line without prev_hash and hash)); genesis is 64 zeros', () => {
    const { entry, line, head } = sealEntry({ seq: 0, hash: GENESIS_HASH }, rec(0));
    assert.equal(entry.prev_hash, GENESIS_HASH);
    assert.equal(entry.seq, 0);
    const { prev_hash: _p, hash: _h, ...body } = JSON.parse(line) as ChainEntry;
    assert.equal(entry.hash, computeHash(GENESIS_HASH, body));
    assert.deepStrictEqual(head, { seq: 1, hash: entry.hash });
    assert.ok(line.startsWith('{"seq":0,"timestamp"') && line.endsWith(`"hash":"${entry.hash}"}\n`));
    assert.equal(checkEntry(JSON.parse(line)).ok, true);
  });

  it('HMAC chains verify only with their key', () => {
    const { line } = sealEntry({ seq: 0, hash: GENESIS_HASH }, rec(0), 'k3y');
    assert.equal(checkEntry(JSON.parse(line), 'k3y').ok, true);
    assert.equal(checkEntry(JSON.parse(line)).ok, false);
    assert.equal(checkEntry(JSON.parse(line), 'other').ok, false);
  });
});

describe('AuditLogWriter', () => {
  it('appends fsync-acknowledged lines with flag a / mode 0600 and resumes the chain in a new process', async () => {
    const file = freshFile();
    const w1 = new AuditLogWriter({ file });
    await w1.append([rec(0), rec(1)]);
    await w1.close();
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const w2 = new AuditLogWriter({ file });
    await Promise.all([w2.append([rec(2)]), w2.append([rec(3), rec(4)])]); // group commit
    await w2.close();
    assert.deepStrictEqual(
      entries(file).map((e) => e.seq),
      [0, 1, 2, 3, 4],
    );
    const v = await verifyLog([file]);
    assert.equal(v.ok, true, JSON.stringify(v.problem));
    assert.equal(v.records, 5);
    assert.equal(v.head.hash, entries(file)[4]!.hash);
  });

  it('seals a torn tail from a crash with a chain_break that verify accepts (and names)', async () => {
    const file = freshFile();
    const w1 = new AuditLogWriter({ file });
    await w1.append([rec(0), rec(1)]);
    await w1.close();
    const torn = sealEntry({ seq: 2, hash: entries(file)[1]!.hash }, rec(2)).line.slice(0, 40);
    const tornOffset = statSync(file).size;
    appendFileSync(file, torn); // what kill -9 in the middle of write() leaves
    assert.equal((await verifyLog([file])).problem?.reason, 'truncated');

    const w2 = new AuditLogWriter({ file });
    await w2.open();
    assert.equal(w2.stats.chainBreaks, 1);
    await w2.append([rec(3)]);
    await w2.close();
    const all = lines(file);
    assert.equal(all[2], torn, 'the torn bytes stay as evidence, now newline-terminated');
    const brk = JSON.parse(all[3]!) as ChainEntry & Record<string, unknown>;
    assert.equal(brk.control, 'chain_break');
    assert.equal(brk.reason, 'torn_tail');
    assert.equal(brk.broken_offset, tornOffset);
    assert.equal(brk.broken_bytes, Buffer.byteLength(torn));
    assert.equal(brk.seq, 2);
    assert.equal(
      brk.prev_hash,
      (JSON.parse(all[1]!) as ChainEntry).hash,
      'chains on from the last good line',
    );
    const v = await verifyLog([file]);
    assert.equal(v.ok, true, JSON.stringify(v.problem));
    assert.deepStrictEqual(v.control, { chain_break: 1 });
    assert.equal(v.records, 3);
    assert.deepStrictEqual(
      v.warnings.map((w) => [w.line, /torn write/.test(w.detail)]),
      [[3, true]],
    );
  });

  it('a forged chain_break that does not match the torn bytes is not accepted', async () => {
    const file = freshFile();
    const w1 = new AuditLogWriter({ file });
    await w1.append([rec(0)]);
    await w1.close();
    appendFileSync(file, '{"seq":1,"tool_name":"partial\n');
    const w2 = new AuditLogWriter({ file });
    await w2.append([rec(1)]);
    await w2.close();
    const all = lines(file);
    // Change the torn line after the fact: the chain_break's digest no longer matches.
    all[1] = '{"seq":1,"tool_name":"PARTIAL';
    writeFileSync(file, `${all.join('\n')}\n`);
    const v = await verifyLog([file]);
    assert.deepStrictEqual([v.problem?.line, v.problem?.reason], [2, 'bad_json']);
  });

  it('rotates by size without renaming: FILE, FILE.1, …; each new file chains to the previous one', async () => {
    const file = freshFile();
    const w = new AuditLogWriter({ file, maxBytes: 1200 });
    for (let i = 0; i < 10; i++) await w.append([rec(i), rec(100 + i)]);
    await w.close();
    const names = readdirSync(join(file, '..')).sort();
    assert.ok(names.length >= 4, names.join(','));
    const files = [file, ...names.filter((x) => x !== 'audit.log').map((x) => join(file, '..', x))];
    files.sort((a, b) => Number(a.split('.log.')[1] ?? 0) - Number(b.split('.log.')[1] ?? 0));
    for (let i = 1; i < files.length; i++) {
      assert.equal(entries(files[i]!)[0]!.prev_hash, entries(files[i - 1]!).at(-1)!.hash);
      assert.ok(statSync(files[i - 1]!).size <= 1200);
    }
    const v = await verifyLog(files);
    assert.equal(v.ok, true, JSON.stringify(v.problem));
    assert.equal(v.records, 20);
    // A restarted writer continues in the newest file.
    const w2 = new AuditLogWriter({ file, maxBytes: 1200 });
    await w2.open();
    assert.equal(w2.position.file, files.at(-1));
    assert.equal(w2.position.seq, 20);
    await w2.close();
  });

  it('bounds memory: an overflowing append is refused and the loss is a `dropped` line in the chain', async () => {
    const file = freshFile();
    const w = new AuditLogWriter({ file, maxQueue: 3 });
    const first = w.append([rec(0), rec(1)]); // in flight
    const second = w.append([rec(2)]); // waits: 3 queued
    const third = w.append([rec(3)]); // over the bound
    await assert.rejects(third, QueueFullError);
    await Promise.all([first, second]);
    await w.flush();
    await w.close();
    const es = entries(file) as Array<ChainEntry & Record<string, unknown>>;
    const dropped = es.filter((e) => e.control === 'dropped');
    assert.equal(dropped.length, 1);
    assert.equal(dropped[0]!.count, 1);
    assert.equal(es.length, 4);
    assert.equal((await verifyLog([file])).ok, true);
  });

  it('any single-character change to any line is detected (property)', async () => {
    const file = freshFile();
    const w = new AuditLogWriter({ file, hmacKey: 'prop-key' });
    await w.append([rec(0), rec(1, { error: 'tool_error' }), rec(2, { tool_parameters: 'not json' })]);
    await w.close();
    const original = readFileSync(file, 'utf8');
    const tampered = join(root, 'prop.log');
    await fc.assert(
      fc.asyncProperty(
        fc.nat(original.length - 2),
        fc.integer({ min: 0x20, max: 0x7e }),
        async (pos, code) => {
          fc.pre(original[pos] !== '\n' && original.charCodeAt(pos) !== code);
          writeFileSync(
            tampered,
            original.slice(0, pos) + String.fromCharCode(code) + original.slice(pos + 1),
          );
          const v = await verifyLog([tampered], { key: 'prop-key' });
          assert.equal(v.ok, false);
        },
      ),
      { numRuns: 150 },
    );
  });
});

function spans(count: number, attrs: Record<string, string> = {}): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = provider.getTracer('t');
  for (let i = 0; i < count; i++) {
    tracer
      .startSpan('tools/call db_query', {
        kind: SpanKind.CLIENT,
        attributes: { [ATTR_MCP_METHOD_NAME]: 'tools/call', [ATTR_GEN_AI_TOOL_NAME]: 'db_query', ...attrs },
      })
      .end();
  }
  tracer.startSpan('GET /health').end(); // not MCP: not a record
  return exporter.getFinishedSpans();
}

const exportAsync = (e: AuditFileExporter, s: ReadableSpan[]) =>
  new Promise<ExportResult>((resolve) => e.export(s, resolve));

describe('AuditFileExporter', () => {
  it('writes MCP spans as chained records, reports them via onRecord after fsync, and flushes on shutdown', async () => {
    const file = freshFile();
    const seen: AuditRecord[] = [];
    const exporter = new AuditFileExporter({ file, onRecord: (r) => seen.push(r) });
    assert.equal((await exportAsync(exporter, spans(3))).code, ExportResultCode.SUCCESS);
    await exporter.forceFlush();
    await exporter.shutdown();
    assert.equal(lines(file).length, 3);
    assert.equal(seen.length, 3);
    assert.equal(seen[0]!.tool_name, 'db_query');
    assert.equal('hash' in seen[0]!, false);
    assert.equal((await verifyLog([file])).ok, true);
    assert.equal((await exportAsync(exporter, spans(1))).code, ExportResultCode.FAILED, 'after shutdown');
  });

  it('reads MCP_AUDIT_FILE / MCP_AUDIT_HMAC_KEY from the environment', async () => {
    const file = freshFile();
    process.env.MCP_AUDIT_FILE = file;
    process.env.MCP_AUDIT_HMAC_KEY = 'env-key';
    try {
      const exporter = new AuditFileExporter();
      await exportAsync(exporter, spans(2));
      await exporter.shutdown();
    } finally {
      delete process.env.MCP_AUDIT_FILE;
      delete process.env.MCP_AUDIT_HMAC_KEY;
    }
    assert.equal((await verifyLog([file], { key: 'env-key' })).ok, true);
    assert.equal((await verifyLog([file])).ok, false);
  });

  it('never throws into the host: an unwritable log gives FAILED', async () => {
    // A path under a regular file fails with ENOTDIR even for root.
    writeFileSync(join(root, 'not-a-dir'), '');
    const exporter = new AuditFileExporter({ file: join(root, 'not-a-dir', 'audit.log') });
    const result = await exportAsync(exporter, spans(1));
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.equal(
      (await exportAsync(exporter, spans(1))).code,
      ExportResultCode.FAILED,
      'and again, no throw',
    );
    await exporter.shutdown();
  });
});
