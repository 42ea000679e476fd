// Redaction engine: the last code that sees tool arguments and results
// before they become span attributes. It fails closed: what it cannot read or classify it does
// not emit, and nothing it is handed can make it throw or run unbounded.
//
// Output rules (the instrumentation and the collector tests rely on these):
// - value() returns JSON-safe data: plain objects, arrays, strings, finite or non-finite numbers,
//   booleans, null, undefined. BigInt becomes its decimal string, Date its ISO string (invalid:
//   null), binary data "[binary:N bytes]", Map a plain object (keys stringified), Set an array,
//   Error {name, message, ...own fields}, functions "[function]", symbols "[symbol]", cycles
//   "[circular]", anything whose read throws "[unreadable]", containers nested deeper than
//   maxDepth "[max depth]".
// - A number or BigInt that matches a class (a card or SSN given as a number) becomes the string
//   mask, e.g. 4111111111111111 → "[REDACTED:card]".
// - Under a sensitive key every string/number/BigInt leaf is "[REDACTED:key]", recursively, so a
//   `credentials` object keeps its shape; booleans and null stay (they carry no secret).
// - count is the number of sensitive values found (masks emitted in 'redacted' mode; the same
//   detections in 'hash' and 'shape' mode, so the metric means the same thing in every mode).
// - json() text is always valid JSON of at most maxBytes UTF-8 bytes, with no allowance: when the
//   full text would be longer, the cut string ends in "…[truncated]", the innermost cut array
//   gets a last element "[truncated]" and a cut object a last property "[truncated]": true.
//   truncated is also set when depth or work limits elided anything. json(undefined) has text
//   undefined, like JSON.stringify.
// - Work is bounded by the output budget, not the input size: json() stops walking maxBytes + 512
//   bytes into the output, value() after max(256 KiB, 16 × maxBytes), string() scans at most 1 MiB
//   (longer input is cut with "…[truncated]"); a cut string is scanned 512 characters past the cut
//   so a secret straddling it is still recognised and masked whole.

import { boundedStringify, CUT_SUFFIX } from './bounded-json.js';
import { buildConfig, type RedactionOptions } from './config.js';
import { renderSpans, scanText } from './scanner.js';
import { SCAN_OVERLAP, Walk, WALK_MODES, type WalkMode } from './walk.js';

export { BUILTIN_CLASS_NAMES } from './detectors.js';
export { redactionOptionsFromEnv, type RedactionOptions } from './config.js';

/** Every capture mode, the one list: what a span may record of a value. */
export const CAPTURE_MODES = [...WALK_MODES, 'none'] as const;
export type CaptureMode = (typeof CAPTURE_MODES)[number];

export interface Redactor {
  /** Structure-preserving redaction of any value. Never throws. */
  value(input: unknown, mode?: CaptureMode): { value: unknown; count: number; truncated: boolean };
  /** Redact then serialize, bounded by maxBytes. Never throws. mode 'none' -> text undefined. */
  json(input: unknown, mode?: CaptureMode): { text: string | undefined; count: number; truncated: boolean };
  /** Mask matches inside a single string (URIs, summaries, error messages). Never throws. */
  string(input: string): { text: string; count: number };
}

// value() is not serialized by us, but it must be bounded too.
const VALUE_BUDGET_MIN = 256 * 1024;
// string() is for URIs, summaries and messages.
const STRING_LIMIT = 1024 * 1024;
const FAILED = '[redaction failed]';

// --- public API -----------------------------------------------------------------------------

function walkMode(mode: unknown): WalkMode | 'none' {
  // An unknown mode from an untyped caller gets the safe default rather than 'none' or raw data.
  return mode === 'hash' || mode === 'shape' || mode === 'none' ? mode : 'redacted';
}

export function createRedactor(options: RedactionOptions = {}): Redactor {
  const cfg = buildConfig(options);
  const valueBudget = Math.max(VALUE_BUDGET_MIN, cfg.maxBytes * 16);
  const jsonBudget = cfg.maxBytes + SCAN_OVERLAP;

  return {
    value(input, mode) {
      try {
        const m = walkMode(mode);
        if (m === 'none') return { value: undefined, count: 0, truncated: false };
        const w = new Walk(cfg, m, valueBudget);
        const value = w.node(input, 0, false);
        return { value, count: w.count, truncated: w.truncated };
      } catch {
        return { value: FAILED, count: 0, truncated: true };
      }
    },

    json(input, mode) {
      try {
        const m = walkMode(mode);
        if (m === 'none') return { text: undefined, count: 0, truncated: false };
        const w = new Walk(cfg, m, jsonBudget);
        const tree = w.node(input, 0, false);
        const { text, truncated } = boundedStringify(tree, cfg.maxBytes);
        return { text, count: w.count, truncated: truncated || w.truncated };
      } catch {
        return { text: JSON.stringify(FAILED), count: 0, truncated: true };
      }
    },

    string(input) {
      try {
        const s = typeof input === 'string' ? input : String(input);
        const cut = s.length > STRING_LIMIT;
        const window = cut ? s.slice(0, STRING_LIMIT + SCAN_OVERLAP) : s;
        const spans = scanText(window, cfg.detectors, { whole: !cut });
        const text =
          spans.length === 0 && !cut ? s : renderSpans(window, spans, cut ? STRING_LIMIT : window.length);
        return { text: cut ? text + CUT_SUFFIX : text, count: spans.length };
      } catch {
        return { text: FAILED, count: 0 };
      }
    },
  };
}
