// The scanner: runs every detector over the normalised views of a string and returns the
// original ranges to mask; and the renderer that replaces them with typed masks.

import type { Detector } from './detectors.js';
import { LiteralIndex, type TextFeatures } from './literals.js';
import { findHiddenSeparatorNumbers } from './numbers.js';
import {
  hasJsonEscape,
  hasPercentEncoding,
  jsonUnescapedViews,
  isPlain,
  normalisedViews,
  compose,
  percentDecodedViews,
  removedInside,
  toOriginal,
  type View,
} from './normalise.js';

export interface Span {
  start: number;
  end: number;
  label: string;
}

export interface ScanOptions {
  /** The text is a whole scalar value (enables `whole` rules). */
  whole?: boolean;
  /** Skip built-ins when TRIGGER_CHAR proves they cannot match. Off only in tests. */
  fast?: boolean;
  /** Counts regex executions and finder calls (tests bound the scanner's work with it). */
  steps?: { count: number };
}

// Already-masked regions are overwritten with this in the working copy, so later classes cannot
// re-match (or half-match) them and positions stay aligned with the text.
export const FILL = '\u0000';
const NOT_FILL = /[^\u0000]/;
const MASK_TOKENS = /\[(?:REDACTED:[A-Za-z0-9_.-]{1,64}|HASH:[0-9a-f]{12})\]/g;

// A string can only contain a built-in match if it has a digit, one of these punctuation marks,
// or a run of 16+ non-space characters. Per class: digits (card, ssn, phone, iban, most provider
// tokens), '@' or '%40' (email), '-' (PEM, slack, openai, flags), '_' (github, stripe), ':' '/'
// (URLs, key: value), '=' (key=value), '.' (dotted tokens), 16+ runs (aws keys, JWTs, bearer
// tokens without digits or [+/=_-]). The property test in redact.property.test.ts checks fast
// and full scans agree.
const TRIGGER_CHAR = /[0-9@:=/_+.-]/;
const TRIGGER_RUN = /\S{16}/;
const HAS_DIGIT = /[0-9]/;

// Later classes only overlap earlier spans through FILL-tolerant character classes (PEM bodies,
// header values to end of line) or from another view; an overlap is masked as one span labelled
// by its longest part.
function mergeSpans(spans: Span[]): Span[] {
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Span[] = [];
  let longest = 0;
  for (const s of spans) {
    const last = out[out.length - 1];
    if (last !== undefined && s.start < last.end) {
      if (s.end - s.start > longest) {
        longest = s.end - s.start;
        last.label = s.label;
      }
      last.end = Math.max(last.end, s.end);
    } else {
      out.push({ ...s });
      longest = s.end - s.start;
    }
  }
  return out;
}

function fill(text: string, found: readonly Span[]): string {
  let out = '';
  let pos = 0;
  for (const s of found) {
    if (s.start < pos) continue;
    out += text.slice(pos, s.start) + FILL.repeat(s.end - s.start);
    pos = s.end;
  }
  return out + text.slice(pos);
}

// Most detectors that run find nothing: they share this instead of allocating an empty list each.
const NO_RANGES: ReadonlyArray<readonly [number, number]> = Object.freeze([]);

function ranges(
  d: Detector,
  work: string,
  steps?: { count: number },
): ReadonlyArray<readonly [number, number]> {
  if (steps) steps.count++;
  if (d.find) return d.find(work, steps);
  let out: Array<readonly [number, number]> | undefined;
  const r = d.re!;
  r.lastIndex = 0;
  for (let m = r.exec(work); m !== null; m = r.exec(work)) {
    if (steps) steps.count++;
    if (m[0].length === 0) {
      r.lastIndex++;
      continue;
    }
    const range = d.accept ? d.accept(m, work, r) : ([m.index, m.index + m[0].length] as const);
    if (range === undefined) {
      // A rejected candidate (bad checksum, wrong shape) must not hide a valid one that starts
      // inside it. Every detector admits only token starts, so resuming one character on costs
      // O(candidate length) per token.
      r.lastIndex = m.index + 1;
      continue;
    }
    (out ??= []).push(range);
  }
  r.lastIndex = 0;
  return out ?? NO_RANGES;
}

/** One detector as the fast path sees it: its preconditions, read without touching the detector. */
interface Gate {
  readonly detector: Detector;
  /** Ids in the plan's index of the detector's literals; empty: no literal gate. */
  readonly literals: readonly number[];
  readonly base64Run: number;
  readonly whole: boolean;
}

/** The fast path's gates for one detector list, built once per list. */
class Plan {
  readonly index = new LiteralIndex();
  readonly gates: readonly Gate[];
  // Scratch for one scan at a time; a scan that finds it taken (none should: scans never
  // re-enter) gets its own, and one that threw leaves it taken, which only costs allocations.
  private spare: TextFeatures | undefined;

  constructor(detectors: readonly Detector[]) {
    this.gates = detectors.map((d) => ({
      detector: d,
      literals: (d.literals ?? []).map((l) => this.index.add(l)),
      base64Run: d.base64Run ?? 0,
      whole: d.whole !== undefined,
    }));
    this.spare = this.fresh();
  }

  private fresh(): TextFeatures {
    return { present: new Uint8Array(this.index.size), base64Run: 0 };
  }

  take(work: string): TextFeatures {
    const features = this.spare ?? this.fresh();
    this.spare = undefined;
    this.index.features(work, features);
    return features;
  }

  release(features: TextFeatures): void {
    this.spare = features;
  }
}

const plans = new WeakMap<readonly Detector[], Plan>();

function planOf(detectors: readonly Detector[]): Plan {
  let plan = plans.get(detectors);
  if (!plan) {
    plan = new Plan(detectors);
    plans.set(detectors, plan);
  }
  return plan;
}

/** False when the text lacks what every match of the detector needs. */
function admits(gate: Gate, features: TextFeatures): boolean {
  if (features.base64Run < gate.base64Run) return false;
  const ids = gate.literals;
  if (ids.length === 0) return true;
  for (let i = 0; i < ids.length; i++) if (features.present[ids[i]!] === 1) return true;
  return false;
}

/** Spans of `text` (normalised already, or plain) to mask; `true` when a `whole` rule took it all. */
function scanView(text: string, detectors: readonly Detector[], opts: ScanOptions): Span[] | true {
  const spans: Span[] = [];
  const fast = opts.fast !== false;
  const skipBuiltins = fast && !TRIGGER_CHAR.test(text) && !TRIGGER_RUN.test(text);
  const hasDigit = HAS_DIGIT.test(text);
  // Masks already in the text (re-redacting our own output) are opaque: redaction is idempotent.
  let work =
    text.includes('[REDACTED:') || text.includes('[HASH:')
      ? text.replace(MASK_TOKENS, (m) => FILL.repeat(m.length))
      : text;
  // The fast path reads each detector's precondition from one pass over the text.
  const plan = fast && !skipBuiltins ? planOf(detectors) : undefined;
  const features = plan?.take(work);
  const initial = work;
  for (let i = 0; i < detectors.length; i++) {
    let d: Detector;
    if (features) {
      const gate = plan!.gates[i]!;
      d = gate.detector;
      if (gate.whole && opts.whole && spans.length === 0 && d.whole!(text)) {
        plan!.release(features);
        return true;
      }
      if (!admits(gate, features)) continue;
      // A literal gate is what the hint tests: it holds for the text until a fill changes it.
      if (d.hint && (gate.literals.length === 0 || work !== initial) && !d.hint(work, hasDigit)) continue;
    } else {
      d = detectors[i]!;
      if (d.builtin && skipBuiltins) continue;
      if (opts.whole && d.whole && spans.length === 0 && d.whole(text)) return true;
      if (d.hint && !d.hint(work, hasDigit)) continue;
    }
    const candidates = ranges(d, work, opts.steps);
    if (candidates.length === 0) continue;
    const found: Span[] = [];
    for (const [start, end] of candidates) {
      if (end > start && NOT_FILL.test(work.slice(start, end))) found.push({ start, end, label: d.name });
    }
    if (found.length === 0) continue;
    for (const s of found) spans.push(s);
    work = fill(work, found);
  }
  if (features) plan!.release(features);
  return spans;
}

function mapped(view: View, spans: readonly Span[]): Span[] {
  return spans.map((s) => {
    const [start, end] = toOriginal(view, s.start, s.end);
    return { start, end, label: s.label };
  });
}

/** Spans of `text` to mask, sorted and non-overlapping. Never throws for built-in detectors. */
export function scanText(text: string, detectors: readonly Detector[], opts: ScanOptions = {}): Span[] {
  if (text.length === 0) return [];
  const plain = isPlain(text);
  const encoded = hasPercentEncoding(text);
  const escaped = hasJsonEscape(text);
  if (plain && !encoded && !escaped) {
    const spans = scanView(text, detectors, opts);
    if (spans === true) return [{ start: 0, end: text.length, label: detectorWithWhole(detectors, text) }];
    return mergeSpans(spans);
  }
  const all: Span[] = [];
  const views: View[] = [];
  if (escaped) views.push(...jsonUnescapedViews(text));
  if (plain) {
    if (encoded) views.push(...percentDecodedViews(text));
  } else
    for (const view of normalisedViews(text)) {
      views.push(view);
      // Encodings written in look-alike characters (`%２０`) decode only after normalising.
      if (hasPercentEncoding(view.text))
        for (const decoded of percentDecodedViews(view.text)) views.push(compose(view, decoded));
    }
  if (plain) for (const s of scanView(text, detectors, { ...opts, whole: false }) as Span[]) all.push(s);
  for (const view of views) {
    const spans = scanView(view.text, detectors, opts);
    if (spans === true)
      return [{ start: 0, end: text.length, label: detectorWithWhole(detectors, view.text) }];
    for (const s of mapped(view, spans)) all.push(s);
    for (const s of hiddenSeparators(view, detectors)) all.push(s);
  }
  return mergeSpans(all);
}

function hiddenSeparators(view: View, detectors: readonly Detector[]): Span[] {
  if (!/[0-9]/.test(view.text)) return [];
  const enabled = new Set(detectors.map((d) => d.name));
  const removed = (start: number, end: number) => removedInside(view, start, end);
  return mapped(
    view,
    findHiddenSeparatorNumbers(view.text, removed).filter((s) => enabled.has(s.label)),
  );
}

function detectorWithWhole(detectors: readonly Detector[], text: string): string {
  return detectors.find((d) => d.whole?.(text))?.name ?? 'key';
}

export function maskToken(label: string): string {
  return `[REDACTED:${label}]`;
}

/** True for a string that is exactly one mask this engine emits; re-redacting it is a no-op. */
export function isMaskToken(s: string): boolean {
  return /^\[(?:REDACTED:[A-Za-z0-9_.-]{1,64}|HASH:[0-9a-f]{12})\](?:#[0-9]+)?$/.test(s);
}

/** Rebuild `text[0, limit)` with every span replaced by its mask; a span crossing the limit is masked whole. */
export function renderSpans(text: string, spans: readonly Span[], limit = text.length): string {
  let out = '';
  let pos = 0;
  for (const s of spans) {
    if (s.start >= limit) break;
    out += text.slice(pos, s.start) + maskToken(s.label);
    pos = s.end;
  }
  if (pos < limit) out += text.slice(pos, limit);
  return out;
}
