// Classification with the redaction engine's own rules: which classes of personal data and secrets
// a value holds and how many matches of each, never the matches themselves. The instrumentation
// records these counts as detection signals whatever the capture mode, so they must come from
// exactly the rules that decide what redaction masks.
import { buildConfig, type RedactionOptions } from './config.js';
import { KEY_CLASS } from './detectors.js';
import { scanText } from './scanner.js';

export { KEY_CLASS };

/** One match: where it starts in the text, and its class. */
export interface ClassMatch {
  start: number;
  end: number;
  label: string;
}

export interface Classifier {
  /** Adds the matches in `text` to `into`, by class name. Never throws. */
  text(text: string, into: Map<string, number>): void;
  /** The matches in `text`, sorted by start ([] if a detector throws). */
  matches(text: string): ClassMatch[];
  /** True when every value under this object key is masked (class {@link KEY_CLASS}). */
  sensitiveKey(key: string): boolean;
}

/** A classifier with the same detectors (built-ins, extra patterns, key rules) as a redactor built from `options`. */
export function createClassifier(options: RedactionOptions = {}): Classifier {
  const config = buildConfig(options);
  return {
    text(text, into) {
      try {
        for (const span of scanText(text, config.detectors)) {
          into.set(span.label, (into.get(span.label) ?? 0) + 1);
        }
      } catch {
        // A detector that throws must not lose the call's record; what was counted so far stays.
      }
    },
    matches(text) {
      try {
        return scanText(text, config.detectors).map((span) => ({
          start: span.start,
          end: span.end,
          label: span.label,
        }));
      } catch {
        return [];
      }
    },
    sensitiveKey(key) {
      try {
        return config.isSensitiveKey(key);
      } catch {
        return true;
      }
    },
  };
}
