// Reader for the collector's audit file (file exporter, one OTLP/JSON TracesData object per line)
// that survives a crash of its writer. A collector killed mid-write leaves a torn line: the first
// part of an object, then (once restarted) its next object appended on the same line. Every
// complete object is recovered, the ones glued after a tear included, and so is every span the
// torn fragment holds whole; each fragment is reported with its line number, so a reader can say
// where the file is damaged and how much it could not read.
//
// Splitting is safe because the sequence `{"resourceSpans"` (unescaped quotes) cannot occur
// inside a JSON string: wherever it appears, an object starts.

import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';

/** One TracesData object as the collector's file exporter writes it (the parts readers use). */
export interface TracesData {
  resourceSpans?: Array<{
    resource?: { attributes?: unknown[] };
    scopeSpans?: Array<{ scope?: unknown; spans?: Array<{ traceId?: string; spanId?: string } & object> }>;
  }>;
}

/** A piece of a line that is not a complete object: what a crash left behind. */
export interface Tear {
  /** 1-based line number. */
  line: number;
  /** Bytes (UTF-16 code units) of the unreadable fragment. */
  length: number;
  /** Complete objects recovered from the same line (glued after the fragment). */
  recoveredOnLine: number;
  /** Complete spans salvaged from the fragment itself (those written whole before the cut). */
  salvagedSpans: number;
  /** The file's last line, not ended by a newline: a writer may still be finishing it. */
  atEnd: boolean;
}

export interface AuditFileSummary {
  lines: number;
  /** Complete TracesData objects read. */
  records: number;
  spans: number;
  /** Line numbers holding more than one complete object: a writer killed after an object and
   * before its newline reached the file (the restarted one appended to the line); nothing lost. */
  glued: number[];
  tears: Tear[];
}

const OBJECT_START = /\{"resource(?:Spans|Metrics|Logs)"/g;

/** An unreadable piece of a line, and the complete spans written before its cut. */
export interface Fragment {
  length: number;
  salvaged: TracesData | undefined;
}

/** The complete objects of one line and its unreadable fragments (in line order). */
export function parseAuditLine(line: string): { records: TracesData[]; fragments: Fragment[] } {
  const whole = tryParse(line);
  if (whole) return { records: [whole], fragments: [] };
  const starts = [...line.matchAll(OBJECT_START)].map((m) => m.index);
  if (starts[0] !== 0) starts.unshift(0);
  const records: TracesData[] = [];
  const fragments: Fragment[] = [];
  for (let i = 0; i < starts.length; i++) {
    const piece = line.slice(starts[i], starts[i + 1] ?? line.length);
    if (piece.trim() === '') continue;
    const parsed = tryParse(piece);
    if (parsed) records.push(parsed);
    else fragments.push({ length: piece.length, salvaged: salvageSpans(piece) });
  }
  return { records, fragments };
}

/**
 * The spans of a cut-off object that were written whole: the text up to the end of the last
 * complete element of a `spans` array, closed with the brackets still open there. The resource
 * and scope precede their spans in the exporter's output, so they come along complete.
 */
export function salvageSpans(fragment: string): TracesData | undefined {
  if (!fragment.startsWith('{"resource')) return undefined;
  // Open containers; for an array, the key it is the value of.
  const stack: Array<{ close: '}' | ']'; key: string | undefined }> = [];
  let lastKey: string | undefined;
  let inString = false;
  let stringStart = 0;
  let cut = -1;
  let closers = '';
  for (let i = 0; i < fragment.length; i++) {
    const c = fragment[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') {
        inString = false;
        // A string followed by ':' is a key.
        if (fragment[i + 1] === ':') lastKey = fragment.slice(stringStart + 1, i);
      }
      continue;
    }
    if (c === '"') {
      inString = true;
      stringStart = i;
    } else if (c === '{') stack.push({ close: '}', key: undefined });
    else if (c === '[') stack.push({ close: ']', key: lastKey });
    else if (c === '}' || c === ']') {
      stack.pop();
      const top = stack.at(-1);
      if (c === '}' && top?.close === ']' && top.key === 'spans') {
        cut = i + 1;
        closers = stack
          .map((s) => s.close)
          .reverse()
          .join('');
      }
    }
  }
  if (cut < 0) return undefined;
  const data = tryParse(fragment.slice(0, cut) + closers);
  return data && spanCount(data) > 0 ? data : undefined;
}

function tryParse(text: string): TracesData | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as TracesData)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Span count of one object. */
export function spanCount(data: TracesData): number {
  let n = 0;
  for (const rs of data.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) n += ss.spans?.length ?? 0;
  return n;
}

/** Feeds lines one at a time; `finish` says whether the input ended with a newline. */
class Tally {
  readonly summary: AuditFileSummary = { lines: 0, records: 0, spans: 0, glued: [], tears: [] };
  constructor(private readonly onRecord?: (data: TracesData, line: number) => void) {}

  add(line: string): void {
    const number = ++this.summary.lines;
    if (line.trim() === '') return;
    const { records, fragments } = parseAuditLine(line);
    if (records.length > 1) this.summary.glued.push(number);
    for (const r of records) {
      this.summary.records++;
      this.summary.spans += spanCount(r);
      this.onRecord?.(r, number);
    }
    for (const { length, salvaged } of fragments) {
      const salvagedSpans = salvaged ? spanCount(salvaged) : 0;
      if (salvaged) {
        this.summary.spans += salvagedSpans;
        this.onRecord?.(salvaged, number);
      }
      this.summary.tears.push({
        line: number,
        length,
        recoveredOnLine: records.length,
        salvagedSpans,
        atEnd: false,
      });
    }
  }

  finish(endsWithNewline: boolean): AuditFileSummary {
    const last = this.summary.tears.at(-1);
    if (!endsWithNewline && last && last.line === this.summary.lines) last.atEnd = true;
    return this.summary;
  }
}

/** Reads audit-file text (tests, small files). */
export function parseAuditText(
  text: string,
  onRecord?: (data: TracesData, line: number) => void,
): AuditFileSummary {
  const tally = new Tally(onRecord);
  const lines = text.split('\n');
  const endsWithNewline = text === '' || text.endsWith('\n');
  if (endsWithNewline) lines.pop();
  for (const line of lines) tally.add(line);
  return tally.finish(endsWithNewline);
}

/** Reads an audit file line by line (any size); rejects when the file cannot be opened. */
export async function readAuditFile(
  path: string,
  onRecord?: (data: TracesData, line: number) => void,
): Promise<AuditFileSummary> {
  const endsWithNewline = await lastByteIsNewline(path);
  const tally = new Tally(onRecord);
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) tally.add(line);
  return tally.finish(endsWithNewline);
}

async function lastByteIsNewline(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size === 0) return true;
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, size - 1);
    return byte[0] === 0x0a;
  } finally {
    await handle.close();
  }
}
