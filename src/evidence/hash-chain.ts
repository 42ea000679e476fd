// The hash chain of the evidence log (an immutable audit trail: one the agent cannot quietly edit).
//
// Format: one JSON object per line, `\n`-terminated, UTF-8:
//   {"seq":N, ...record fields..., "prev_hash":"<64 hex>", "hash":"<64 hex>"}
// - `seq` starts at 0 and grows by 1 per line across rotated files.
// - `prev_hash` is the previous line's `hash`; the first line of a chain has 64 zeros (GENESIS_HASH).
// - `hash` = hex(SHA-256(prev_hash + canonical(body))), or HMAC-SHA256 keyed with
//   MCP_AUDIT_HMAC_KEY, where `body` is the line's object without `prev_hash` and `hash` (so it
//   includes `seq`: a renumbered line fails too), `prev_hash` is the 64 ASCII hex characters, and
//   canonical() is JSON with object keys sorted by UTF-16 code units, no whitespace, and
//   ECMAScript number/string serialisation — the same bytes as RFC 8785 (JCS) for the values we
//   write (strings, booleans, null, integers, decimals). Any language can re-verify a line.
// Without a key the chain proves order and integrity against anyone who cannot rewrite every
// later line; anchoring the head hash (printed by `verify`) elsewhere, or an HMAC key kept out of
// the MCP servers' reach, closes that gap.

import { createHash, createHmac } from 'node:crypto';
import type { AuditRecord } from './record.js';

export const GENESIS_HASH = '0'.repeat(64);
const HASH_RE = /^[0-9a-f]{64}$/;

/** Lines that are not spans: they make the log's own history (loss, crashes) visible in the chain. */
export type ControlRecord =
  | {
      control: 'chain_break';
      timestamp: string;
      /** `torn_tail`: a crash left a partial last line, which this record seals by offset and digest.
       *  `unverified_tail`: the last complete line did not verify (edited, or another key). */
      reason: 'torn_tail' | 'unverified_tail' | 'unreadable_tail';
      /** Byte offset of the broken line in this file, its length and SHA-256 (hex). */
      broken_offset: number;
      broken_bytes: number;
      broken_sha256: string;
    }
  | {
      control: 'dropped';
      timestamp: string;
      /** `queue_full`: a queue (this log's, or the span queue of `destination`) was full.
       *  `export_rejected`: the collector refused the spans for good. `shutdown`: still undelivered
       *  when the process exited (exit deadline, or the collector unreachable). */
      reason: 'queue_full' | 'export_rejected' | 'shutdown';
      /** Spans lost since the previous line for this reason. */
      count: number;
      /** Where the lost spans were going (`otlp`: the collector); absent: this log itself. */
      destination?: string;
    };

export type ChainBody = AuditRecord | ControlRecord;
export type ChainEntry = ChainBody & { seq: number; prev_hash: string; hash: string };

export interface ChainHead {
  /** seq of the next line. */
  seq: number;
  /** hash of the last line (GENESIS_HASH before the first). */
  hash: string;
}

// Every line is hashed over this text, so it is built by plain loops and concatenation (no
// intermediate arrays per object). Its output is fixed by the format: change nothing it writes.
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    // JSON.stringify(undefined) is undefined; inside arrays JSON writes null, so do the same.
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      // A hole stays empty, as Array.prototype.map and join leave it.
      if (i in value) out += canonicalJson(value[i]);
    }
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(k)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}

export function computeHash(prevHash: string, body: object, key?: string | Buffer): string {
  const h = key !== undefined && key.length > 0 ? createHmac('sha256', key) : createHash('sha256');
  return h.update(prevHash).update(canonicalJson(body)).digest('hex');
}

/** Seals `body` as the line after `head`; returns the line (with `\n`) and the new head. */
export function sealEntry(
  head: ChainHead,
  body: ChainBody,
  key?: string | Buffer,
): { entry: ChainEntry; line: string; head: ChainHead } {
  const hashed = { seq: head.seq, ...body };
  const hash = computeHash(head.hash, hashed, key);
  // Field order is for people reading the file: seq first, the chain fields last.
  const entry = { ...hashed, prev_hash: head.hash, hash } as ChainEntry;
  return { entry, line: `${JSON.stringify(entry)}\n`, head: { seq: head.seq + 1, hash } };
}

export type EntryCheck =
  | { ok: true; entry: ChainEntry }
  | { ok: false; problem: 'malformed'; detail: string }
  | { ok: false; problem: 'hash_mismatch'; entry: ChainEntry };

/** Checks one parsed line on its own: shape, and that its hash covers its content. */
export function checkEntry(parsed: unknown, key?: string | Buffer): EntryCheck {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, problem: 'malformed', detail: 'line is not a JSON object' };
  }
  const o = parsed as Record<string, unknown>;
  if (!Number.isSafeInteger(o.seq) || (o.seq as number) < 0) {
    return { ok: false, problem: 'malformed', detail: 'missing or invalid "seq"' };
  }
  if (typeof o.prev_hash !== 'string' || !HASH_RE.test(o.prev_hash)) {
    return { ok: false, problem: 'malformed', detail: 'missing or invalid "prev_hash"' };
  }
  if (typeof o.hash !== 'string' || !HASH_RE.test(o.hash)) {
    return { ok: false, problem: 'malformed', detail: 'missing or invalid "hash"' };
  }
  const { prev_hash, hash, ...body } = o;
  const entry = o as unknown as ChainEntry;
  if (computeHash(prev_hash, body, key) !== hash) return { ok: false, problem: 'hash_mismatch', entry };
  return { ok: true, entry };
}

export function isControl(entry: ChainBody): entry is ControlRecord {
  return typeof (entry as { control?: unknown }).control === 'string';
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
