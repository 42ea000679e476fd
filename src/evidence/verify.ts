// Verifies the evidence log across its rotated files and names the first bad line and why.
// Streaming, one line of lookahead; a second pass over the rest only when the first break needs
// it to tell a reordered line from a removed one. (Just over 300 lines: the reasons below are one
// decision tree, kept in one file so each verdict can be read next to the others.)
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

/** Where the chain stands after the last line that verified. */
interface ChainState {
  key: string | Buffer | undefined;
  files: readonly string[];
  /** seq and prev_hash the next line must carry. */
  expect: { seq: number; hash: string };
  /** The hash expected before the last accepted line. */
  prevHashBefore: string;
  last: (Location & { hash: string }) | null;
}

const problem = (at: Location, reason: TamperReason, detail: string): VerifyProblem => ({
  file: at.file,
  line: at.line,
  reason,
  detail,
});

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
  const state: ChainState = {
    key,
    files,
    expect: { seq: 0, hash: GENESIS_HASH },
    prevHashBefore: GENESIS_HASH,
    last: null,
  };
  const it = items(files, key);
  let next = await it.next();
  while (!next.done) {
    const cur = next.value;
    next = await it.next();
    const found = await verifyLine(cur, next.done ? null : next.value, state, result);
    if (found) {
      result.ok = false;
      result.problem = found;
      break;
    }
  }
  result.head = state.expect;
  return result;
}

/** Accepts the line into the chain, or returns the first problem it shows. */
async function verifyLine(
  cur: Item,
  ahead: Item | null,
  state: ChainState,
  result: VerifyResult,
): Promise<VerifyProblem | null> {
  const at = loc(cur.raw);
  if (!cur.check) return unparsedLine(cur, ahead, state, result);
  const check = cur.check;
  if (!check.ok && check.problem === 'malformed') {
    return problem(at, cur.raw.terminated ? 'bad_json' : 'truncated', `not a chain entry: ${check.detail}`);
  }
  if (!check.ok) {
    if (ahead && chainsTo(ahead, state.expect)) {
      return problem(
        at,
        'inserted',
        `line is not part of the chain: line ${ahead.raw.lineNo} chains to the line before it`,
      );
    }
    const hint =
      state.last === null && state.key === undefined
        ? ' (if the log was written with MCP_AUDIT_HMAC_KEY, pass --key)'
        : '';
    return problem(at, 'edited', `content does not match its hash${hint}`);
  }
  const e = check.entry;
  if (e.seq === state.expect.seq && e.prev_hash === state.expect.hash) {
    result.lines++;
    if (isControl(e)) result.control[e.control] = (result.control[e.control] ?? 0) + 1;
    else result.records++;
    if (!cur.raw.terminated) result.warnings.push({ ...at, detail: 'final line has no newline' });
    state.prevHashBefore = state.expect.hash;
    state.expect = { seq: e.seq + 1, hash: e.hash };
    state.last = { ...at, hash: e.hash };
    return null;
  }
  return outOfChain(cur, e, ahead, state);
}

/** A line that is not JSON: a torn write (sealed by the writer after a crash, or not), or bad data. */
function unparsedLine(
  cur: Item,
  ahead: Item | null,
  state: ChainState,
  result: VerifyResult,
): VerifyProblem | null {
  const at = loc(cur.raw);
  if (!cur.raw.terminated) {
    return problem(
      at,
      'truncated',
      `final line is incomplete (${cur.raw.bytes.length} bytes after the last newline)`,
    );
  }
  if (ahead && sealsTornLine(ahead, cur.raw, state.expect)) {
    result.warnings.push({
      ...at,
      detail: `torn write from a crash, sealed by the chain_break at line ${ahead.raw.lineNo}`,
    });
    return null;
  }
  return problem(at, 'bad_json', cur.raw.bytes.length === 0 ? 'empty line' : 'line is not valid JSON');
}

/** A valid entry whose seq or prev_hash does not continue the chain: names what happened. */
async function outOfChain(
  cur: Item,
  e: ChainEntry,
  ahead: Item | null,
  state: ChainState,
): Promise<VerifyProblem> {
  const at = loc(cur.raw);
  const { expect, last } = state;
  if (last === null) {
    return problem(
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
      return problem(
        at,
        'inserted',
        `line is not part of the chain: line ${ahead.raw.lineNo} takes seq ${e.seq} and chains to ${where(last)}`,
      );
    }
    return problem(last, 'edited', `re-hashed after an edit: ${where(at)} does not chain to it`);
  }
  if (e.seq > expect.seq) {
    const later = await findSeq(state.files, cur.raw, expect.seq);
    if (later) {
      return problem(
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
    return problem(
      at,
      'removed',
      `${n} record${n === 1 ? '' : 's'} missing before this line (seq ${expect.seq}..${e.seq - 1})${fileGap}`,
    );
  }
  // seq went backwards: a line that does not belong here.
  if (e.hash === expect.hash) return problem(at, 'inserted', `duplicate of ${where(last)}`);
  if (e.seq === expect.seq - 1 && e.prev_hash === state.prevHashBefore) {
    return problem(
      last,
      'inserted',
      `line is not part of the chain: ${where(at)} carries the same seq ${e.seq} and chains past it`,
    );
  }
  return problem(at, 'inserted', `seq ${e.seq} was already used (expected ${expect.seq})`);
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
