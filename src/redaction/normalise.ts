// The normalised views a string is matched against, so a secret written with Unicode look-alikes
// is still recognised: NFKC (fullwidth letters and digits, ligatures, compatibility spaces), every
// other decimal digit (Arabic-Indic, Devanagari, …) to ASCII, dash, slash and space variants to
// their ASCII form, combining marks after a digit dropped, and format characters (zero-width
// space and joiners, soft hyphen, BOM, bidi controls) removed. Each view keeps, per character,
// the range of the original it came from, so a match is mapped back and the mask replaces
// exactly the original characters.
//
// A zero-width character may stand for nothing (`gh\u200Bp_…`) or for a separator
// (`412\u200B55\u200B1234`), so when the text has one a second view reads it as a space.
//
// Cost: plain ASCII is returned as is after one regex test; other text that NFKC leaves alone
// and that has no special character costs one normalize() call.

export interface View {
  /** The normalised text. */
  readonly text: string;
  /** Original start of the character at each index of `text`. */
  readonly from: Int32Array;
  /** Original end (exclusive) of the character at each index of `text`. */
  readonly to: Int32Array;
}

const NON_ASCII = /[^\x00-\x7f]/;
// Characters NFKC leaves alone but that we still rewrite or remove.
// An unpaired surrogate (valid in a JS string and in JSON text, never a character) counts as a
// format character: `npm_KWoCFu\uD83DTLxdf…` must not split a token in two.
const SPECIAL =
  /[\p{Cf}\p{M}\p{Zs}\u2010-\u2015\u2212\u2043\u2044\u2215\u2E3A\u2E3B\uFE58\uFE63\uFF0D\uD800-\uDFFF]|[^\P{Nd}0-9]/u;
const FORMAT = /^\p{Cf}$/u;
const MARK = /^\p{M}$/u;
const DIGIT = /^\p{Nd}$/u;
const SPACE = /^\p{Zs}$/u;
const DASHES = /[\u2010-\u2015\u2212\u2043\u2E3A\u2E3B\uFE58\uFE63\uFF0D]/g;
const SLASHES = /[\u2044\u2215]/g;

/** True when `text` is matched as it is (no view differs from it). */
export function isPlain(text: string): boolean {
  if (!NON_ASCII.test(text)) return true;
  return !SPECIAL.test(text) && text.normalize('NFKC') === text;
}

// Unicode lays out every decimal digit set as ten consecutive code points from zero up.
function digitValue(cp: number): number {
  let offset = 0;
  while (offset < 10 && DIGIT.test(String.fromCodePoint(cp - offset - 1))) offset++;
  return offset % 10;
}

class ViewBuilder {
  private readonly parts: string[] = [];
  private from: number[] = [];
  private to: number[] = [];

  push(s: string, start: number, end: number): void {
    if (s === '') return;
    this.parts.push(s);
    for (let i = 0; i < s.length; i++) {
      this.from.push(start);
      this.to.push(end);
    }
  }

  build(): View {
    return { text: this.parts.join(''), from: Int32Array.from(this.from), to: Int32Array.from(this.to) };
  }
}

function rewrite(chunk: string): string {
  const n = chunk.normalize('NFKC');
  if (n.length === 1) {
    if (SPACE.test(n)) return ' ';
    const cp = n.codePointAt(0)!;
    if (cp > 0x7f && DIGIT.test(n)) return String(digitValue(cp));
  }
  // An '@' that was not typed as '@' (fullwidth ＠, small ＠) cannot be URL userinfo's delimiter:
  // it stands as '%40', which the email class matches wherever it is (`doc://sarah＠example.com`).
  if (n === '@') return '%40';
  return n
    .replace(DASHES, '-')
    .replace(SLASHES, '/')
    .replace(/\p{Zs}/gu, ' ');
}

// Per code point, what it is and what it becomes alone; adversarial text repeats a few code
// points, so each costs its Unicode property tests once.
const KINDS = new Map<number, { format: boolean; mark: boolean; alone: string }>();

function kindOf(cp: number): { format: boolean; mark: boolean; alone: string } {
  let k = KINDS.get(cp);
  if (k === undefined) {
    const ch = String.fromCodePoint(cp);
    const format = FORMAT.test(ch) || (cp >= 0xd800 && cp <= 0xdfff);
    const mark = MARK.test(ch);
    k = { format, mark, alone: format || mark ? '' : rewrite(ch) };
    if (KINDS.size >= 4096) KINDS.clear();
    KINDS.set(cp, k);
  }
  return k;
}

function isMarkAt(text: string, i: number): boolean {
  return i < text.length && text.charCodeAt(i) >= 0x300 && kindOf(text.codePointAt(i)!).mark;
}

/** The views of a text that is not plain (see isPlain): one, or two when it has format characters. */
export function normalisedViews(text: string): View[] {
  const removed = new ViewBuilder();
  const spaced = new ViewBuilder();
  let sawFormat = false;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    // ASCII without a combining mark after it: copied through.
    if (c < 0x80 && !isMarkAt(text, i + 1)) {
      removed.push(text[i]!, i, i + 1);
      spaced.push(text[i]!, i, i + 1);
      i++;
      continue;
    }
    const cp = text.codePointAt(i)!;
    const kind = kindOf(cp);
    let end = i + (cp > 0xffff ? 2 : 1);
    if (kind.format) {
      sawFormat = true;
      spaced.push(' ', i, end);
      i = end;
      continue;
    }
    let out: string;
    if (!isMarkAt(text, end)) out = kind.alone;
    else {
      // The base and its combining marks normalise together (e + U+0301 → é).
      while (isMarkAt(text, end)) end += text.codePointAt(end)! > 0xffff ? 2 : 1;
      out = rewrite(text.slice(i, end));
      // A mark cannot turn a digit into something else: `4\u0301111…` is 4111….
      if (/^[0-9]\p{M}+$/u.test(out)) out = out[0]!;
    }
    if (MARK.test(out)) out = '';
    removed.push(out, i, end);
    spaced.push(out, i, end);
    i = end;
  }
  return sawFormat ? [removed.build(), spaced.build()] : [removed.build()];
}

/** True when the view dropped original characters between two of its characters in [start, end). */
export function removedInside(view: View, start: number, end: number): boolean {
  for (let i = start; i < end - 1; i++) if (view.to[i]! < view.from[i + 1]!) return true;
  return false;
}

/** The original [start, end) of the view's [start, end). */
export function toOriginal(view: View, start: number, end: number): [number, number] {
  return [view.from[start]!, view.to[end - 1]!];
}

const PERCENT = /%[0-9A-Fa-f]{2}/;
const BYTE = /^%[0-9A-Fa-f]{2}$/;

/** True when the text has a percent-encoded character (`%40`, `%2F`, `%E2%80%93`). */
export function hasPercentEncoding(text: string): boolean {
  return PERCENT.test(text);
}

function byteAt(text: string, i: number): number | undefined {
  const s = text.slice(i, i + 3);
  return BYTE.test(s) ? parseInt(s.slice(1), 16) : undefined;
}

// One UTF-8 sequence of %XX bytes starting at i: the character and the original length.
function encodedChar(text: string, i: number): [string, number] | undefined {
  const lead = byteAt(text, i);
  if (lead === undefined) return undefined;
  if (lead < 0x80) return [String.fromCharCode(lead), 3];
  const n = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 0;
  const bytes = [lead];
  for (let k = 1; k < n; k++) {
    const b = byteAt(text, i + 3 * k);
    if (b === undefined || (b & 0xc0) !== 0x80) return undefined;
    bytes.push(b);
  }
  if (n === 0) return undefined;
  const ch = Buffer.from(bytes).toString('utf8');
  return ch.includes('\ufffd') ? undefined : [ch, 3 * n];
}

/** `inner` (a view of `outer.text`) mapped onto the original of `outer`. */
export function compose(outer: View, inner: View): View {
  const from = new Int32Array(inner.text.length);
  const to = new Int32Array(inner.text.length);
  for (let i = 0; i < inner.text.length; i++) {
    from[i] = outer.from[inner.from[i]!]!;
    to[i] = outer.to[inner.to[i]! - 1]!;
  }
  return { text: inner.text, from, to };
}

/**
 * The views of the text with percent-encoding decoded (`4111%201111…`, `wJalr…%2FK7MD…` in a query
 * string, `412%E2%80%9355…`), each decoded character mapped back to its original characters, and
 * normalised further when the decoded text needs it.
 */
export function percentDecodedViews(text: string): View[] {
  // Up to three levels: a value encoded into a query string that is itself encoded.
  let decoded = decodeOnce(text);
  for (let depth = 1; depth < 3 && hasPercentEncoding(decoded.text); depth++)
    decoded = compose(decoded, decodeOnce(decoded.text));
  if (isPlain(decoded.text)) return [decoded];
  return normalisedViews(decoded.text).map((v) => compose(decoded, v));
}

function decodeOnce(text: string): View {
  const view = new ViewBuilder();
  for (let i = 0; i < text.length;) {
    const decoded = text[i] === '%' ? encodedChar(text, i) : undefined;
    if (decoded) {
      view.push(decoded[0], i, i + decoded[1]);
      i += decoded[1];
    } else {
      view.push(text[i]!, i, i + 1);
      i++;
    }
  }
  return view.build();
}

// A JSON escape glued to a secret (`…\nAKIA…`, `\ud800npm_…` in JSON text held in a string, which
// is how a tool result often carries JSON) would hide the secret's start behind a letter or digit.
const JSON_ESCAPE = /\\(?:[nrtbf]|u[0-9A-Fa-f]{4})/;
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  r: '\r',
  t: '\t',
  b: '\b',
  f: '\f',
  '"': '"',
  '\\': '\\',
  '/': '/',
};

/** True when the text holds a JSON string escape that could glue itself to what follows. */
export function hasJsonEscape(text: string): boolean {
  return JSON_ESCAPE.test(text);
}

function unescapeOnce(text: string): View {
  const view = new ViewBuilder();
  for (let i = 0; i < text.length;) {
    if (text[i] === '\\' && i + 1 < text.length) {
      const simple = SIMPLE_ESCAPES[text[i + 1]!];
      if (simple !== undefined) {
        view.push(simple, i, i + 2);
        i += 2;
        continue;
      }
      const hex = text.slice(i + 2, i + 6);
      if (text[i + 1] === 'u' && /^[0-9A-Fa-f]{4}$/.test(hex)) {
        view.push(String.fromCharCode(parseInt(hex, 16)), i, i + 6);
        i += 6;
        continue;
      }
    }
    view.push(text[i]!, i, i + 1);
    i++;
  }
  return view.build();
}

/**
 * The views of the text with JSON string escapes decoded (up to three levels of JSON held in a
 * string), each decoded character mapped back to its escape, normalised or percent-decoded
 * further when the decoded text needs it.
 */
export function jsonUnescapedViews(text: string): View[] {
  let decoded = unescapeOnce(text);
  for (let depth = 1; depth < 3 && hasJsonEscape(decoded.text); depth++)
    decoded = compose(decoded, unescapeOnce(decoded.text));
  const views = [decoded];
  if (!isPlain(decoded.text)) for (const v of normalisedViews(decoded.text)) views.push(compose(decoded, v));
  else if (hasPercentEncoding(decoded.text))
    for (const v of percentDecodedViews(decoded.text)) views.push(compose(decoded, v));
  return views;
}
