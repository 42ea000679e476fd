import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { computeHash, type ChainEntry } from '../../src/evidence/hash-chain.js';
import { AuditLogWriter } from '../../src/evidence/log-writer.js';
import { orderLogFiles } from '../../src/evidence/log-files.js';
import { verifyLog, type VerifyResult } from '../../src/evidence/verify.js';
import type { AuditRecord } from '../../src/evidence/record.js';

const root = mkdtempSync(join(tmpdir(), 'mcp-audit-verify-'));
after(() => rmSync(root, { recursive: true, force: true }));

function rec(i: number): AuditRecord {
  return {
    timestamp: new Date(Date.UTC(2026, 2, 18, 9, 0, i)).toISOString(),
    session_id: 's1',
    caller_identity: 'user:sarah',
    caller_source: 'context',
    tool_name: i % 2 ? 'slack_send' : 'db_query',
    tool_parameters: { sql: 'SELECT ?' },
    result_summary: null,
    result_size_bytes: 1000 * i,
    latency_ms: 2,
    server_id: 'db',
    error: null,
    llm_turn_id: null,
    method: 'tools/call',
    trace_id: 'b'.repeat(32),
    span_id: (i + 1).toString(16).padStart(16, '0'),
    parent_span_id: null,
    side: 'client',
    service_name: 'agent',
  };
}

/** A 10-line log (seq 0..9 on lines 1..10); returns its lines. */
let base: string[] = [];
let hmacBase: string[] = [];
before(async () => {
  for (const [name, key] of [
    ['base.log', undefined],
    ['hmac.log', 'hmac-secret'],
  ] as const) {
    const w = new AuditLogWriter({ file: join(root, name), hmacKey: key });
    await w.append(Array.from({ length: 10 }, (_, i) => rec(i)));
    await w.close();
  }
  base = readFileSync(join(root, 'base.log'), 'utf8').split('\n').slice(0, -1);
  hmacBase = readFileSync(join(root, 'hmac.log'), 'utf8').split('\n').slice(0, -1);
});

let n = 0;
async function verifyText(text: string, key?: string): Promise<VerifyResult> {
  const file = join(root, `case${n++}.log`);
  writeFileSync(file, text);
  return verifyLog([file], { key });
}
const joined = (ls: string[]) => `${ls.join('\n')}\n`;
const problem = (v: VerifyResult) => (v.problem ? [v.problem.line, v.problem.reason] : null);
const parse = (l: string) => JSON.parse(l) as ChainEntry & Record<string, unknown>;
/** Re-seals a line as an attacker without the key would: valid SHA-256 over edited content. */
function reseal(obj: Record<string, unknown>): string {
  const { prev_hash, hash: _h, ...body } = obj;
  return JSON.stringify({ ...body, prev_hash, hash: computeHash(prev_hash as string, body) });
}

describe('verify names the first bad line and why', () => {
  it('an intact log verifies, with a summary of records, files and the head hash', async () => {
    const v = await verifyText(joined(base));
    assert.equal(v.ok, true);
    assert.equal(v.records, 10);
    assert.deepStrictEqual(v.head, { seq: 10, hash: parse(base[9]!).hash });
  });

  it('edited: a field changed in place', async () => {
    const ls = [...base];
    ls[3] = ls[3]!.replace('"result_size_bytes":3000', '"result_size_bytes":3');
    assert.deepStrictEqual(problem(await verifyText(joined(ls))), [4, 'edited']);
  });

  it('edited: a field changed and the line re-hashed (the next line no longer chains to it)', async () => {
    const ls = [...base];
    ls[3] = reseal({ ...parse(ls[3]!), tool_name: 'harmless_tool' });
    const v = await verifyText(joined(ls));
    assert.deepStrictEqual(problem(v), [4, 'edited']);
    assert.match(v.problem!.detail, /re-hashed/);
  });

  it('removed: a line deleted', async () => {
    const ls = base.filter((_, i) => i !== 3);
    const v = await verifyText(joined(ls));
    assert.deepStrictEqual(problem(v), [4, 'removed']);
    assert.match(v.problem!.detail, /1 record missing.*seq 3\.\.3/);
  });

  it('removed: the first line deleted (chain does not start at genesis)', async () => {
    assert.deepStrictEqual(problem(await verifyText(joined(base.slice(1)))), [1, 'removed']);
  });

  it('inserted: a copy of an earlier line replayed later', async () => {
    const ls = [...base.slice(0, 5), base[1]!, ...base.slice(5)];
    assert.deepStrictEqual(problem(await verifyText(joined(ls))), [6, 'inserted']);
  });

  it('inserted: a forged line that chains (next seq, valid hash) — the original next line exposes it', async () => {
    const forged = reseal({ ...parse(base[5]!), tool_name: 'forged', prev_hash: parse(base[4]!).hash });
    const ls = [...base.slice(0, 5), forged, ...base.slice(5)];
    assert.deepStrictEqual(problem(await verifyText(joined(ls))), [6, 'inserted']);
  });

  it('inserted: a made-up line with a bad hash that the chain skips', async () => {
    const fake = JSON.stringify({ ...parse(base[5]!), tool_name: 'fake' });
    const ls = [...base.slice(0, 5), fake, ...base.slice(5)];
    assert.deepStrictEqual(problem(await verifyText(joined(ls))), [6, 'inserted']);
  });

  it('reordered: two lines swapped', async () => {
    const ls = [...base];
    [ls[3], ls[4]] = [ls[4]!, ls[3]!];
    const v = await verifyText(joined(ls));
    assert.deepStrictEqual(problem(v), [4, 'reordered']);
    assert.match(v.problem!.detail, /seq 3, which is at .*:5/);
  });

  it('reordered: a line moved three places later', async () => {
    const ls = [...base.slice(0, 3), ...base.slice(4, 7), base[3]!, ...base.slice(7)];
    assert.deepStrictEqual(problem(await verifyText(joined(ls))), [4, 'reordered']);
  });

  it('truncated: the tail cut mid-line', async () => {
    const text = joined(base);
    const v = await verifyText(text.slice(0, text.length - 30));
    assert.deepStrictEqual(problem(v), [10, 'truncated']);
    assert.equal(v.records, 9);
  });

  it('bad_json: a garbage line and an empty line', async () => {
    assert.deepStrictEqual(
      problem(await verifyText(joined([...base.slice(0, 2), 'rm -rf /', ...base.slice(2)]))),
      [3, 'bad_json'],
    );
    assert.deepStrictEqual(problem(await verifyText(joined([...base.slice(0, 7), '', ...base.slice(7)]))), [
      8,
      'bad_json',
    ]);
    assert.deepStrictEqual(
      problem(await verifyText(joined([...base.slice(0, 7), '{"seq":7}', ...base.slice(7)]))),
      [8, 'bad_json'],
    );
  });

  it('HMAC: verifies with the key; without it, or with another, line 1 fails (with a hint)', async () => {
    assert.equal((await verifyText(joined(hmacBase), 'hmac-secret')).ok, true);
    const noKey = await verifyText(joined(hmacBase));
    assert.deepStrictEqual(problem(noKey), [1, 'edited']);
    assert.match(noKey.problem!.detail, /--key/);
    assert.deepStrictEqual(problem(await verifyText(joined(hmacBase), 'guess')), [1, 'edited']);
  });

  it('a full rewrite from line 4 on: undetectable with SHA-256 but for the head hash; caught with HMAC', async () => {
    const rewrite = (src: string[]) => {
      const ls = [...src];
      let prev = parse(ls[3]!).prev_hash;
      for (let i = 3; i < ls.length; i++) {
        ls[i] = reseal({ ...parse(ls[i]!), prev_hash: prev, ...(i === 3 ? { tool_name: 'innocent' } : {}) });
        prev = parse(ls[i]!).hash;
      }
      return ls;
    };
    const sha = await verifyText(joined(rewrite(base)));
    assert.equal(sha.ok, true, 'the documented limit of an unkeyed chain');
    assert.notEqual(sha.head.hash, parse(base[9]!).hash, 'which an anchored head hash exposes');
    assert.deepStrictEqual(problem(await verifyText(joined(rewrite(hmacBase)), 'hmac-secret')), [
      4,
      'edited',
    ]);
  });
});

describe('verify across rotated files', () => {
  let files: string[] = [];
  before(async () => {
    const dir = join(root, 'rotated');
    const w = new AuditLogWriter({ file: join(dir, 'audit.log'), maxBytes: 1500 });
    for (let i = 0; i < 12; i++) await w.append([rec(i)]);
    await w.close();
    files = orderLogFiles(readdirSync(dir).map((f) => join(dir, f)));
  });

  it('puts shell-glob order into chain order and verifies the whole chain', async () => {
    assert.ok(files.length >= 4, `expected at least 4 files, got ${files.length}`);
    assert.deepStrictEqual(orderLogFiles([...files].reverse()), files);
    assert.ok(files[0]!.endsWith('audit.log') && files[1]!.endsWith('audit.log.1'));
    const v = await verifyLog(files);
    assert.equal(v.ok, true, JSON.stringify(v.problem));
    assert.equal(v.records, 12);
  });

  it('removed: a missing middle file is named at line 1 of the file after the gap', async () => {
    const v = await verifyLog([files[0]!, files[1]!, ...files.slice(3)]);
    assert.equal(v.problem?.file, files[3]);
    assert.deepStrictEqual(problem(v), [1, 'removed']);
    assert.match(v.problem!.detail, /rotated file .* may be missing/);
  });
});

describe('mcp-audit verify (CLI)', () => {
  const run = (...args: string[]) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', 'verify', ...args], {
      cwd: join(import.meta.dirname, '..', '..'),
      env: { ...process.env, MCP_AUDIT_HMAC_KEY: '' },
    }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        stdout: e.stdout,
        stderr: e.stderr,
      }),
    );

  it('exit 0 with a summary line; 1 naming FILE:LINE and the reason; 2 on a missing file or bad flag', async () => {
    const ok = await run(join(root, 'base.log'));
    assert.equal(ok.code, 0);
    assert.match(
      ok.stdout,
      new RegExp(`^OK: 10 records in 1 file, SHA-256 chain intact; head seq 9 hash ${parse(base[9]!).hash}`),
    );

    const ls = [...base];
    [ls[6], ls[7]] = [ls[7]!, ls[6]!];
    const file = join(root, 'cli-swapped.log');
    writeFileSync(file, joined(ls));
    const bad = await run(file);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, new RegExp(`TAMPERED ${file}:7: reordered`));

    const json = await run('--json', '--key', 'hmac-secret', join(root, 'hmac.log'));
    assert.equal(json.code, 0);
    const parsed = JSON.parse(json.stdout) as VerifyResult & { hmac: boolean };
    assert.equal(parsed.ok, true);
    assert.equal(parsed.hmac, true);
    assert.doesNotMatch(json.stdout, /hmac-secret/, 'never prints the key');

    const missing = await run(join(root, 'nope.log'));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.log: no such file/);
    const flag = await run('--frobnicate', file);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /Unknown option '--frobnicate'[\s\S]*--help/);
  });
});
