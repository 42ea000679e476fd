// The structure-preserving walker behind Redactor.value() and json(): one traversal that masks
// sensitive values, keeps the input's shape and stops once its output budget is spent. (Over 300
// lines: every value kind's case shares one budget and one cycle guard; split, a case could skip them.)

import { createHmac } from 'node:crypto';
import { types } from 'node:util';
import { CUT_MARK, CUT_SUFFIX } from './bounded-json.js';
import type { Config } from './config.js';
import { KEY_CLASS } from './detectors.js';
import { isMaskToken, maskToken, renderSpans, scanText } from './scanner.js';
import { looksRandom } from './validators.js';

// Longest secret whose end must be visible to validate it (IBAN 42, card 23, email ≤ 254); a
// string is scanned this far past where it is cut so a secret straddling the cut is still found.
export const SCAN_OVERLAP = 512;
// Per-leaf cap for what hash/shape modes scan (to count) and hash.
const LEAF_SCAN_LIMIT = 64 * 1024;

const CIRCULAR = '[circular]';
const MAX_DEPTH_MARK = '[max depth]';
const UNREADABLE = '[unreadable]';
const KEY_MASK = maskToken(KEY_CLASS);
const PAIR_NAME_FIELDS = ['name', 'key', 'header', 'field'];

/** The capture modes that walk a value (`none` records nothing, so it never gets here). */
export const WALK_MODES = ['redacted', 'hash', 'shape'] as const;
export type WalkMode = (typeof WALK_MODES)[number];

function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  // An own "__proto__" must stay data, not re-point the output's prototype.
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

// One traversal. `spent` approximates output bytes from below (an ASCII string costs its length
// plus quotes, escaping only adds), so once spent > budget the real output is past it as well
// and the bounded serializer would cut earlier anyway: the rest need not be walked.
export class Walk {
  count = 0;
  truncated = false;
  private spent = 0;
  private readonly ancestors = new Set<object>();

  constructor(
    private readonly cfg: Config,
    private readonly mode: WalkMode,
    private readonly budget: number,
  ) {}

  private exhausted(): boolean {
    return this.spent > this.budget;
  }

  node(v: unknown, depth: number, forced: boolean): unknown {
    switch (typeof v) {
      case 'string':
        return this.str(v, forced);
      case 'number':
        return this.num(v, forced);
      case 'bigint':
        return this.big(v, forced);
      case 'boolean':
        this.spent += 5;
        return this.mode === 'hash'
          ? this.hash('boolean', String(v))
          : this.mode === 'shape'
            ? '<boolean>'
            : v;
      case 'undefined':
        this.spent += 4;
        return undefined;
      case 'symbol':
        this.spent += 10;
        return this.mode === 'shape' ? '<symbol>' : '[symbol]';
      case 'function':
        this.spent += 12;
        return this.mode === 'shape' ? '<function>' : '[function]';
      default:
        if (v === null) {
          this.spent += 4;
          return null;
        }
        return this.obj(v as object, depth, forced);
    }
  }

  private hash(type: string, s: string): string {
    this.spent += 20;
    const input = s.length > LEAF_SCAN_LIMIT ? `${s.slice(0, LEAF_SCAN_LIMIT)}\u0000${s.length}` : s;
    const digest = createHmac('sha256', this.cfg.hashKey).update(`${type}\u0000${input}`).digest('hex');
    return `[HASH:${digest.slice(0, 12)}]`;
  }

  private detect(s: string, whole: boolean): number {
    const text = s.length > LEAF_SCAN_LIMIT ? s.slice(0, LEAF_SCAN_LIMIT) : s;
    return scanText(text, this.cfg.detectors, { whole: whole && text === s }).length;
  }

  private str(s: string, forced: boolean): string {
    if (forced) {
      if (isMaskToken(s)) {
        this.spent += s.length + 2;
        return s;
      }
      this.count++;
      if (this.mode === 'hash') return this.hash('string', s);
      this.spent += KEY_MASK.length + 2;
      return this.mode === 'shape' ? `<string:${s.length}>` : KEY_MASK;
    }
    if (this.mode !== 'redacted') {
      this.count += this.detect(s, true);
      if (this.mode === 'hash') return this.hash('string', s);
      this.spent += 12;
      return `<string:${s.length}>`;
    }
    const room = Math.max(0, this.budget - this.spent);
    const cut = s.length > room;
    const window = cut ? s.slice(0, room + SCAN_OVERLAP) : s;
    const spans = scanText(window, this.cfg.detectors, { whole: !cut });
    this.count += spans.length;
    let out = spans.length === 0 && !cut ? s : renderSpans(window, spans, cut ? room : window.length);
    if (cut) {
      out += CUT_SUFFIX;
      this.truncated = true;
    }
    this.spent += out.length + 2;
    return out;
  }

  // A number is checked through its decimal form as a whole value (card, SSN given as numbers).
  private digitsMask(digits: string): string | undefined {
    if (digits.length < 9) return undefined;
    const spans = scanText(digits, this.cfg.detectors, { whole: true });
    if (spans.length === 0) return undefined;
    this.count++;
    return maskToken(spans[0]!.label);
  }

  private num(n: number, forced: boolean): unknown {
    this.spent += 8;
    if (forced) {
      this.count++;
      return this.mode === 'hash'
        ? this.hash('number', String(n))
        : this.mode === 'shape'
          ? '<number>'
          : KEY_MASK;
    }
    const digits = Number.isInteger(n) && n >= 1e8 && n < 1e21 ? String(n) : '';
    const mask = this.digitsMask(digits);
    if (this.mode === 'hash') return this.hash('number', String(n));
    if (this.mode === 'shape') return '<number>';
    return mask ?? n;
  }

  private big(b: bigint, forced: boolean): string {
    const digits = b.toString();
    this.spent += 2;
    if (forced) {
      this.count++;
      return this.mode === 'hash'
        ? this.hash('bigint', digits)
        : this.mode === 'shape'
          ? '<bigint>'
          : KEY_MASK;
    }
    const mask = this.digitsMask(digits.length > 64 ? '' : digits);
    if (this.mode === 'hash') return this.hash('bigint', digits);
    if (this.mode === 'shape') return '<bigint>';
    if (mask !== undefined || digits.length <= 64) return mask ?? digits;
    return this.str(digits, false);
  }

  private obj(v: object, depth: number, forced: boolean): unknown {
    if (this.ancestors.has(v)) {
      this.spent += 12;
      return CIRCULAR;
    }
    try {
      if (types.isAnyArrayBuffer(v) || ArrayBuffer.isView(v)) {
        const out = `[binary:${(v as ArrayBuffer).byteLength} bytes]`;
        this.spent += out.length + 2;
        return out;
      }
      if (types.isDate(v)) {
        const t = v.getTime();
        if (Number.isNaN(t)) return this.node(null, depth, forced);
        if (this.mode === 'shape') return '<date>';
        return forced
          ? this.str(v.toISOString(), true)
          : this.mode === 'hash'
            ? this.hash('string', v.toISOString())
            : v.toISOString();
      }
      if (types.isBoxedPrimitive(v)) return this.node((v as { valueOf(): unknown }).valueOf(), depth, forced);
      if (types.isRegExp(v)) return this.node(String(v), depth, forced);
      if (depth >= this.cfg.maxDepth) {
        this.truncated = true;
        this.spent += 13;
        return MAX_DEPTH_MARK;
      }
      this.ancestors.add(v);
      try {
        return this.container(v, depth, forced);
      } finally {
        this.ancestors.delete(v);
      }
    } catch {
      this.spent += 14;
      return UNREADABLE;
    }
  }

  private container(v: object, depth: number, forced: boolean): unknown {
    if (Array.isArray(v)) return this.array(v, depth, forced);
    if (types.isSet(v)) return this.array(this.entries(v as Set<unknown>), depth, forced);
    if (types.isMap(v)) return this.map(v as Map<unknown, unknown>, depth, forced);
    if (types.isNativeError(v) || v instanceof Error) {
      const e = v as Error;
      const plain: Record<string, unknown> = { name: e.name, message: e.message };
      for (const k of Object.keys(e)) setOwn(plain, k, (e as unknown as Record<string, unknown>)[k]);
      return this.object(plain, Object.keys(plain), depth, forced);
    }
    const toJSON = (v as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      const replaced: unknown = toJSON.call(v, '');
      // toJSON chains are user code; each hop costs a level so they cannot loop.
      if (replaced !== v) return this.node(replaced, depth + 1, forced);
    }
    return this.object(v as Record<string, unknown>, Object.keys(v), depth, forced);
  }

  private array(v: readonly unknown[], depth: number, forced: boolean): unknown[] {
    const out: unknown[] = [];
    this.spent += 2;
    const length = v.length;
    let forceNext = false;
    for (let i = 0; i < length; i++) {
      if (this.exhausted()) {
        out.push(CUT_MARK);
        this.truncated = true;
        break;
      }
      let item: unknown;
      try {
        item = v[i];
      } catch {
        item = UNREADABLE;
      }
      out.push(this.node(item, depth + 1, forced || forceNext));
      this.spent += 1;
      // ["Authorization", "Bearer …"] tuples, Node rawHeaders and argv ["--password", "…"].
      forceNext =
        typeof item === 'string' &&
        item.length <= 128 &&
        /^(?:--?)?[A-Za-z_][\w.-]*$/.test(item) &&
        (item[0] === '-' || i % 2 === 0) &&
        this.cfg.isSensitiveKey(item.replace(/^--?/, ''));
    }
    return out;
  }

  // Stops copying once the budget could not hold more entries (each costs at least a byte).
  private entries<T>(v: Iterable<T>): T[] {
    const out: T[] = [];
    const cap = Math.max(0, this.budget - this.spent) + 1;
    for (const e of v) {
      if (out.length >= cap) break;
      out.push(e);
    }
    return out;
  }

  private map(v: Map<unknown, unknown>, depth: number, forced: boolean): Record<string, unknown> {
    const plain: Record<string, unknown> = {};
    for (const [k, val] of this.entries(v)) {
      const key =
        typeof k === 'object' && k !== null ? '[object]' : typeof k === 'symbol' ? '[symbol]' : String(k);
      setOwn(plain, uniqueKey(plain, key), val);
    }
    return this.object(plain, Object.keys(plain), depth, forced);
  }

  private object(
    v: Record<string, unknown>,
    keys: readonly string[],
    depth: number,
    forced: boolean,
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.spent += 2;
    // {name: "API_KEY", value: "…"} (env lists, form fields, header objects).
    let pairForced = false;
    if (!forced && keys.includes('value')) {
      for (const f of PAIR_NAME_FIELDS) {
        const name = keys.includes(f) ? readProp(v, f) : undefined;
        if (typeof name === 'string' && name.length <= 128 && this.cfg.isSensitiveKey(name))
          pairForced = true;
      }
    }
    for (const k of keys) {
      if (this.exhausted()) {
        setOwn(out, CUT_MARK, true);
        this.truncated = true;
        break;
      }
      const child = readProp(v, k);
      const outKey = uniqueKey(out, this.key(k));
      this.spent += outKey.length + 4;
      const childForced =
        forced ||
        this.cfg.isSensitiveKey(k) ||
        (pairForced && k === 'value') ||
        (typeof child === 'string' && this.cfg.isHintKey(k) && looksRandom(child));
      setOwn(out, outKey, this.node(child, depth + 1, childForced));
    }
    return out;
  }

  private key(k: string): string {
    const { text, count } = this.cfg.redactKey(k);
    this.count += count;
    return text;
  }
}

function readProp(v: Record<string, unknown>, k: string): unknown {
  try {
    return v[k];
  } catch {
    return UNREADABLE;
  }
}

function uniqueKey(obj: Record<string, unknown>, key: string): string {
  if (!Object.prototype.hasOwnProperty.call(obj, key)) return key;
  for (let n = 2; ; n++) {
    const candidate = `${key}#${n}`;
    if (!Object.prototype.hasOwnProperty.call(obj, candidate)) return candidate;
  }
}
