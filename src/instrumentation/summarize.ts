// The result summary answers "what came back" without copying the data: counts and sizes only.
// It runs after the caller already has its result (see the deferred finish in the instrumentation).

// Parsing JSON text costs main-thread time proportional to its size: bounded, and skipped when
// structuredContent already says how many rows came back.
const MAX_TEXT_PARSE_CHARS = 1024 * 1024;
const MAX_ROW_KEYS = 4;

/**
 * Bytes of the result as serialized JSON (exactly `Buffer.byteLength(JSON.stringify(result))`);
 * 0 for undefined or unserializable results. Long strings, which JSON.stringify copies and escapes
 * at several nanoseconds a character, are measured in place instead.
 */
export function resultSize(result: unknown): number {
  if (result === undefined) return 0;
  try {
    return jsonBytes(result, '', 0) ?? 0;
  } catch {
    return 0;
  }
}

// Above this the structure is left to JSON.stringify (which is fastest on many small values), as
// is any container with more entries or any value that is not plain data (toJSON, class instances).
const MAX_MEASURED_DEPTH = 8;
const MAX_MEASURED_ENTRIES = 64;
// Strings at least this long are measured in place, shorter ones by JSON.stringify.
const LONG_STRING = 1024;
const OBJECT_PROTO = Object.prototype;

/** Serialized bytes of a value at `key`; undefined where JSON.stringify writes nothing. */
function jsonBytes(value: unknown, key: string, depth: number): number | undefined {
  switch (typeof value) {
    case 'string':
      return value.length >= LONG_STRING ? longStringBytes(value) : utf8(JSON.stringify(value));
    case 'number':
      return Number.isFinite(value) ? String(value).length : 4;
    case 'boolean':
      return value ? 4 : 5;
    case 'object':
      break;
    default:
      // undefined, functions and symbols are left out; a BigInt throws, as JSON.stringify does.
      return typeof value === 'bigint' ? utf8(JSON.stringify(value)) : undefined;
  }
  if (value === null) return 4;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return jsonBytes((value as { toJSON: (key: string) => unknown }).toJSON(key), key, depth);
  }
  const proto: unknown = Object.getPrototypeOf(value);
  const isArray = Array.isArray(value);
  if (
    depth >= MAX_MEASURED_DEPTH ||
    (isArray ? proto !== Array.prototype : proto !== OBJECT_PROTO && proto !== null)
  ) {
    return serialized(value);
  }
  if (isArray) {
    const items = value as unknown[];
    if (items.length > MAX_MEASURED_ENTRIES) return serialized(value);
    let bytes = 1 + Math.max(1, items.length);
    for (let i = 0; i < items.length; i++) bytes += jsonBytes(items[i], String(i), depth + 1) ?? 4;
    return bytes;
  }
  const keys = Object.keys(value);
  if (keys.length > MAX_MEASURED_ENTRIES) return serialized(value);
  let bytes = 2;
  let written = 0;
  for (const k of keys) {
    const inner = jsonBytes((value as Record<string, unknown>)[k], k, depth + 1);
    if (inner === undefined) continue;
    bytes += (written > 0 ? 1 : 0) + utf8(JSON.stringify(k)) + 1 + inner;
    written++;
  }
  return bytes;
}

function serialized(value: unknown): number | undefined {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : utf8(text);
}

function utf8(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

// What JSON.stringify adds to a string's UTF-8 bytes: two quotes, one byte for each `"` `\` and
// short escape (\b \t \n \f \r), five for each other control character (\u00XX). A lone
// surrogate is written as \uXXXX, which byteLength does not see: such strings are serialized.
const CONTROL = Array.from({ length: 0x20 }, (_, c) => String.fromCharCode(c));
const SHORT_ESCAPES = new Set([0x08, 0x09, 0x0a, 0x0c, 0x0d]);

// String.prototype.isWellFormed (Node 20; not in the ES2022 library types).
const wellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

function longStringBytes(s: string): number {
  if (!wellFormed(s)) return utf8(JSON.stringify(s));
  // Counting one by one pays per occurrence: a text dense in quotes (JSON) is cheaper to serialize.
  const limit = s.length >> 6;
  let escapes = occurrences(s, '"', limit) + occurrences(s, '\\', limit);
  for (let c = 0; c < CONTROL.length && escapes <= limit; c++) {
    const n = occurrences(s, CONTROL[c]!, limit);
    escapes += n * (SHORT_ESCAPES.has(c) ? 1 : 5);
  }
  return escapes > limit ? utf8(JSON.stringify(s)) : utf8(s) + 2 + escapes;
}

// indexOf of one character is a native memchr (tens of µs a megabyte when it does not occur).
// Past `limit` the count stops (it is then only known to be larger).
function occurrences(s: string, ch: string, limit: number): number {
  let n = 0;
  for (let i = s.indexOf(ch); i !== -1 && n <= limit; i = s.indexOf(ch, i + 1)) n++;
  return n;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Row counts of the top-level arrays of an object, e.g. `rows: 2400`. */
function arrayCounts(value: unknown, out: string[]): void {
  if (Array.isArray(value)) {
    out.push(`${value.length} items`);
    return;
  }
  if (!isRecord(value)) return;
  let listed = 0;
  for (const [key, inner] of Object.entries(value)) {
    if (listed >= MAX_ROW_KEYS) break;
    if (Array.isArray(inner)) {
      out.push(`${inner.length} ${safeKey(key)}`);
      listed++;
    }
  }
}

// Keys come from the tool, so they are user data too: keep only identifier-like ones.
function safeKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]{0,31}$/.test(key) ? key : 'items';
}

/** Parses JSON text content only when it looks like an object or array and is of bounded size. */
function jsonTextCounts(text: string, out: string[]): void {
  if (text.length > MAX_TEXT_PARSE_CHARS) return;
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') return;
  try {
    arrayCounts(JSON.parse(text), out);
  } catch {
    // Not JSON after all: the item count and length say enough.
  }
}

/**
 * A short summary of a tools/call or resources/read result, e.g.
 * `content: 1 text (487200 chars); structured: 2400 rows`.
 */
export function summarizeResult(result: unknown): string | undefined {
  if (!isRecord(result)) return undefined;
  const parts: string[] = [];
  const items = Array.isArray(result.content)
    ? result.content
    : Array.isArray(result.contents)
      ? result.contents
      : undefined;
  if (items) {
    const byType = new Map<string, number>();
    let textChars = 0;
    const rows: string[] = [];
    const structured = isRecord(result.structuredContent);
    for (const item of items) {
      const type =
        isRecord(item) && typeof item.type === 'string'
          ? item.type
          : isRecord(item) && 'text' in item
            ? 'text'
            : 'item';
      byType.set(type, (byType.get(type) ?? 0) + 1);
      if (isRecord(item) && typeof item.text === 'string') {
        textChars += item.text.length;
        if (!structured && rows.length === 0) jsonTextCounts(item.text, rows);
      }
    }
    const counts = [...byType].map(([type, n]) => `${n} ${safeKey(type)}`).join(', ');
    parts.push(`content: ${counts || '0 items'}${textChars > 0 ? ` (${textChars} chars)` : ''}`);
    if (rows.length > 0) parts.push(`text json: ${rows.join(', ')}`);
  }
  if (isRecord(result.structuredContent)) {
    const rows: string[] = [];
    arrayCounts(result.structuredContent, rows);
    parts.push(
      `structured: ${rows.length > 0 ? rows.join(', ') : `${Object.keys(result.structuredContent).length} keys`}`,
    );
  }
  if (result.isError === true) parts.push('isError');
  return parts.length > 0 ? parts.join('; ') : undefined;
}
