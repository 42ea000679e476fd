// What a result contained, as low-cardinality detection signals: the classes of personal data and
// secrets the redaction engine finds in it and how many matches, never the values. Computed from
// the raw result before redaction, whatever the capture mode, so a rule can tell "returned
// personal data" from "returned a lot of bytes" without the collector ever seeing the content.
import type { Attributes } from '@opentelemetry/api';
import { KEY_CLASS, type Classifier } from '../redaction/classify.js';
import { boundaryAfter, LeafWalk, REACH, sampleRest } from './result-walk.js';
import {
  ATTR_MCP_AUDIT_RESULT_PII_CLASSES,
  ATTR_MCP_AUDIT_RESULT_PII_CLASS_COUNTS,
  ATTR_MCP_AUDIT_RESULT_PII_COUNT,
} from '../semconv.js';

/**
 * Characters of a result scanned by default: the first {@link RESULT_SCAN_HEAD_CHARS}, then, of a
 * longer result, windows spread evenly across the rest. The work per call is bounded whatever the
 * result's size.
 */
export const DEFAULT_RESULT_SCAN_CHARS = 512 * 1024;
/** The head of a result that is always scanned whole (all of a budget below it: a prefix). */
export const RESULT_SCAN_HEAD_CHARS = 64 * 1024;

/** A whole number of characters, or undefined (reported) for anything else: the default applies. */
export function validScanChars(value: unknown, warn: (message: string) => void): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  warn(
    `mcp-audit: ignoring resultScanChars ${JSON.stringify(value) ?? String(value)} (not a whole number >= 0); using the default`,
  );
  return undefined;
}

export interface ResultClasses {
  /** Class names, sorted. */
  classes: string[];
  /** Matches per class, in the order of `classes`. */
  counts: number[];
  /** All matches. */
  total: number;
}

// Strings are scanned in pieces of about this many characters, one piece per event-loop turn, so a
// large result never blocks the host for long: leaves are joined into a piece with a separator no
// class matches across; a longer string is cut into windows that overlap by OVERLAP characters
// (a match is counted in the window where it starts, so the overlap counts nothing twice).
const PIECE = 16 * 1024;
const OVERLAP = 512;
const SEPARATOR = '\n|\n';

interface Piece {
  text: string;
  /** Only matches starting before this offset count (the rest belong to the next window). */
  countBefore: number;
  /** A window after the first of one long string: where it starts in that string. */
  windowAt?: number;
  /** Values under sensitive keys: their start offsets; one with no match counts as `key`. */
  keyed?: number[];
  /** Where a text starts or ends mid-value (no boundary in reach): a match there may be part of one. */
  rawStarts?: number[];
  rawEnds?: number[];
}

/**
 * The classes found in a result's string leaves (and large numbers), plus values under sensitive
 * keys (their detected class, else `key`), reading at most about `maxChars` characters: the whole
 * result when it is that short; else its first `headChars` (default {@link RESULT_SCAN_HEAD_CHARS})
 * and, with what the budget has left, windows spread evenly across the rest, so personal data
 * throughout a large result is still seen. Every node visited costs at least one character. The
 * walk is iterative; the scan runs one piece per {@link step}. Never throws.
 */
export class ResultScan {
  private readonly found = new Map<string, number>();
  private readonly pieces: Piece[] = [];
  private next = 0;
  /** End (in its string) of the last match counted in the previous window of a long string. */
  private lastEnd = 0;
  private plain: string[] = [];
  private plainChars = 0;
  private plainRawStarts: number[] = [];
  private plainRawEnds: number[] = [];
  private keyed: string[] = [];
  private keyedChars = 0;

  constructor(
    result: unknown,
    private readonly classifier: Classifier,
    maxChars: number,
    headChars: number = RESULT_SCAN_HEAD_CHARS,
  ) {
    const budget = maxChars > 0 ? Math.min(Number.MAX_SAFE_INTEGER, Math.floor(maxChars)) : 0;
    const head = Math.min(budget, Math.max(0, Math.floor(headChars)));
    const walk = new LeafWalk(result, classifier);
    try {
      const rest = this.scanHead(walk, head);
      if (rest !== undefined && budget > head) {
        sampleRest(walk, rest, budget - head, (text, keyed, rawStart, rawEnd) =>
          keyed ? this.addKeyed(text.slice(0, PIECE)) : this.addPlain(text, rawStart, rawEnd),
        );
      }
    } catch {
      // A getter that throws, a proxy: scan what was collected.
    }
    this.flushPlain();
    this.flushKeyed();
  }

  /**
   * Takes leaves whole until `head` characters are spent. Undefined when the result ended within
   * it; else the rest of a string the head ended in ('' when it ended between leaves).
   */
  private scanHead(walk: LeafWalk, head: number): string | undefined {
    let left = head;
    while (left > 0) {
      const visited = walk.nodes;
      const leaf = walk.next();
      if (!leaf) return undefined;
      left -= walk.nodes - visited;
      if (leaf.keyed) {
        const text = leaf.text.slice(0, Math.max(0, Math.min(left, PIECE)));
        left -= leaf.keyChars + text.length;
        this.addKeyed(text);
      } else if (leaf.text.length <= left) {
        left -= leaf.text.length;
        this.addPlain(leaf.text);
      } else {
        // The head ends in this string: at the nearest boundary past its budget, if one is near.
        const room = Math.max(0, left);
        const cut = room === 0 ? 0 : boundaryAfter(leaf.text, room, REACH);
        this.addPlain(leaf.text.slice(0, cut ?? room), false, cut === undefined);
        return leaf.text.slice(cut ?? room);
      }
    }
    return '';
  }

  /** `rawStart`/`rawEnd`: the text was cut mid-value there (a match at the cut may be part of one). */
  private addPlain(text: string, rawStart = false, rawEnd = false): void {
    if (text.length === 0) return;
    if (text.length > PIECE) {
      this.flushPlain();
      for (let at = 0; at < text.length; at += PIECE) {
        const last = at + PIECE >= text.length;
        const piece = text.slice(at, at + PIECE + (last ? 0 : OVERLAP));
        this.pieces.push({
          text: piece,
          countBefore: last ? Infinity : PIECE,
          ...(at > 0 ? { windowAt: at } : {}),
          ...(at === 0 && rawStart ? { rawStarts: [0] } : {}),
          ...(last && rawEnd ? { rawEnds: [piece.length] } : {}),
        });
      }
      return;
    }
    if (this.plainChars + text.length > PIECE) this.flushPlain();
    if (rawStart) this.plainRawStarts.push(this.plainChars);
    if (rawEnd) this.plainRawEnds.push(this.plainChars + text.length);
    this.plain.push(text);
    this.plainChars += text.length + SEPARATOR.length;
  }

  private flushPlain(): void {
    if (this.plain.length > 0) {
      this.pieces.push({
        text: this.plain.join(SEPARATOR),
        countBefore: Infinity,
        ...(this.plainRawStarts.length > 0 ? { rawStarts: this.plainRawStarts } : {}),
        ...(this.plainRawEnds.length > 0 ? { rawEnds: this.plainRawEnds } : {}),
      });
    }
    this.plain = [];
    this.plainChars = 0;
    this.plainRawStarts = [];
    this.plainRawEnds = [];
  }

  private addKeyed(text: string): void {
    if (this.keyedChars + text.length > PIECE) this.flushKeyed();
    this.keyed.push(text);
    this.keyedChars += text.length + SEPARATOR.length;
  }

  private flushKeyed(): void {
    if (this.keyed.length === 0) return;
    const starts: number[] = [];
    let at = 0;
    for (const text of this.keyed) {
      starts.push(at);
      at += text.length + SEPARATOR.length;
    }
    this.pieces.push({ text: this.keyed.join(SEPARATOR), countBefore: Infinity, keyed: starts });
    this.keyed = [];
    this.keyedChars = 0;
  }

  /** Scans the next piece; false once every piece is scanned. */
  step(): boolean {
    const piece = this.pieces[this.next++];
    if (!piece) return false;
    const matches = piece.text.length > 0 ? this.classifier.matches(piece.text) : [];
    // The tail of a match the previous window counted can match again on its own (the end of an
    // e-mail address is one): matches starting inside it are skipped.
    const at = piece.windowAt ?? 0;
    const carried = piece.windowAt === undefined ? 0 : this.lastEnd;
    this.lastEnd = 0;
    for (const m of matches) {
      if (m.start >= piece.countBefore || at + m.start < carried) continue;
      if (piece.rawStarts?.includes(m.start) || piece.rawEnds?.includes(m.end)) continue;
      this.found.set(m.label, (this.found.get(m.label) ?? 0) + 1);
      this.lastEnd = Math.max(this.lastEnd, at + m.end);
    }
    if (piece.keyed) {
      // Named by what it is when a detector knows it (an SSN under "ssn"), else by its key.
      let unmatched = 0;
      let mi = 0;
      for (let i = 0; i < piece.keyed.length; i++) {
        const end = piece.keyed[i + 1] ?? Infinity;
        let any = false;
        while (mi < matches.length && matches[mi]!.start < end) {
          any = true;
          mi++;
        }
        if (!any) unmatched++;
      }
      if (unmatched > 0) this.found.set(KEY_CLASS, (this.found.get(KEY_CLASS) ?? 0) + unmatched);
    }
    return this.next < this.pieces.length;
  }

  /** Pieces left to scan. */
  get remaining(): number {
    return this.pieces.length - this.next;
  }

  /** What was found so far (everything, once step() returned false). */
  classes(): ResultClasses {
    const classes = [...this.found.keys()].sort();
    const counts = classes.map((c) => this.found.get(c)!);
    return { classes, counts, total: counts.reduce((a, b) => a + b, 0) };
  }
}

/** The whole scan at once (tests, offline use). */
export function classifyResult(
  result: unknown,
  classifier: Classifier,
  maxChars: number,
  headChars: number = RESULT_SCAN_HEAD_CHARS,
): ResultClasses {
  const scan = new ResultScan(result, classifier, maxChars, headChars);
  while (scan.step());
  return scan.classes();
}

/** Runs the scan one piece per event-loop turn (setImmediate), then calls `done`; never throws. */
export function scanInTurns(scan: ResultScan, done: (found: ResultClasses) => void): void {
  const turn = () => {
    let more = false;
    try {
      more = scan.step();
    } catch {
      more = false;
    }
    if (more) setImmediate(turn);
    else done(scan.classes());
  };
  setImmediate(turn);
}

/** Sets the result's class attributes: always the count (0 included), the lists only when non-empty. */
export function resultClassAttributes(found: ResultClasses, attrs: Attributes): void {
  attrs[ATTR_MCP_AUDIT_RESULT_PII_COUNT] = found.total;
  if (found.classes.length === 0) return;
  attrs[ATTR_MCP_AUDIT_RESULT_PII_CLASSES] = found.classes;
  attrs[ATTR_MCP_AUDIT_RESULT_PII_CLASS_COUNTS] = found.counts;
}
