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

/**
 * The classes found in the first `maxChars` characters of the result's string leaves (and large
 * numbers), plus values under sensitive keys (their detected class, else `key`). Iterative, bounded by `maxChars` and
 * by the number of nodes visited, never throws.
 */
export function classifyResult(result: unknown, classifier: Classifier, maxChars: number): ResultClasses {
  const found = new Map<string, number>();
  let budget = maxChars;
  // Visiting a node costs at least one unit, so a result of many empty containers is bounded too.
  const stack: Array<[value: unknown, depth: number]> = [[result, 0]];
  try {
    while (stack.length > 0 && budget > 0) {
      const [value, depth] = stack.pop()!;
      budget--;
      if (typeof value === 'string') {
        const text = value.length > budget ? value.slice(0, budget) : value;
        budget -= text.length;
        if (text.length > 0) classifier.text(text, found);
      } else if (typeof value === 'number' || typeof value === 'bigint') {
        if (typeof value === 'bigint' || Math.abs(value) >= MIN_CLASSIFIED_NUMBER) {
          classifier.text(String(value), found);
        }
      } else if (typeof value === 'object' && value !== null && depth < MAX_DEPTH) {
        if (Array.isArray(value)) {
          for (let i = value.length - 1; i >= 0 && stack.length < budget; i--)
            stack.push([value[i], depth + 1]);
        } else {
          const entries = Object.entries(value as Record<string, unknown>);
          for (let i = entries.length - 1; i >= 0 && stack.length < budget; i--) {
            const [key, child] = entries[i]!;
            if (classifier.sensitiveKey(key) && child !== null && child !== undefined && child !== '') {
              // Named by what it is when a detector knows it (an SSN under "ssn"), else by its key.
              const own = new Map<string, number>();
              if (typeof child === 'string') {
                const text = child.slice(0, Math.max(0, budget));
                budget -= text.length;
                classifier.text(text, own);
              }
              if (own.size === 0) own.set(KEY_CLASS, 1);
              for (const [cls, n] of own) found.set(cls, (found.get(cls) ?? 0) + n);
              budget -= key.length;
            } else {
              stack.push([child, depth + 1]);
            }
          }
        }
      }
    }
  } catch {
    // A getter that throws, a proxy: keep what was counted.
  }
  const classes = [...found.keys()].sort();
  const counts = classes.map((c) => found.get(c)!);
  return { classes, counts, total: counts.reduce((a, b) => a + b, 0) };
}

/** Sets the result's class attributes: always the count (0 included), the lists only when non-empty. */
export function resultClassAttributes(found: ResultClasses, attrs: Attributes): void {
  attrs[ATTR_MCP_AUDIT_RESULT_PII_COUNT] = found.total;
  if (found.classes.length === 0) return;
  attrs[ATTR_MCP_AUDIT_RESULT_PII_CLASSES] = found.classes;
  attrs[ATTR_MCP_AUDIT_RESULT_PII_CLASS_COUNTS] = found.counts;
}
