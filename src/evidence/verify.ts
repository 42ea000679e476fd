// Verifies the evidence log across its rotated files and names the first bad line and why.
// Streaming, one line of lookahead; a second pass over the rest only when the first break needs
// it to tell a reordered line from a removed one.
//
// Reasons: `edited` (a line's content no longer matches its hash, or it was re-hashed so the next
// line no longer chains to it), `removed` (seq jumps forward and the missing seq never appears),
// `inserted` (a line that is not part of the chain: a seq already used, or the chain skips it),
// `reordered` (seq jumps forward and the missing seq appears later), `truncated` (the final line
// has no newline: torn write or cut file), `bad_json` (a complete line that is not a chain entry).
// A torn line followed by the writer's own `chain_break` line that seals it (same offset, length
// and SHA-256) is the trace of a crash, not tampering: reported as a warning.
//
// Limits: dropping whole lines from the end of the newest file is only detectable against a head
// hash recorded elsewhere (the summary prints it: anchor it in a ticket, a SIEM or a WORM store);
// without an HMAC key, someone who can rewrite every line after an edit can rebuild the chain.

import {
  GENESIS_HASH,
  checkEntry,
  isControl,
  sha256Hex,
  type ChainEntry,
  type EntryCheck,
} from './hash-chain.js';
import { readLines, type RawLine } from './log-files.js';

export type TamperReason = 'edited' | 'removed' | 'inserted' | 'reordered' | 'truncated' | 'bad_json';

export interface Location {
  file: string;
  line: number;
}
export interface VerifyProblem extends Location {
  reason: TamperReason;
  detail: string;
}
export interface VerifyResult {
  ok: boolean;
  files: string[];
  /** Chain lines that verified (audit records and control lines). */
  lines: number;
  /** Of those, audit records (spans). */
  records: number;
  /** Control lines by kind (`chain_break`, `dropped`). */
  control: Record<string, number>;
  /** seq of the next line and hash of the last verified line. */
  head: { seq: number; hash: string };
  problem: VerifyProblem | null;
  warnings: Array<Location & { detail: string }>;
}

interface Item {
  raw: RawLine;
  /** Undefined when the line is not JSON. */
  check?: EntryCheck;
}

export async function verifyLog(
  files: readonly string[],
  options: { key?: string | Buffer } = {},
): Promise<VerifyResult> {
  const key = options.key !== undefined && options.key.length > 0 ? options.key : undefined;
  const result: VerifyResult = {
    ok: true,
    files: [...files],
    lines: 0,
    records: 0,
    control: {},
    head: { seq: 0, hash: GENESIS_HASH },
    problem: null,
    warnings: [],
  };
  let expect = { seq: 0, hash: GENESIS_HASH };
  let prevHashBefore = GENESIS_HASH; // hash expected before the last accepted line
  let last: (Location & { hash: string }) | null = null;

  const fail = (at: Location, reason: TamperReason, detail: string): VerifyResult => {
    result.ok = false;
    result.problem = { file: at.file, line: at.line, reason, detail };
    result.head = expect;
    return result;
  };

  const it = items(files, key);
  let next = await it.next();
  while (!next.done) {
    const cur = next.value;
    next = await it.next();
    const ahead = next.done ? null : next.value;
    const at = loc(cur.raw);

    if (!cur.check) {
      if (!cur.raw.terminated) {
        return fail(
          at,
          'truncated',
          `final line is incomplete (${cur.raw.bytes.length} bytes after the last newline)`,
        );
      }
      if (ahead && sealsTornLine(ahead, cur.raw, expect)) {
        result.warnings.push({
          ...at,
          detail: `torn write from a crash, sealed by the chain_break at line ${ahead.raw.lineNo}`,
        });
        continue;
      }
      return fail(at, 'bad_json', cur.raw.bytes.length === 0 ? 'empty line' : 'line is not valid JSON');
    }
    const check = cur.check;
    if (!check.ok && check.problem === 'malformed') {
      return fail(at, cur.raw.terminated ? 'bad_json' : 'truncated', `not a chain entry: ${check.detail}`);
    }
    if (!check.ok) {
      if (ahead && chainsTo(ahead, expect)) {
        return fail(
          at,
          'inserted',
          `line is not part of the chain: line ${ahead.raw.lineNo} chains to the line before it`,
        );
      }
      const hint =
        last === null && key === undefined
          ? ' (if the log was written with MCP_AUDIT_HMAC_KEY, pass --key)'
          : '';
      return fail(at, 'edited', `content does not match its hash${hint}`);
    }

    const e = check.entry;
    if (e.seq === expect.seq && e.prev_hash === expect.hash) {
      result.lines++;
      if (isControl(e)) result.control[e.control] = (result.control[e.control] ?? 0) + 1;
      else result.records++;
      if (!cur.raw.terminated) result.warnings.push({ ...at, detail: 'final line has no newline' });
      prevHashBefore = expect.hash;
      expect = { seq: e.seq + 1, hash: e.hash };
      last = { ...at, hash: e.hash };
      continue;
    }
    if (last === null) {
      return fail(
        at,
        'removed',
        `chain does not start at genesis (first seq ${e.seq}): earlier records or files are missing`,
      );
    }
    if (e.seq === expect.seq) {
      if (
        ahead &&
        ahead.check?.ok &&
        ahead.check.entry.seq === e.seq &&
        ahead.check.entry.prev_hash === expect.hash
      ) {
        return fail(
          at,
          'inserted',
          `line is not part of the chain: line ${ahead.raw.lineNo} takes seq ${e.seq} and chains to ${where(last)}`,
        );
      }
      return fail(last, 'edited', `re-hashed after an edit: ${where(at)} does not chain to it`);
    }
    if (e.seq > expect.seq) {
      const later = await findSeq(files, cur.raw, expect.seq);
      if (later) {
        return fail(
          at,
          'reordered',
          `seq ${e.seq} comes before seq ${expect.seq}, which is at ${where(later)}`,
        );
      }
      const n = e.seq - expect.seq;
      const fileGap =
        cur.raw.file !== last.file && cur.raw.lineNo === 1
          ? `; a rotated file between ${last.file} and ${cur.raw.file} may be missing`
          : '';
      return fail(
        at,
        'removed',
        `${n} record${n === 1 ? '' : 's'} missing before this line (seq ${expect.seq}..${e.seq - 1})${fileGap}`,
      );
    }
    // seq went backwards: a line that does not belong here.
    if (e.hash === expect.hash) return fail(at, 'inserted', `duplicate of ${where(last)}`);
    if (e.seq === expect.seq - 1 && e.prev_hash === prevHashBefore) {
      return fail(
        last,
        'inserted',
        `line is not part of the chain: ${where(at)} carries the same seq ${e.seq} and chains past it`,
      );
    }
    return fail(at, 'inserted', `seq ${e.seq} was already used (expected ${expect.seq})`);
  }
  result.head = expect;
  return result;
}

async function* items(files: readonly string[], key: string | Buffer | undefined): AsyncGenerator<Item> {
  for (const file of files) {
    for await (const raw of readLines(file)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw.bytes.toString('utf8'));
      } catch {
        // The parser's message quotes the line; records are redacted, but errors should not echo data.
        yield { raw };
        continue;
      }
      yield { raw, check: checkEntry(parsed, key) };
    }
  }
}

/** The writer's repair after a crash: a chain_break that names this exact torn line. */
function sealsTornLine(ahead: Item, torn: RawLine, expect: { seq: number; hash: string }): boolean {
  if (!ahead.check?.ok || ahead.raw.file !== torn.file) return false;
  const e = ahead.check.entry;
  if (!isControl(e) || e.control !== 'chain_break') return false;
  return (
    e.broken_offset === torn.offset &&
    e.broken_bytes === torn.bytes.length &&
    e.broken_sha256 === sha256Hex(torn.bytes) &&
    e.seq === expect.seq &&
    e.prev_hash === expect.hash
  );
}

function chainsTo(item: Item, expect: { seq: number; hash: string }): boolean {
  return (
    item.check?.ok === true &&
    item.check.entry.seq === expect.seq &&
    item.check.entry.prev_hash === expect.hash
  );
}

/** Second pass: is `seq` somewhere after `from`? (Only run once, on the first break.) */
async function findSeq(files: readonly string[], from: RawLine, seq: number): Promise<Location | null> {
  let started = false;
  for (const file of files) {
    if (!started && file !== from.file) continue;
    for await (const raw of readLines(file)) {
      if (!started) {
        if (raw.lineNo <= from.lineNo) continue;
        started = true;
      }
      try {
        const o = JSON.parse(raw.bytes.toString('utf8')) as Partial<ChainEntry>;
        if (o && o.seq === seq) return loc(raw);
      } catch {
        // not a line that can carry the seq
      }
    }
    started = true;
  }
  return null;
}

function loc(raw: RawLine): Location {
  return { file: raw.file, line: raw.lineNo };
}

function where(l: Location): string {
  return `${l.file}:${l.line}`;
}
