// What a result contained, as low-cardinality detection signals: the classes of personal data and
// secrets the redaction engine finds in it and how many matches, never the values. Computed from
// the raw result before redaction, whatever the capture mode, so a rule can tell "returned
// personal data" from "returned a lot of bytes" without the collector ever seeing the content.
import type { Attributes } from '@opentelemetry/api';
import { KEY_CLASS, type Classifier } from '../redaction/classify.js';
import {
  ATTR_MCP_AUDIT_RESULT_PII_CLASSES,
  ATTR_MCP_AUDIT_RESULT_PII_CLASS_COUNTS,
  ATTR_MCP_AUDIT_RESULT_PII_COUNT,
} from '../semconv.js';

/** Characters of a result scanned by default (a prefix: the work per call is bounded). */
export const DEFAULT_RESULT_SCAN_CHARS = 1024 * 1024;

// Containers nested deeper than this are not entered (results are JSON; depth is not data).
const MAX_DEPTH = 64;
// Numbers this large can be an SSN or a card given as a number; smaller ones cannot.
const MIN_CLASSIFIED_NUMBER = 1e8;

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
}

/**
 * The classes found in the first `maxChars` characters of a result's string leaves (and large
 * numbers), plus values under sensitive keys (their detected class, else `key`). The walk is
 * iterative and bounded by `maxChars` (every node visited costs at least one); the scan runs one
 * piece per {@link step}. Never throws.
 */
export class ResultScan {
  private readonly found = new Map<string, number>();
  private readonly pieces: Piece[] = [];
  private next = 0;
  /** End (in its string) of the last match counted in the previous window of a long string. */
  private lastEnd = 0;
  private plain: string[] = [];
  private plainChars = 0;
  private keyed: string[] = [];
  private keyedChars = 0;

  constructor(
    result: unknown,
    private readonly classifier: Classifier,
    maxChars: number,
  ) {
    let budget = maxChars;
    const stack: Array<[value: unknown, depth: number]> = [[result, 0]];
    try {
      while (stack.length > 0 && budget > 0) {
        const [value, depth] = stack.pop()!;
        budget--;
        if (typeof value === 'string') {
          const text = value.length > budget ? value.slice(0, budget) : value;
          budget -= text.length;
          this.addPlain(text);
        } else if (typeof value === 'number' || typeof value === 'bigint') {
          if (typeof value === 'bigint' || Math.abs(value) >= MIN_CLASSIFIED_NUMBER)
            this.addPlain(String(value));
        } else if (typeof value === 'object' && value !== null && depth < MAX_DEPTH) {
          if (Array.isArray(value)) {
            for (let i = value.length - 1; i >= 0 && stack.length < budget; i--)
              stack.push([value[i], depth + 1]);
          } else {
            const entries = Object.entries(value as Record<string, unknown>);
            for (let i = entries.length - 1; i >= 0 && stack.length < budget; i--) {
              const [key, child] = entries[i]!;
              if (classifier.sensitiveKey(key) && child !== null && child !== undefined && child !== '') {
                const text =
                  typeof child === 'string' ? child.slice(0, Math.max(0, Math.min(budget, PIECE))) : '';
                budget -= key.length + text.length;
                this.addKeyed(text);
              } else {
                stack.push([child, depth + 1]);
              }
            }
          }
        }
      }
    } catch {
      // A getter that throws, a proxy: scan what was collected.
    }
    this.flushPlain();
    this.flushKeyed();
  }

  private addPlain(text: string): void {
    if (text.length === 0) return;
    if (text.length > PIECE) {
      this.flushPlain();
      for (let at = 0; at < text.length; at += PIECE) {
        const last = at + PIECE >= text.length;
        this.pieces.push({
          text: text.slice(at, at + PIECE + (last ? 0 : OVERLAP)),
          countBefore: last ? Infinity : PIECE,
          ...(at > 0 ? { windowAt: at } : {}),
        });
      }
      return;
    }
    if (this.plainChars + text.length > PIECE) this.flushPlain();
    this.plain.push(text);
    this.plainChars += text.length + SEPARATOR.length;
  }

  private flushPlain(): void {
    if (this.plain.length > 0) this.pieces.push({ text: this.plain.join(SEPARATOR), countBefore: Infinity });
    this.plain = [];
    this.plainChars = 0;
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
export function classifyResult(result: unknown, classifier: Classifier, maxChars: number): ResultClasses {
  const scan = new ResultScan(result, classifier, maxChars);
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
