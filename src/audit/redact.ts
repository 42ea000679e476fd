// Redaction engine (DESIGN.md section 5): the last code that sees tool arguments and results
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

import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { types } from 'node:util';
import {
  BUILTIN_CLASS_NAMES,
  KEY_CLASS,
  builtinDetectors,
  isBuiltinSensitiveKey,
  isMaskToken,
  keyValueDetectors,
  maskToken,
  normalizeKey,
  renderSpans,
  scanText,
  type Detector,
} from './redact-patterns.js';

export { BUILTIN_CLASS_NAMES, type BuiltinClassName } from './redact-patterns.js';

export type CaptureMode = 'redacted' | 'hash' | 'shape' | 'none';

export interface RedactionOptions {
  /** User classes, masked as `[REDACTED:<name>]`; names match /^[A-Za-z0-9_.-]{1,64}$/. Run after the built-ins. */
  extraPatterns?: Array<{ name: string; pattern: RegExp | string }>;
  /** More sensitive key names, matched case- and separator-insensitively and exactly (`ssn_last4` ≡ `SsnLast4`). */
  extraKeys?: string[];
  /** Keys whose values are not key-masked; value patterns still apply to them. */
  allowKeys?: string[];
  /** Built-in classes to turn off (see BUILTIN_CLASS_NAMES); unknown names throw. Key masking cannot be turned off. */
  disableClasses?: string[];
  /** Bound on json() text in UTF-8 bytes, 64 … 64 MiB. @default 4096 */
  maxBytes?: number;
  /** Containers nested deeper than this become "[max depth]", 1 … 512. @default 16 */
  maxDepth?: number;
  /** HMAC-SHA256 key for 'hash' mode. @default a random key per process */
  hashKey?: string | Uint8Array;
}

export interface Redactor {
  /** Structure-preserving redaction of any value. Never throws. */
  value(input: unknown, mode?: CaptureMode): { value: unknown; count: number; truncated: boolean };
  /** Redact then serialize, bounded by maxBytes. Never throws. mode 'none' -> text undefined. */
  json(input: unknown, mode?: CaptureMode): { text: string | undefined; count: number; truncated: boolean };
  /** Mask matches inside a single string (URIs, summaries, error messages). Never throws. */
  string(input: string): { text: string; count: number };
}

const DEFAULT_MAX_BYTES = 4096;
const DEFAULT_MAX_DEPTH = 16;
const MIN_MAX_BYTES = 64;
const MAX_MAX_BYTES = 64 * 1024 * 1024;
const MAX_MAX_DEPTH = 512;

// Longest secret whose end must be visible to validate it (IBAN 42, card 23, email ≤ 254); a
// string is scanned this far past where it is cut so a secret straddling the cut is still found.
const SCAN_OVERLAP = 512;
// value() is not serialized by us, but it must be bounded too.
const VALUE_BUDGET_MIN = 256 * 1024;
// string() is for URIs, summaries and messages.
const STRING_LIMIT = 1024 * 1024;
// Per-leaf cap for what hash/shape modes scan (to count) and hash.
const LEAF_SCAN_LIMIT = 64 * 1024;
const KEY_LIMIT = 1024;

const CUT_SUFFIX = '…[truncated]';
const CUT_MARK = '[truncated]';
const CIRCULAR = '[circular]';
const MAX_DEPTH_MARK = '[max depth]';
const UNREADABLE = '[unreadable]';
const FAILED = '[redaction failed]';
const KEY_MASK = maskToken(KEY_CLASS);
const PAIR_NAME_FIELDS = ['name', 'key', 'header', 'field'];

let processHashKey: KeyObject | undefined;

function configError(message: string): Error {
  return new Error(`mcp-audit redaction: ${message}`);
}

function checkInt(name: string, v: unknown, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw configError(`${name} must be an integer between ${min} and ${max}, got ${String(v)}`);
  }
  return v;
}

function compileUserPattern(name: unknown, pattern: unknown): RegExp {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
    throw configError(`extraPatterns: name ${JSON.stringify(name)} must match /^[A-Za-z0-9_.-]{1,64}$/`);
  }
  try {
    if (pattern instanceof RegExp)
      return new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '') + 'g');
    if (typeof pattern === 'string' && pattern !== '') return new RegExp(pattern, 'g');
  } catch (err) {
    throw configError(
      `extraPatterns: "${name}" is not a valid regular expression: ${(err as Error).message}`,
    );
  }
  throw configError(`extraPatterns: "${name}" needs a RegExp or a non-empty string pattern`);
}

function keySet(name: string, keys: unknown): Set<string> {
  const out = new Set<string>();
  if (keys === undefined) return out;
  if (!Array.isArray(keys)) throw configError(`${name} must be an array of strings`);
  for (const k of keys) {
    const n = typeof k === 'string' ? normalizeKey(k) : '';
    if (n === '') throw configError(`${name}: ${JSON.stringify(k)} is not a usable key name`);
    out.add(n);
  }
  return out;
}

interface Config {
  readonly detectors: readonly Detector[];
  readonly maxBytes: number;
  readonly maxDepth: number;
  readonly hashKey: KeyObject;
  isSensitiveKey(raw: string): boolean;
  /** An object key with value patterns applied (keys are names, so no key masking). */
  redactKey(raw: string): { text: string; count: number };
}

function buildConfig(options: RedactionOptions): Config {
  const disabled = new Set<string>();
  for (const name of options.disableClasses ?? []) {
    if (name === KEY_CLASS) throw configError('key-based masking cannot be disabled');
    if (!(BUILTIN_CLASS_NAMES as readonly string[]).includes(name)) {
      throw configError(
        `disableClasses: unknown class "${name}"; known classes: ${BUILTIN_CLASS_NAMES.join(', ')}`,
      );
    }
    disabled.add(name);
  }
  const extraKeys = keySet('extraKeys', options.extraKeys);
  const allowKeys = keySet('allowKeys', options.allowKeys);
  const sensitiveNormalized = (n: string): boolean =>
    !allowKeys.has(n) && (extraKeys.has(n) || isBuiltinSensitiveKey(n));

  const user: Detector[] = (options.extraPatterns ?? []).map((p) => ({
    re: compileUserPattern(p?.name, p?.pattern),
    name: p.name,
    builtin: false,
  }));

  let hashKey: KeyObject;
  if (options.hashKey === undefined) {
    processHashKey ??= createSecretKey(randomBytes(32));
    hashKey = processHashKey;
  } else if (typeof options.hashKey === 'string' && options.hashKey !== '') {
    hashKey = createSecretKey(Buffer.from(options.hashKey, 'utf8'));
  } else if (options.hashKey instanceof Uint8Array && options.hashKey.byteLength > 0) {
    hashKey = createSecretKey(Buffer.from(options.hashKey));
  } else {
    throw configError('hashKey must be a non-empty string or Uint8Array');
  }

  // Key names repeat across calls; the caches are cleared rather than evicted to stay trivial.
  const cache = new Map<string, boolean>();
  const keyCache = new Map<string, { text: string; count: number }>();
  const detectors = [...builtinDetectors(disabled), ...user, ...keyValueDetectors(sensitiveNormalized)];
  return {
    detectors,
    maxBytes: checkInt('maxBytes', options.maxBytes, MIN_MAX_BYTES, MAX_MAX_BYTES, DEFAULT_MAX_BYTES),
    maxDepth: checkInt('maxDepth', options.maxDepth, 1, MAX_MAX_DEPTH, DEFAULT_MAX_DEPTH),
    hashKey,
    isSensitiveKey(raw: string): boolean {
      let hit = cache.get(raw);
      if (hit === undefined) {
        hit = sensitiveNormalized(normalizeKey(raw.length > KEY_LIMIT ? raw.slice(0, KEY_LIMIT) : raw));
        if (cache.size >= 4096) cache.clear();
        cache.set(raw, hit);
      }
      return hit;
    },
    redactKey(raw: string): { text: string; count: number } {
      let hit = keyCache.get(raw);
      if (hit === undefined) {
        const text = raw.length > KEY_LIMIT ? raw.slice(0, KEY_LIMIT) : raw;
        const spans = scanText(text, detectors, { whole: text === raw });
        hit =
          spans.length === 0 && text === raw
            ? { text: raw, count: 0 }
            : { text: renderSpans(text, spans) + (text === raw ? '' : CUT_SUFFIX), count: spans.length };
        if (raw.length > 128) return hit;
        if (keyCache.size >= 4096) keyCache.clear();
        keyCache.set(raw, hit);
      }
      return hit;
    },
  };
}

type WalkMode = 'redacted' | 'hash' | 'shape';

function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  // An own "__proto__" must stay data, not re-point the output's prototype.
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

// One traversal. `spent` approximates output bytes from below (an ASCII string costs its length
// plus quotes, escaping only adds), so once spent > budget the real output is past it as well
// and the bounded serializer would cut earlier anyway: the rest need not be walked.
class Walk {
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
      const childForced = forced || this.cfg.isSensitiveKey(k) || (pairForced && k === 'value');
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

// --- bounded serialization ------------------------------------------------------------------

const ARRAY_MARK = JSON.stringify(CUT_MARK);
const OBJECT_MARK = `${JSON.stringify(CUT_MARK)}:true`;
// Room kept free inside any open container so its cut marker always fits.
const MARK_RESERVE = 1 + OBJECT_MARK.length;

function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

// Outcome of writing one value: all of it; cut after writing something that already says so
// (enclosing containers just close); or nothing written (the container adds its marker).
const DONE = 0;
const CUT_WRITTEN = 1;
const CUT_NOTHING = 2;
type Emit = typeof DONE | typeof CUT_WRITTEN | typeof CUT_NOTHING;

class BoundedWriter {
  private readonly parts: string[] = [];
  private used = 0;

  constructor(private readonly max: number) {}

  text(): string {
    return this.parts.join('');
  }

  private push(s: string, bytes = utf8Bytes(s)): void {
    this.parts.push(s);
    this.used += bytes;
  }

  private pop(bytes: number): void {
    this.parts.pop();
    this.used -= bytes;
  }

  value(v: unknown, open: number): Emit {
    if (Array.isArray(v)) return this.array(v, open);
    if (typeof v === 'object' && v !== null) return this.object(v as Record<string, unknown>, open);
    const s = JSON.stringify(v) ?? 'null';
    const reserve = open + (open > 0 ? MARK_RESERVE : 0);
    const bytes = utf8Bytes(s);
    if (this.used + bytes + reserve <= this.max) {
      this.push(s, bytes);
      return DONE;
    }
    if (typeof v !== 'string') return CUT_NOTHING;
    // The cut string carries its own marker, so the container's marker room is usable.
    const cut = fitString(v, this.max - this.used - open);
    if (cut === undefined) return CUT_NOTHING;
    this.push(cut);
    return CUT_WRITTEN;
  }

  private array(a: readonly unknown[], open: number): Emit {
    if (this.used + 1 + (open + 1) + MARK_RESERVE > this.max) return CUT_NOTHING;
    this.push('[', 1);
    for (let i = 0; i < a.length; i++) {
      if (i > 0) this.push(',', 1);
      const r = this.value(a[i], open + 1);
      if (r === CUT_NOTHING) {
        if (i > 0) this.pop(1);
        this.push((i > 0 ? ',' : '') + ARRAY_MARK);
      }
      if (r !== DONE) {
        this.push(']', 1);
        return CUT_WRITTEN;
      }
    }
    this.push(']', 1);
    return DONE;
  }

  private object(o: Record<string, unknown>, open: number): Emit {
    if (this.used + 1 + (open + 1) + MARK_RESERVE > this.max) return CUT_NOTHING;
    this.push('{', 1);
    let first = true;
    for (const k of Object.keys(o)) {
      const child = o[k];
      if (child === undefined) continue;
      const prefix = `${first ? '' : ','}${JSON.stringify(k)}:`;
      const bytes = utf8Bytes(prefix);
      let r: Emit = CUT_NOTHING;
      if (this.used + bytes + 1 + (open + 1) + MARK_RESERVE <= this.max) {
        this.push(prefix, bytes);
        r = this.value(child, open + 1);
        if (r === CUT_NOTHING) this.pop(bytes);
      }
      if (r === CUT_NOTHING) this.push((first ? '' : ',') + OBJECT_MARK);
      if (r !== DONE) {
        this.push('}', 1);
        return CUT_WRITTEN;
      }
      first = false;
    }
    this.push('}', 1);
    return DONE;
  }
}

/** The longest prefix of s that, with the cut suffix, serializes within `room` bytes. */
function fitString(s: string, room: number): string | undefined {
  const size = (n: number): number => utf8Bytes(JSON.stringify(s.slice(0, n) + CUT_SUFFIX));
  if (size(0) > room) return undefined;
  let lo = 0;
  let hi = Math.min(s.length, room);
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (size(mid) <= room) lo = mid;
    else hi = mid - 1;
  }
  // Never split a surrogate pair.
  if (lo > 0 && /[\uD800-\uDBFF]/.test(s[lo - 1]!)) lo--;
  return JSON.stringify(s.slice(0, lo) + CUT_SUFFIX);
}

function boundedStringify(tree: unknown, max: number): { text: string | undefined; truncated: boolean } {
  const full = JSON.stringify(tree);
  if (full === undefined) return { text: undefined, truncated: false };
  if (full.length * 3 <= max || utf8Bytes(full) <= max) return { text: full, truncated: false };
  const w = new BoundedWriter(max);
  const r = w.value(tree, 0);
  return { text: r === CUT_NOTHING ? ARRAY_MARK : w.text(), truncated: true };
}

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

// --- environment ----------------------------------------------------------------------------

function envList(env: NodeJS.ProcessEnv, name: string): string[] | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function envError(name: string, message: string): Error {
  return new Error(`mcp-audit: ${name}: ${message}`);
}

function envPatterns(raw: string): Array<{ name: string; pattern: RegExp }> {
  const NAME = 'MCP_AUDIT_REDACT_PATTERNS';
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw envError(NAME, `not valid JSON (${(err as Error).message}); expected [{"name":"…","pattern":"…"}]`);
  }
  if (!Array.isArray(parsed)) throw envError(NAME, 'expected a JSON array of {"name","pattern"} objects');
  return parsed.map((entry: unknown, i) => {
    const e = entry as { name?: unknown; pattern?: unknown; flags?: unknown } | null;
    if (typeof e !== 'object' || e === null || typeof e.name !== 'string' || typeof e.pattern !== 'string') {
      throw envError(NAME, `entry ${i} must be {"name": string, "pattern": string, "flags"?: string}`);
    }
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(e.name))
      throw envError(NAME, `entry ${i}: name "${e.name}" must match /^[A-Za-z0-9_.-]{1,64}$/`);
    const flags = e.flags === undefined ? '' : e.flags;
    if (typeof flags !== 'string' || !/^[imsu]*$/.test(flags))
      throw envError(NAME, `entry ${i} ("${e.name}"): flags may only contain i, m, s, u`);
    try {
      return { name: e.name, pattern: new RegExp(e.pattern, flags) };
    } catch (err) {
      throw envError(NAME, `entry ${i} ("${e.name}"): invalid regular expression: ${(err as Error).message}`);
    }
  });
}

/** Env config: MCP_AUDIT_REDACT_KEYS, MCP_AUDIT_ALLOW_KEYS, MCP_AUDIT_REDACT_PATTERNS (JSON array of {name,pattern}), MCP_AUDIT_REDACT_DISABLE, MCP_AUDIT_REDACT_MAX_BYTES. Bad values -> throws an Error with a clear message naming the variable. */
export function redactionOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): RedactionOptions {
  const opts: RedactionOptions = {};
  const extraKeys = envList(env, 'MCP_AUDIT_REDACT_KEYS');
  if (extraKeys) opts.extraKeys = extraKeys;
  const allowKeys = envList(env, 'MCP_AUDIT_ALLOW_KEYS');
  if (allowKeys) opts.allowKeys = allowKeys;

  const patterns = env.MCP_AUDIT_REDACT_PATTERNS;
  if (patterns !== undefined && patterns.trim() !== '') opts.extraPatterns = envPatterns(patterns);

  const disable = envList(env, 'MCP_AUDIT_REDACT_DISABLE');
  if (disable) {
    for (const name of disable) {
      if (name === KEY_CLASS)
        throw envError('MCP_AUDIT_REDACT_DISABLE', 'key-based masking cannot be disabled');
      if (!(BUILTIN_CLASS_NAMES as readonly string[]).includes(name)) {
        throw envError(
          'MCP_AUDIT_REDACT_DISABLE',
          `unknown class "${name}"; known classes: ${BUILTIN_CLASS_NAMES.join(', ')}`,
        );
      }
    }
    opts.disableClasses = disable;
  }

  const maxBytes = env.MCP_AUDIT_REDACT_MAX_BYTES;
  if (maxBytes !== undefined && maxBytes.trim() !== '') {
    const n = Number(maxBytes.trim());
    if (!/^[0-9]+$/.test(maxBytes.trim()) || n < MIN_MAX_BYTES || n > MAX_MAX_BYTES) {
      throw envError(
        'MCP_AUDIT_REDACT_MAX_BYTES',
        `must be an integer between ${MIN_MAX_BYTES} and ${MAX_MAX_BYTES}, got "${maxBytes}"`,
      );
    }
    opts.maxBytes = n;
  }
  return opts;
}
