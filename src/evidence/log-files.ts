// Naming and reading of the evidence log's files.
//
// Rotation never renames: the log is `<file>`, then `<file>.1`, `<file>.2`, … in chain order, and
// the writer appends to the highest-numbered one. Files are only ever created and appended to,
// which is what OS-level hardening allows: `chattr +a` on a file (Linux: append-only, no rename or
// delete), `chattr +a` on the directory (new files may be created, none removed or renamed), or a
// WORM bucket synced per closed segment. A renaming scheme (`<file>` → `<file>.1`) would break all
// three.

import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

/** `1048576`, `64KiB`, `64MiB`, `1GiB` (k/m/g, with or without `iB`; powers of 1024). null if not a size. */
export function parseByteSize(value: string): number | null {
  const m = /^(\d+)\s*([kmg](?:i?b)?)?$/i.exec(value.trim());
  if (!m) return null;
  const unit = (m[2] ?? '').toLowerCase()[0];
  const n = Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1);
  return Number.isSafeInteger(n) ? n : null;
}

export function segmentPath(base: string, n: number): string {
  return n === 0 ? base : `${base}.${n}`;
}

/** Segment numbers that exist for `base`, ascending (0 is `base` itself). */
export async function listSegments(base: string): Promise<number[]> {
  const dir = dirname(base);
  const name = basename(base);
  const found: number[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return found;
  }
  for (const entry of names) {
    if (entry === name) found.push(0);
    else if (entry.startsWith(`${name}.`)) {
      const suffix = entry.slice(name.length + 1);
      if (/^[1-9]\d{0,8}$/.test(suffix)) found.push(Number(suffix));
    }
  }
  return found.sort((a, b) => a - b);
}

/**
 * Puts the files of one log in chain order whatever order the shell gave them
 * (`audit.log*` globs as audit.log, audit.log.1, audit.log.10, audit.log.2): grouped by base name,
 * then by segment number, the bare name first. Unrelated names keep their relative order.
 */
export function orderLogFiles(paths: readonly string[]): string[] {
  const keyed = paths.map((p, i) => {
    const m = /^(.*)\.([1-9]\d{0,8})$/.exec(p);
    const base = m ? m[1]! : p;
    return { p, i, base, n: m ? Number(m[2]) : 0 };
  });
  const firstIndex = new Map<string, number>();
  for (const k of keyed) if (!firstIndex.has(k.base)) firstIndex.set(k.base, k.i);
  return keyed
    .sort((a, b) => firstIndex.get(a.base)! - firstIndex.get(b.base)! || a.n - b.n || a.i - b.i)
    .map((k) => k.p);
}

export interface RawLine {
  file: string;
  /** 1-based. */
  lineNo: number;
  /** Byte offset of the line's first byte in its file. */
  offset: number;
  /** The line's bytes without the `\n`. */
  bytes: Buffer;
  /** False for a final line that has no `\n`: a torn write. */
  terminated: boolean;
}

/** Streams a file's lines with their byte offsets (the chain_break record refers to offsets). */
export async function* readLines(file: string): AsyncGenerator<RawLine> {
  let carry: Buffer = Buffer.alloc(0);
  let carryOffset = 0;
  let lineNo = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    let buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      if (nl < 0) break;
      lineNo++;
      yield { file, lineNo, offset: carryOffset + start, bytes: buf.subarray(start, nl), terminated: true };
      start = nl + 1;
    }
    carryOffset += start;
    carry = Buffer.from(buf.subarray(start));
    buf = carry;
  }
  if (carry.length > 0) {
    lineNo++;
    yield { file, lineNo, offset: carryOffset, bytes: carry, terminated: false };
  }
}

/** Fails with a clear message for a path that is missing or not a regular file. */
export async function assertReadableFile(path: string): Promise<void> {
  let s;
  try {
    s = await stat(path);
  } catch {
    throw new Error(`${path}: no such file`);
  }
  if (!s.isFile()) throw new Error(`${path}: not a regular file`);
}
