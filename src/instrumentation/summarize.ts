// The result summary answers "what came back" without copying the data: counts and sizes only.
// It runs after the caller already has its result (see the deferred finish in the instrumentation).

// Parsing JSON text costs main-thread time proportional to its size: bounded, and skipped when
// structuredContent already says how many rows came back.
const MAX_TEXT_PARSE_CHARS = 1024 * 1024;
const MAX_ROW_KEYS = 4;

/** Bytes of the result as serialized JSON; 0 for undefined or unserializable results. */
export function resultSize(result: unknown): number {
  if (result === undefined) return 0;
  try {
    const text = JSON.stringify(result);
    return text === undefined ? 0 : Buffer.byteLength(text, 'utf8');
  } catch {
    return 0;
  }
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
