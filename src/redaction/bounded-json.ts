// Bounded JSON serialization for the redaction engine: the text is always valid JSON of at most
// `max` UTF-8 bytes; what does not fit is cut and marked "[truncated]" (see redact.ts).

export const CUT_SUFFIX = '…[truncated]';
export const CUT_MARK = '[truncated]';

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

export function boundedStringify(
  tree: unknown,
  max: number,
): { text: string | undefined; truncated: boolean } {
  const full = JSON.stringify(tree);
  if (full === undefined) return { text: undefined, truncated: false };
  if (full.length * 3 <= max || utf8Bytes(full) <= max) return { text: full, truncated: false };
  const w = new BoundedWriter(max);
  const r = w.value(tree, 0);
  return { text: r === CUT_NOTHING ? ARRAY_MARK : w.text(), truncated: true };
}
