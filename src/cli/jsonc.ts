// A JSON-with-comments reader that keeps where every value sits in the text, so a client config
// can be patched in place: only the bytes of the values we change move; comments, spacing, key
// order and every key we do not know stay exactly as they were. Accepts // and /* */ comments
// and trailing commas (VS Code's mcp.json allows both; strict JSON files parse the same).

export interface JsonNode {
  kind: 'object' | 'array' | 'string' | 'number' | 'literal';
  /** Offsets in the text: [start, end). */
  start: number;
  end: number;
  value: unknown;
  /** object: its members in order. */
  members?: { key: string; keyStart: number; value: JsonNode }[];
  /** array: its elements. */
  items?: JsonNode[];
}

export class JsoncError extends Error {
  override name = 'JsoncError';
}

export function parseJsonc(text: string): JsonNode {
  let pos = 0;

  const fail = (what: string): never => {
    const line = text.slice(0, pos).split('\n').length;
    throw new JsoncError(`${what} at line ${line}`);
  };

  function skip(): void {
    for (;;) {
      const c = text[pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\ufeff') pos++;
      else if (c === '/' && text[pos + 1] === '/') {
        const nl = text.indexOf('\n', pos);
        pos = nl < 0 ? text.length : nl + 1;
      } else if (c === '/' && text[pos + 1] === '*') {
        const close = text.indexOf('*/', pos + 2);
        if (close < 0) fail('unterminated comment');
        pos = close + 2;
      } else return;
    }
  }

  function stringAt(): string {
    const start = pos;
    pos++;
    while (pos < text.length && text[pos] !== '"') {
      if (text[pos] === '\\') pos++;
      if (text[pos] === '\n') fail('line break in a string');
      pos++;
    }
    if (pos >= text.length) fail('unterminated string');
    pos++;
    try {
      return JSON.parse(text.slice(start, pos)) as string;
    } catch {
      return fail('bad string');
    }
  }

  function value(): JsonNode {
    skip();
    const start = pos;
    const c = text[pos];
    if (c === '{') {
      pos++;
      const members: NonNullable<JsonNode['members']> = [];
      const out: Record<string, unknown> = {};
      for (;;) {
        skip();
        if (text[pos] === '}') break;
        if (text[pos] !== '"') fail('expected a key');
        const keyStart = pos;
        const key = stringAt();
        skip();
        if (text[pos] !== ':') fail('expected ":"');
        pos++;
        const member = value();
        members.push({ key, keyStart, value: member });
        out[key] = member.value;
        skip();
        if (text[pos] === ',') pos++;
        else if (text[pos] !== '}') fail('expected "," or "}"');
      }
      pos++;
      return { kind: 'object', start, end: pos, value: out, members };
    }
    if (c === '[') {
      pos++;
      const items: JsonNode[] = [];
      for (;;) {
        skip();
        if (text[pos] === ']') break;
        items.push(value());
        skip();
        if (text[pos] === ',') pos++;
        else if (text[pos] !== ']') fail('expected "," or "]"');
      }
      pos++;
      return { kind: 'array', start, end: pos, value: items.map((i) => i.value), items };
    }
    if (c === '"') {
      const s = stringAt();
      return { kind: 'string', start, end: pos, value: s };
    }
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(
      text.slice(pos, pos + 64),
    );
    if (!m) return fail('unexpected character');
    pos += m[0].length;
    const raw = m[0];
    return raw === 'true' || raw === 'false' || raw === 'null'
      ? { kind: 'literal', start, end: pos, value: JSON.parse(raw) }
      : { kind: 'number', start, end: pos, value: Number(raw) };
  }

  const root = value();
  skip();
  if (pos !== text.length) fail('text after the end');
  return root;
}

/** The member `key` of an object node. */
export function member(node: JsonNode | undefined, key: string): JsonNode | undefined {
  return node?.kind === 'object' ? node.members!.find((m) => m.key === key)?.value : undefined;
}

/** One text edit: replace [start, end) with `text`. */
export interface Edit {
  start: number;
  end: number;
  text: string;
}

/** Applies non-overlapping edits (any order). */
export function applyEdits(text: string, edits: Edit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) {
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
  }
  return out;
}
