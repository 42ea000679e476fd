// What a text holds that the detectors' preconditions ask about, found in one pass over it: which
// of the detectors' literals occur (most rules can only match where one of a few fixed strings
// occurs, `AIza`, `sk-`, `@`) and the longest run of base64 characters. The scanner
// reads these instead of asking each of some 80 detectors in turn, which cost one `includes` per
// literal per detector on every string scanned.
//
// Only a gate: a detector it lets through still runs its own hint and pattern, so a gate can only
// skip a rule that could not have matched. Literals are ASCII (the index keys on their first two
// characters); a non-ASCII character in the text never starts or continues one.

// [A-Za-z0-9/+], by character code.
const BASE64 = new Uint8Array(128);
for (let c = 0; c < 128; c++) if (/[A-Za-z0-9/+]/.test(String.fromCharCode(c))) BASE64[c] = 1;

/** What one pass over a text found: `present[id]` is 1 when literal `id` occurs. */
export interface TextFeatures {
  readonly present: Uint8Array;
  /** Longest run of [A-Za-z0-9/+]. */
  base64Run: number;
}

export class LiteralIndex {
  private readonly literals: string[] = [];
  private readonly ids = new Map<string, number>();
  // One-character literals by character code; -1: none.
  private readonly single = new Int32Array(128).fill(-1);
  // Longer literals by their first two character codes: 1 + index into `buckets`; 0: none.
  private readonly pairs = new Int32Array(128 * 128);
  private readonly buckets: number[][] = [];

  /** The id of `literal`, added if new. Throws for an empty or non-ASCII literal. */
  add(literal: string): number {
    const known = this.ids.get(literal);
    if (known !== undefined) return known;
    if (literal.length === 0 || /[^\x00-\x7f]/.test(literal)) {
      throw new Error(`detector literal ${JSON.stringify(literal)} must be non-empty ASCII`);
    }
    const id = this.literals.length;
    this.literals.push(literal);
    this.ids.set(literal, id);
    if (literal.length === 1) {
      this.single[literal.charCodeAt(0)] = id;
    } else {
      const key = (literal.charCodeAt(0) << 7) | literal.charCodeAt(1);
      if (this.pairs[key] === 0) {
        this.buckets.push([]);
        this.pairs[key] = this.buckets.length;
      }
      this.buckets[this.pairs[key]! - 1]!.push(id);
    }
    return id;
  }

  get size(): number {
    return this.literals.length;
  }

  /** Fills `into` (sized for this index) from one pass over `text`. */
  features(text: string, into: TextFeatures): void {
    const { present } = into;
    const { single, pairs, buckets, literals } = this;
    present.fill(0);
    const n = text.length;
    let base64 = 0;
    let base64Run = 0;
    let c = n > 0 ? text.charCodeAt(0) : 0;
    for (let i = 0; i < n; i++) {
      const next = i + 1 < n ? text.charCodeAt(i + 1) : 0xffff;
      if (c < 128) {
        if (BASE64[c] === 1) {
          if (++base64 > base64Run) base64Run = base64;
        } else base64 = 0;
        const one = single[c]!;
        if (one >= 0) present[one] = 1;
        if (next < 128) {
          const bucket = pairs[(c << 7) | next]!;
          if (bucket !== 0) {
            const ids = buckets[bucket - 1]!;
            for (let k = 0; k < ids.length; k++) {
              const id = ids[k]!;
              if (present[id] === 0 && (literals[id]!.length === 2 || text.startsWith(literals[id]!, i)))
                present[id] = 1;
            }
          }
        }
      } else base64 = 0;
      c = next;
    }
    into.base64Run = base64Run;
  }
}
