// The leaves of a result in document order, as the result scan reads them (string leaves and
// large numbers as text, values under sensitive keys apart), and the sample of a large result's
// rest past its head: evenly spread windows, each cut between values. Lazy and iterative: the scan
// stops pulling once its budget is spent, so a huge result costs no more than what is read of it.
import type { Classifier } from '../redaction/classify.js';

// Containers nested deeper than this are not entered (results are JSON; depth is not data).
const MAX_DEPTH = 64;
// Numbers this large can be an SSN or a card given as a number; smaller ones cannot.
const MIN_CLASSIFIED_NUMBER = 1e8;

interface Leaf {
  /** The text (a value under a sensitive key: the string, '' for any other value). */
  text: string;
  /** A value under a sensitive key: counted as class `key` when no detector names it. */
  keyed: boolean;
  /** The key's length (keyed leaves; the scan's budget charges the key too). */
  keyChars: number;
}

interface Frame {
  values?: readonly unknown[];
  entries?: Array<[string, unknown]>;
  next: number;
  depth: number;
}

/** Walks a result's leaves in document order; {@link nodes} counts every node visited. */
export class LeafWalk {
  /** Nodes visited so far: containers and leaves (a value under a sensitive key is not one). */
  nodes = 0;
  private readonly frames: Frame[] = [];
  private started = false;

  constructor(
    private readonly root: unknown,
    private readonly classifier: Classifier,
  ) {}

  /** The next leaf, or undefined once the result is walked. May throw (a getter, a proxy). */
  next(): Leaf | undefined {
    for (;;) {
      let value: unknown;
      let depth: number;
      if (!this.started) {
        this.started = true;
        value = this.root;
        depth = 0;
      } else {
        const frame = this.frames[this.frames.length - 1];
        if (!frame) return undefined;
        depth = frame.depth + 1;
        if (frame.values) {
          if (frame.next >= frame.values.length) {
            this.frames.pop();
            continue;
          }
          value = frame.values[frame.next++];
        } else {
          const entries = frame.entries!;
          if (frame.next >= entries.length) {
            this.frames.pop();
            continue;
          }
          const [key, child] = entries[frame.next++]!;
          if (this.classifier.sensitiveKey(key) && child !== null && child !== undefined && child !== '') {
            return { text: typeof child === 'string' ? child : '', keyed: true, keyChars: key.length };
          }
          value = child;
        }
      }
      this.nodes++;
      if (typeof value === 'string') {
        if (value.length > 0) return { text: value, keyed: false, keyChars: 0 };
      } else if (typeof value === 'number' || typeof value === 'bigint') {
        if (typeof value === 'bigint' || Math.abs(value) >= MIN_CLASSIFIED_NUMBER)
          return { text: String(value), keyed: false, keyChars: 0 };
      } else if (typeof value === 'object' && value !== null && depth < MAX_DEPTH) {
        this.frames.push(
          Array.isArray(value)
            ? { values: value, next: 0, depth }
            : { entries: Object.entries(value as Record<string, unknown>), next: 0, depth },
        );
      }
    }
  }
}

// Where a cut may fall without splitting anything a detector matches: line and field separators
// and JSON structure. Not a space (cards, phones and IBANs are written with spaces) and not a
// quote (it would part a JSON key from its value, which the key-value rules read together).
const BOUNDARY = new Set([...'\n\r\t,;|{}[]<>'].map((c) => c.charCodeAt(0)));

/**
 * Where to start a window of `text` that should start at `at`: just after the nearest boundary
 * before it, at most `reach` characters back (the string's start is one). Undefined: none found.
 */
function boundaryBefore(text: string, at: number, reach: number): number | undefined {
  const stop = Math.max(0, at - reach);
  for (let i = at - 1; i >= stop; i--) if (BOUNDARY.has(text.charCodeAt(i))) return i + 1;
  return stop === 0 ? 0 : undefined;
}

/**
 * Where to end a window of `text` that should end at `at`: just after the nearest boundary at or
 * after it, at most `reach` characters on (the string's end is one). Undefined: none found.
 */
export function boundaryAfter(text: string, at: number, reach: number): number | undefined {
  const stop = Math.min(text.length, at + reach);
  for (let i = at; i < stop; i++) if (BOUNDARY.has(text.charCodeAt(i))) return i + 1;
  return stop === text.length ? text.length : undefined;
}

/** How far a cut moves to reach a boundary. */
export const REACH = 256;
// Past the head, the budget is spent in windows of about this many characters, one centred in each
// equal stretch of the rest, each widened to the nearest boundary (at most REACH further) so it
// starts and ends between values, not inside one.
const WINDOW = 2 * 1024;
// A leaf this short is taken whole when a window touches it.
const SHORT_LEAF = 512;
// The walk of the rest (to learn how long it is) visits at most this many nodes, or the budget if
// larger: a result with more leaves is sampled across its first ones.
const MIN_SAMPLE_NODES = 64 * 1024;
// A value under a sensitive key counts this many characters at most.
const MAX_KEYED = 16 * 1024;

const leafChars = (leaf: Leaf) =>
  leaf.keyed ? Math.max(1, Math.min(leaf.text.length, MAX_KEYED)) : leaf.text.length;

/**
 * Reads the rest of a result (`first`, the rest of the string the head ended in, then what `walk`
 * has left) in about `chars` characters: all of it when it is that short, else one window per equal
 * stretch. Hands each part to `take` in order; `rawStart`/`rawEnd` say it was cut mid-value there
 * (no boundary within reach). May throw (a getter, a proxy).
 */
export function sampleRest(
  walk: LeafWalk,
  first: string,
  chars: number,
  take: (text: string, keyed: boolean, rawStart: boolean, rawEnd: boolean) => void,
): void {
  const leaves: Leaf[] = [];
  const starts: number[] = [];
  let total = 0;
  const add = (leaf: Leaf) => {
    leaves.push(leaf);
    starts.push(total);
    total += leafChars(leaf);
  };
  if (first.length > 0) add({ text: first, keyed: false, keyChars: 0 });
  const cap = walk.nodes + Math.max(MIN_SAMPLE_NODES, chars);
  while (walk.nodes < cap) {
    const leaf = walk.next();
    if (!leaf) break;
    add(leaf);
  }
  if (total <= chars) {
    for (const leaf of leaves) take(leaf.text, leaf.keyed, false, false);
    return;
  }
  const windows = Math.max(1, Math.floor(chars / WINDOW));
  const stride = total / windows;
  // Widening stays inside the window's own stretch: no two windows overlap.
  const reach = Math.max(0, Math.min(REACH, Math.floor((stride - WINDOW) / 2)));
  let touched = 0;
  let taken = -1;
  for (let w = 0; w < windows; w++) {
    const from = Math.floor(w * stride + (stride - WINDOW) / 2);
    const to = from + WINDOW;
    while (touched < leaves.length && starts[touched]! + leafChars(leaves[touched]!) <= from) touched++;
    for (let i = touched; i < leaves.length && starts[i]! < to; i++) {
      const leaf = leaves[i]!;
      if (leaf.keyed || leaf.text.length <= SHORT_LEAF) {
        if (i > taken) {
          take(leaf.text, leaf.keyed, false, false);
          taken = i;
        }
        continue;
      }
      const at = starts[i]!;
      const a = Math.max(from, at) - at;
      const b = Math.min(to, at + leaf.text.length) - at;
      const start = a === 0 ? 0 : boundaryBefore(leaf.text, a, reach);
      const end = b === leaf.text.length ? b : boundaryAfter(leaf.text, b, reach);
      take(leaf.text.slice(start ?? a, end ?? b), false, start === undefined, end === undefined);
    }
  }
}
