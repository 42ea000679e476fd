// The one writer of the evidence log, shared by the in-process exporter and `mcp-audit sink`.
// (Over 300 lines: append, group commit, rotation, crash recovery and the dropped/chain-break
// records all change one chain state; kept together so that state has a single owner.)
//
// - Append-only: files are opened with flag 'a' (O_APPEND) and mode 0600, never truncated or
//   renamed (rotation naming and OS hardening: log-files.ts).
// - Durable before acknowledged: `append()` resolves only after the lines are written and fsync'd.
//   Batches that arrive while a write is in flight are group-committed with one write + one fsync.
// - Bounded memory: at most `maxQueue` records wait; beyond that `append()` is refused
//   (QueueFullError) and the refusal is itself written as a `dropped` control line, so loss is
//   visible in the chain rather than silent.
// - Crash-safe resume: on open it reads only the tail of the last file. A torn last line (a crash
//   mid-write) is terminated and sealed by a `chain_break` line that records its offset, length and
//   digest and chains on from the last good line; `verify` accepts exactly that pattern.
// - Any write error marks the writer for a fresh resume, so the in-memory head can never drift from
//   what is on disk (a failed batch may then be retried by the sender: duplicates, never gaps).

import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  GENESIS_HASH,
  checkEntry,
  isControl,
  sealEntry,
  sha256Hex,
  type ChainBody,
  type ChainEntry,
  type ChainHead,
  type ControlRecord,
} from './hash-chain.js';
import { listSegments, segmentPath } from './log-files.js';

export interface AuditLogWriterOptions {
  /** Path of the first file; rotated files are `<file>.1`, `<file>.2`, … */
  file: string;
  /** Start a new file before one would grow past this many bytes. 0 = never. @default 0 */
  maxBytes?: number;
  /** HMAC-SHA256 key for the chain; plain SHA-256 when absent or empty. */
  hmacKey?: string | Buffer;
  /** Records allowed to wait for the disk before appends are refused. @default 10000 */
  maxQueue?: number;
  /** Called for each line once it is durable. Exceptions are swallowed (the log comes first). */
  onEntry?: (entry: ChainEntry) => void;
}

export class QueueFullError extends Error {
  override name = 'QueueFullError';
}
export class WriterClosedError extends Error {
  override name = 'WriterClosedError';
}

interface Pending {
  bodies: ChainBody[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface DroppedTally {
  reason: DroppedReason;
  destination?: string;
  count: number;
}

type DroppedReason = Extract<ControlRecord, { control: 'dropped' }>['reason'];

interface Tail {
  size: number;
  /** The last `\n`-terminated line. */
  lastLine?: { offset: number; bytes: Buffer };
  /** Bytes after the last `\n`: a torn write. */
  fragment?: { offset: number; bytes: Buffer };
}

export const DEFAULT_MAX_QUEUE = 10_000;
/** Longest stretch of sealing between two event-loop turns (as the file exporter's slices). */
const SEAL_SLICE_MS = 4;

export class AuditLogWriter {
  readonly file: string;
  private readonly maxBytes: number;
  private readonly key: string | Buffer | undefined;
  private readonly maxQueue: number;
  private readonly onEntry: ((entry: ChainEntry) => void) | undefined;

  private fh: FileHandle | null = null;
  private segment = 0;
  private size = 0;
  private head: ChainHead = { seq: 0, hash: GENESIS_HASH };
  private needsOpen = true;
  private queue: Pending[] = [];
  private queued = 0;
  /** Losses not yet written as `dropped` lines, by `reason` and destination. */
  private droppedUnrecorded = new Map<string, DroppedTally>();
  private running: Promise<void> | null = null;
  private closed = false;

  /** Counters for status lines and tests. */
  readonly stats = { lines: 0, records: 0, dropped: 0, chainBreaks: 0, writeErrors: 0 };

  constructor(options: AuditLogWriterOptions) {
    if (!options.file) throw new TypeError('AuditLogWriter: `file` is required');
    this.file = options.file;
    this.maxBytes = Math.max(0, options.maxBytes ?? 0);
    this.key = options.hmacKey !== undefined && options.hmacKey.length > 0 ? options.hmacKey : undefined;
    this.maxQueue = Math.max(1, options.maxQueue ?? DEFAULT_MAX_QUEUE);
    this.onEntry = options.onEntry;
  }

  /** The file currently appended to and the chain head (seq of the next line, last hash). */
  get position(): { file: string; seq: number; hash: string } {
    return { file: segmentPath(this.file, this.segment), ...this.head };
  }

  /** Resolves once every body is written and fsync'd; rejects if it was not (nothing acknowledged). */
  append(bodies: readonly ChainBody[]): Promise<void> {
    if (this.closed) return Promise.reject(new WriterClosedError('audit log writer is closed'));
    if (bodies.length === 0) return this.flush();
    // An oversized batch is still taken when nothing waits, so it cannot be refused forever.
    if (this.queued > 0 && this.queued + bodies.length > this.maxQueue) {
      this.noteDropped('queue_full', bodies.length);
      this.kick();
      return Promise.reject(
        new QueueFullError(`audit log queue full (${this.maxQueue} records waiting for disk)`),
      );
    }
    this.queued += bodies.length;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ bodies: [...bodies], resolve, reject });
      this.kick();
    });
  }

  /**
   * Opens the log now — resuming the chain and repairing a torn tail — rather than on the first
   * append, so a broken disk or a damaged tail shows at startup.
   */
  open(): Promise<void> {
    if (this.closed) return Promise.reject(new WriterClosedError('audit log writer is closed'));
    // Through the queue like any write, so it can never race a concurrent append's resume.
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ bodies: [], resolve, reject });
      this.kick();
    });
  }

  /**
   * Records spans lost before they reached this log (a full span queue, a collector that refused
   * them, an exit deadline): written as a `dropped` line with the next write, or now if idle.
   */
  recordDropped(reason: DroppedReason, count: number, destination?: string): void {
    if (this.closed || count <= 0) return;
    this.noteDropped(reason, count, destination);
    this.kick();
  }

  private noteDropped(reason: DroppedReason, count: number, destination?: string): void {
    const key = `${reason}\u0000${destination ?? ''}`;
    const tally = this.droppedUnrecorded.get(key) ?? { reason, destination, count: 0 };
    tally.count += count;
    this.droppedUnrecorded.set(key, tally);
    this.stats.dropped += count;
  }

  /** Waits until everything appended so far is durable (or failed). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Drains, fsyncs and closes. Later appends are refused. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    const fh = this.fh;
    this.fh = null;
    this.needsOpen = true;
    if (fh) await fh.close();
  }

  private kick(): void {
    if (this.running) return;
    this.running = this.drain().finally(() => {
      this.running = null;
      // An append that ran between the drain's last check and here must not be stranded.
      if (this.queue.length > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 || this.droppedUnrecorded.size > 0) {
      const batch = this.queue.splice(0);
      const dropped = this.droppedUnrecorded;
      this.droppedUnrecorded = new Map();
      const bodies: ChainBody[] = [];
      const timestamp = new Date().toISOString();
      for (const { reason, destination, count } of dropped.values()) {
        bodies.push({
          control: 'dropped',
          timestamp,
          reason,
          count,
          ...(destination ? { destination } : {}),
        });
      }
      let count = 0;
      for (const p of batch) {
        bodies.push(...p.bodies);
        count += p.bodies.length;
      }
      try {
        await this.write(bodies);
        for (const p of batch) p.resolve();
      } catch (err) {
        this.stats.writeErrors++;
        this.needsOpen = true;
        // Not written: keep the losses for the next attempt (merged with any noted meanwhile).
        for (const t of dropped.values()) {
          this.stats.dropped -= t.count;
          this.noteDropped(t.reason, t.count, t.destination);
        }
        for (const p of batch) p.reject(err);
        // Do not spin on a failing disk: the next append retries (and reopens).
        break;
      } finally {
        this.queued -= count;
      }
    }
  }

  private async write(bodies: ChainBody[]): Promise<void> {
    if (this.needsOpen || !this.fh) await this.resume();
    let head = this.head;
    let chunk: string[] = [];
    let chunkBytes = 0;
    const sealed: ChainEntry[] = [];
    let until = performance.now() + SEAL_SLICE_MS;
    for (const body of bodies) {
      // Hashing a large group commit in one go would hold up the host's I/O: yield a turn now and
      // then (the drain is the chain's only writer, so nothing else moves the head meanwhile).
      if (performance.now() > until) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        until = performance.now() + SEAL_SLICE_MS;
      }
      const s = sealEntry(head, body, this.key);
      const len = Buffer.byteLength(s.line);
      if (this.maxBytes > 0 && this.size + chunkBytes > 0 && this.size + chunkBytes + len > this.maxBytes) {
        await this.writeDurably(chunk.join(''));
        chunk = [];
        chunkBytes = 0;
        await this.rotate();
      }
      chunk.push(s.line);
      chunkBytes += len;
      head = s.head;
      sealed.push(s.entry);
    }
    await this.writeDurably(chunk.join(''));
    this.head = head;
    this.stats.lines += sealed.length;
    for (const entry of sealed) {
      if (!isControl(entry)) this.stats.records++;
      if (this.onEntry) {
        try {
          this.onEntry(entry);
        } catch {
          // A consumer's bug must not fail the write that already happened.
        }
      }
    }
  }

  private async writeDurably(text: string): Promise<void> {
    if (text.length === 0) return;
    const fh = this.fh!;
    const buf = Buffer.from(text, 'utf8');
    let done = 0;
    while (done < buf.length) {
      const { bytesWritten } = await fh.write(buf, done, buf.length - done);
      done += bytesWritten;
    }
    this.size += buf.length;
    await fh.sync();
  }

  private async rotate(): Promise<void> {
    await this.fh?.close();
    this.fh = null;
    this.segment++;
    await this.openSegment(this.segment);
  }

  private async openSegment(n: number): Promise<void> {
    const path = segmentPath(this.file, n);
    const fh = await open(path, 'a', 0o600);
    this.fh = fh;
    this.segment = n;
    this.size = (await fh.stat()).size;
    // The new directory entry must survive a crash too, or the chain would lose a whole file.
    await syncDir(dirname(path));
  }

  /** Finds the chain head on disk (reading only file tails) and repairs a torn tail. */
  private async resume(): Promise<void> {
    if (this.fh) {
      await this.fh.close().catch(() => undefined);
      this.fh = null;
    }
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    const segments = await listSegments(this.file);
    const current = segments.length > 0 ? segments[segments.length - 1]! : 0;

    let head: ChainHead = { seq: 0, hash: GENESIS_HASH };
    let repair: { path: string; body: ControlRecord; terminate: boolean } | null = null;
    for (let i = segments.length - 1; i >= 0; i--) {
      const path = segmentPath(this.file, segments[i]!);
      const tail = await readTail(path);
      if (tail.fragment && !repair) {
        repair = { path, body: breakRecord('torn_tail', tail.fragment), terminate: true };
      }
      if (!tail.lastLine) continue; // empty file, or one torn line only: the head is further back
      const found = headAfter(tail.lastLine.bytes, this.key);
      if (found.kind === 'ok') head = found.head;
      else if (found.kind === 'unverified') {
        head = found.head;
        repair ??= { path, body: breakRecord('unverified_tail', tail.lastLine), terminate: false };
      } else {
        repair ??= { path, body: breakRecord('unreadable_tail', tail.lastLine), terminate: false };
      }
      break;
    }

    if (repair) {
      // Sealed where the damage is, so `verify` sees the break right after the broken line.
      const s = sealEntry(head, repair.body, this.key);
      const fh = await open(repair.path, 'a', 0o600);
      try {
        await fh.write(Buffer.from((repair.terminate ? '\n' : '') + s.line, 'utf8'));
        await fh.sync();
      } finally {
        await fh.close();
      }
      head = s.head;
      this.stats.chainBreaks++;
      this.stats.lines++;
    }
    this.head = head;
    await this.openSegment(current);
    this.needsOpen = false;
  }
}

function breakRecord(
  reason: 'torn_tail' | 'unverified_tail' | 'unreadable_tail',
  line: { offset: number; bytes: Buffer },
): ControlRecord {
  return {
    control: 'chain_break',
    timestamp: new Date().toISOString(),
    reason,
    broken_offset: line.offset,
    broken_bytes: line.bytes.length,
    broken_sha256: sha256Hex(line.bytes),
  };
}

type HeadResult = { kind: 'ok' | 'unverified'; head: ChainHead } | { kind: 'unreadable' };

function headAfter(bytes: Buffer, key: string | Buffer | undefined): HeadResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { kind: 'unreadable' };
  }
  const check = checkEntry(parsed, key);
  if (check.ok) return { kind: 'ok', head: { seq: check.entry.seq + 1, hash: check.entry.hash } };
  // Structurally a chain line whose hash does not verify (edited, or written with another key):
  // chain on from what it claims, and say so in the chain_break.
  if (check.problem === 'hash_mismatch') {
    return { kind: 'unverified', head: { seq: check.entry.seq + 1, hash: check.entry.hash } };
  }
  return { kind: 'unreadable' };
}

/** Reads backwards from the end until the last complete line (and any torn fragment) is known. */
async function readTail(path: string): Promise<Tail> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    if (size === 0) return { size };
    let pos = size;
    let buf: Buffer = Buffer.alloc(0);
    while (pos > 0) {
      const n = Math.min(64 * 1024, pos);
      pos -= n;
      const chunk = Buffer.alloc(n);
      await fh.read(chunk, 0, n, pos);
      buf = Buffer.concat([chunk, buf]);
      if (countNewlines(buf) >= 2) break;
    }
    const tail: Tail = { size };
    let end = buf.length;
    if (buf[end - 1] !== 0x0a) {
      const start = buf.lastIndexOf(0x0a) + 1;
      tail.fragment = { offset: pos + start, bytes: Buffer.from(buf.subarray(start)) };
      end = start;
    }
    if (end > 0) {
      const content = buf.subarray(0, end - 1); // without the final \n
      const start = content.lastIndexOf(0x0a) + 1;
      tail.lastLine = { offset: pos + start, bytes: Buffer.from(content.subarray(start)) };
    }
    return tail;
  } finally {
    await fh.close();
  }
}

function countNewlines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, i + 1)) if (++n >= 2) return n;
  return n;
}

async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Not every platform can fsync a directory (Windows); the file data itself is still synced.
  }
}
