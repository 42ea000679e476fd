// Built-in detection classes for the redaction engine (DESIGN.md section 5) and the scanner that
// runs them. This module is the security boundary's rule book: when a rule is ambiguous it masks.
//
// Judgement calls (each has a test or a lookalike in test/fixtures/secrets-corpus.json):
// - IP addresses are not masked: client/server addresses are what incident response needs, and the
//   semconv attributes carry them anyway. Add {name: 'ip', pattern: …} via extraPatterns if needed.
// - Cards need Luhn, 13-19 digits and a network prefix (2-6; 13-digit: 4), so epoch-ms timestamps
//   and snowflake ids pass. SSNs in text need their separators; a scalar that is exactly nine
//   digits with a valid SSN structure is masked (so 123456789 as an id is masked: fail closed).
// - Phones need '+' (E.164) or a NANP shape; bare 10-digit runs are order ids. Other national
//   formats without '+' are not recognised.
// - Stripe publishable keys (pk_…) are public and stay. Keys inside base64 blobs, full-width
//   digits and URL encodings other than %40 (email) and %3A/%3D (key separators) are not decoded.
//
// Linear-time discipline: every regex either starts with a literal or with a lookbehind that only
// admits the first character of a token, and every quantifier that could backtrack across another
// one is bounded or separated by a mandatory delimiter. Validation (Luhn, mod-97, SSN structure)
// happens in code on the match, never by regex alternation, so a rejected candidate costs O(match).

export const BUILTIN_CLASS_NAMES = [
  'private_key',
  'jwt',
  'url_password',
  'aws_access_key',
  'github_token',
  'slack_token',
  'stripe_key',
  'openai_key',
  'bearer',
  'aws_secret',
  'email',
  'iban',
  'card',
  'ssn',
  'phone',
] as const;
export type BuiltinClassName = (typeof BUILTIN_CLASS_NAMES)[number];

/** Label for values masked because of the key they sit under (cannot be disabled). */
export const KEY_CLASS = 'key';

export interface Span {
  start: number;
  end: number;
  label: string;
}

export interface Detector {
  readonly name: string;
  /** Global regex; its lastIndex is reset before every scan (scans never re-enter). */
  readonly re: RegExp;
  /** True for built-ins: the fast path may skip them (see TRIGGER_CHAR). */
  readonly builtin: boolean;
  /** Cheap necessary condition on the working text; false means the regex cannot match. */
  readonly hint?: (text: string, hasDigit: boolean) => boolean;
  /** The [start, end) to mask for this match, or undefined to reject it. May move re.lastIndex. */
  readonly accept?: (m: RegExpExecArray, text: string, re: RegExp) => readonly [number, number] | undefined;
  /** Extra rule for a scalar that is nothing but this value (e.g. an undashed SSN). */
  readonly whole?: (text: string) => boolean;
}

// Already-masked regions are overwritten with this in the working copy, so later classes cannot
// re-match (or half-match) them and positions stay aligned with the original text.
const FILL = '\u0000';
const NOT_FILL = /[^\u0000]/;
const MASK_TOKENS = /\[(?:REDACTED:[A-Za-z0-9_.-]{1,64}|HASH:[0-9a-f]{12})\]/g;

// A string can only contain a built-in match if it has a digit, one of these punctuation marks,
// or a run of 16+ non-space characters. Per class: digits (card, ssn, phone, iban), '@' or '%40'
// (email), '-' (PEM, slack, openai, flags), '_' (github, stripe), ':' '/' (URLs, key: value),
// '=' (key=value), 16+ runs (aws keys, JWTs, bearer tokens without digits or [+/=_-]). The
// property test in redact.property.test.ts checks fast and full scans agree.
const TRIGGER_CHAR = /[0-9@:=/_+-]/;
const TRIGGER_RUN = /\S{16}/;
const HAS_DIGIT = /[0-9]/;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

// Issuer prefixes cut false positives on Luhn-valid ids: epoch-millisecond timestamps and most
// snowflake ids start with 1; every major network (Mir, Mastercard, Amex, Diners, JCB, Visa,
// Discover, UnionPay, Maestro) starts with 2-6. 13-digit cards are Visa only.
function cardBrandPlausible(d: string): boolean {
  if (d.length === 13) return d[0] === '4';
  if (d.length === 15 && d.startsWith('1800')) return true;
  return d[0]! >= '2' && d[0]! <= '6';
}

export function cardValid(raw: string): boolean {
  const d = raw.replace(/[ -]/g, '');
  return d.length >= 13 && d.length <= 19 && cardBrandPlausible(d) && luhnValid(d);
}

export function ssnValid(area: string, group: string, serial: string): boolean {
  return area !== '000' && area !== '666' && area[0] !== '9' && group !== '00' && serial !== '0000';
}

// ISO 13616 registry lengths; a country code not listed is not an IBAN.
// prettier-ignore
const IBAN_LENGTHS: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28,
  CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18,
  FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HN: 28, HR: 21, HU: 28,
  IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20,
  LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28,
  NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24,
  SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26,
  UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

export function ibanValid(compact: string): boolean {
  if (IBAN_LENGTHS[compact.slice(0, 2)] !== compact.length) return false;
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    const v = c <= 57 ? c - 48 : c - 55; // digits stay, A=10 … Z=35
    rem = v > 9 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97;
  }
  return rem === 1;
}

// --- key names ------------------------------------------------------------------------------

/** Case- and separator-insensitive form: `API-Key`, `apiKey`, `X_API_KEY` → `apikey`, `xapikey`. */
export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

// prettier-ignore
const SENSITIVE_EXACT = new Set([
  'pass', 'pwd', 'auth', 'token', 'secret', 'jwt', 'bearer', 'otp', 'totp', 'sig', 'ssn', 'cvv',
  'cvc', 'cvv2',
]);
// prettier-ignore
const SENSITIVE_PARTS = [
  'password', 'passwd', 'passphrase', 'secret', 'apikey', 'privatekey', 'credential',
  'authorization', 'cookie', 'accesskey', 'signingkey', 'encryptionkey', 'masterkey', 'signature',
  'socialsecurity', 'cardnumber', 'creditcard', 'accesstoken', 'refreshtoken', 'sessiontoken',
];
// Suffix rather than substring so `max_tokens`, `token_count`, `tokenizer`, `author` stay visible.
const SENSITIVE_SUFFIXES = ['token', 'pwd', 'auth'];

export function isBuiltinSensitiveKey(normalized: string): boolean {
  if (SENSITIVE_EXACT.has(normalized)) return true;
  for (const p of SENSITIVE_PARTS) if (normalized.includes(p)) return true;
  for (const s of SENSITIVE_SUFFIXES) if (normalized.endsWith(s)) return true;
  return false;
}

/** Keys whose inline value runs to the end of the line (`Authorization: Basic abc…`). */
export function isHeaderLikeKey(normalized: string): boolean {
  return normalized.includes('authorization') || normalized.includes('cookie');
}

// --- built-in detectors ---------------------------------------------------------------------

function re(source: string, flags = ''): RegExp {
  return new RegExp(source, 'g' + flags);
}

const NOT_ALNUM_BEFORE = '(?<![A-Za-z0-9])';
const NOT_ALNUM_AFTER = '(?![A-Za-z0-9])';

function hasClass(s: string, cls: RegExp): boolean {
  return cls.test(s);
}

function credentialShaped(token: string): boolean {
  // Letters-only words shorter than 16 are prose ("Bearer authentication"); this is also what
  // keeps the fast path exact.
  return token.length >= 16 || /[0-9+/=_-]/.test(token);
}

function basicCredential(token: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return false;
  const decoded = Buffer.from(token, 'base64').toString('latin1');
  return decoded.includes(':') && /^[\x20-\x7e]+$/.test(decoded);
}

const PEM_HEADER = '-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----';
const PEM_FOOTER = '-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----';

const BUILTINS: Record<BuiltinClassName, Omit<Detector, 'name' | 'builtin'>> = {
  // A block cut off before its footer is masked to the end of the text: fail closed.
  private_key: {
    re: re(`${PEM_HEADER}[\\s\\S]*?(?:${PEM_FOOTER}|$)`),
    hint: (s) => s.includes('-----BEGIN'),
  },
  jwt: {
    re: re(
      '(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{3,}\\.[A-Za-z0-9_-]*(?:\\.[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]*)?',
    ),
    hint: (s) => s.includes('eyJ'),
  },
  // Only the password: scheme, user, host and path stay readable. The greedy password runs to the
  // last '@' before the path, so an unencoded '@', '#' or '?' inside it (common in hand-written
  // connection strings) is not left half-shown.
  url_password: {
    re: re('(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\\s:/@?#]*:([^\\s/]+)@'),
    hint: (s) => s.includes('://'),
    accept: (m) => {
      const end = m.index + m[0].length - 1;
      return [end - m[1]!.length, end];
    },
  },
  aws_access_key: {
    re: re(
      `${NOT_ALNUM_BEFORE}(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA)[A-Z0-9]{16}${NOT_ALNUM_AFTER}`,
    ),
  },
  github_token: {
    re: re('(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})'),
    hint: (s) => s.includes('gh') || s.includes('github_pat_'),
  },
  slack_token: {
    re: re(
      '(?<![A-Za-z0-9-])(?:xox[abposr]-[A-Za-z0-9-]{10,}|xapp-[0-9]-[A-Za-z0-9-]{10,})|(?<=hooks\\.slack\\.com/services/)[A-Za-z0-9_/-]{10,}',
    ),
    hint: (s) => s.includes('xox') || s.includes('xapp-') || s.includes('hooks.slack.com'),
  },
  // Publishable keys (pk_live_…) are public by design and stay visible.
  stripe_key: {
    re: re('(?<![A-Za-z0-9_])(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9+/=]{20,})'),
    hint: (s) => s.includes('_live_') || s.includes('_test_') || s.includes('whsec_'),
  },
  // sk-…, sk-proj-…, sk-svcacct-…, and other vendors' sk- keys (Anthropic's sk-ant-…) alike.
  openai_key: {
    re: re('(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{20,}'),
    hint: (s) => s.includes('sk-'),
    accept: (m) => (/[0-9A-Z]/.test(m[0].slice(3)) ? [m.index, m.index + m[0].length] : undefined),
  },
  // The scheme word stays ("Bearer [REDACTED:bearer]"); Basic credentials must decode to user:pass.
  bearer: {
    re: re(`${NOT_ALNUM_BEFORE}(bearer|basic)[ \\t]+([A-Za-z0-9._~+/=-]{8,})`, 'i'),
    hint: (s) => /bearer|basic/i.test(s),
    accept: (m) => {
      const token = m[2]!;
      if (!credentialShaped(token)) return undefined;
      if (m[1]!.toLowerCase() === 'basic' && !basicCredential(token)) return undefined;
      const end = m.index + m[0].length;
      return [end - token.length, end];
    },
  },
  // Exactly 40 base64 characters with mixed case and a digit or '/' '+': git SHAs (lowercase hex)
  // and 44-character SRI/SHA-256 digests do not qualify.
  aws_secret: {
    re: re('(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])'),
    hint: (s) => s.length >= 40,
    accept: (m) =>
      hasClass(m[0], /[A-Z]/) && hasClass(m[0], /[a-z]/) && hasClass(m[0], /[0-9/+]/)
        ? [m.index, m.index + m[0].length]
        : undefined,
  },
  // '%40' catches emails inside URL-encoded query strings. Not right after '://', where
  // user@host is URL userinfo, not an address.
  email: {
    re: re(
      '(?<![A-Za-z0-9._%+-])(?<!://)[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,24}(?![A-Za-z0-9-])',
    ),
    hint: (s) => s.includes('@') || s.includes('%40'),
  },
  iban: {
    re: re(`${NOT_ALNUM_BEFORE}[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?${NOT_ALNUM_AFTER}`),
    hint: (_s, d) => d,
    accept: (m) => {
      // Grouped IBANs may swallow a following uppercase word; retry with fewer groups.
      const groups = m[0].split(' ');
      for (let n = groups.length; n >= 1; n--) {
        const candidate = groups.slice(0, n).join(' ');
        if (ibanValid(candidate.replace(/ /g, ''))) return [m.index, m.index + candidate.length];
        if (groups.length === 1) break;
      }
      return undefined;
    },
  },
  // Contiguous 13-19 digits, or the printed groupings 4-4-4-4(-3), 4-6-5 (Amex), 4-6-4 (Diners).
  // Not glued to letters or to a decimal point (so not part of a UUID, hash or float).
  card: {
    re: re(
      '(?<![A-Za-z0-9]|[0-9][.,])(?:[0-9]{13,19}|[0-9]{4}([ -])[0-9]{4}\\1[0-9]{4}\\1[0-9]{4}(?:\\1[0-9]{3})?|[0-9]{4}([ -])[0-9]{6}\\2[0-9]{4,5})(?![A-Za-z0-9]|[.,][0-9])',
    ),
    hint: (_s, d) => d,
    accept: (m) => {
      if (cardValid(m[0])) return [m.index, m.index + m[0].length];
      // `4111 1111 1111 1111 479`: the optional fifth group may be a number that follows the card.
      const four = m[1] === undefined ? undefined : m[0].slice(0, 19);
      return four !== undefined && m[0].length > 19 && cardValid(four) ? [m.index, m.index + 19] : undefined;
    },
  },
  // In text an SSN needs its separators (bare 9-digit runs are ids and ZIP+4s); a scalar that is
  // nothing but nine digits with a valid structure is treated as an SSN (see `whole`).
  ssn: {
    re: re(
      '(?<![A-Za-z0-9]|[A-Za-z0-9]-)([0-9]{3})([- ])([0-9]{2})\\2([0-9]{4})(?![A-Za-z0-9]|-[A-Za-z0-9])',
    ),
    hint: (_s, d) => d,
    accept: (m) => (ssnValid(m[1]!, m[3]!, m[4]!) ? [m.index, m.index + m[0].length] : undefined),
    whole: (s) => {
      const t = s.trim();
      return /^[0-9]{9}$/.test(t) && ssnValid(t.slice(0, 3), t.slice(3, 5), t.slice(5));
    },
  },
  // E.164 with '+' (8-15 digits, any grouping), or NANP shapes: (415) 555-0132, 415-555-0132,
  // 415.555.0132, 415 555 0132, optionally with a leading 1. Bare 10-digit runs are not phones.
  phone: {
    re: re(
      '(?<![A-Za-z0-9_+])\\+(?:[1-9][0-9]{6,14}(?![0-9])|[1-9][0-9]{0,2}(?:[ .-]?\\([0-9]{1,4}\\))?[ .-]?[0-9]{1,8}(?:[ .-][0-9]{1,8}){0,6}(?![A-Za-z0-9]|[.-][0-9]))' +
        '|(?<![A-Za-z0-9_+.(-])(?:1[ .-]?)?(?:\\([2-9][0-9]{2}\\) ?[2-9][0-9]{2}[ .-][0-9]{4}|[2-9][0-9]{2}([ .-])[2-9][0-9]{2}\\1[0-9]{4})(?![A-Za-z0-9]|[.-][0-9])',
    ),
    hint: (_s, d) => d,
    accept: (m) => {
      if (m[0][0] !== '+') return [m.index, m.index + m[0].length];
      const digits = m[0].replace(/[^0-9]/g, '').length;
      return digits >= 8 && digits <= 15 ? [m.index, m.index + m[0].length] : undefined;
    },
  },
};

export function builtinDetectors(disabled: ReadonlySet<string>): Detector[] {
  return BUILTIN_CLASS_NAMES.filter((n) => !disabled.has(n)).map((name) => ({
    name,
    builtin: true,
    ...BUILTINS[name],
  }));
}

// --- key: value inside text -----------------------------------------------------------------

// `password=…`, `"api_key": "…"`, `Authorization: Basic …`, `token%3D…`, `\"secret\":\"…\"`
// (JSON nested in a string). The key must start a token, so each key is tried once.
const KV_RE =
  /(?<![A-Za-z0-9_.-])-{0,2}([A-Za-z_][A-Za-z0-9_.-]{0,127})(\\{0,3}["'`])?[ \t]{0,16}(?:=>|[:=]|%3[AaDd])[ \t]{0,16}/g;
// `--password hunter2` on a command line.
const FLAG_RE = /(?<![A-Za-z0-9_.-])--?([A-Za-z_][A-Za-z0-9_.-]{0,127})[ \t]{1,16}(?=[^\s-])/g;

// Placeholders and literals that are not secrets: SQL parameters, templates, env references.
const NOT_A_VALUE =
  /^(?:\?|\$[0-9]+|[:@][A-Za-z_][A-Za-z0-9_]*|%s|%\([A-Za-z_]+\)s|\$\{[^}]*\}|\{\{[^}]*\}\}|\{[A-Za-z_][A-Za-z0-9_]*\}|null|true|false|undefined)$/i;
const UNQUOTED_END = /[\s&;,"'`<>)}\]]/g;
const LINE_END = /[\r\n]/g;
const AUTH_SCHEME = /^(?:bearer|basic|digest|token|negotiate|ntlm)\s+/i;

function indexFrom(text: string, pattern: RegExp, from: number): number {
  pattern.lastIndex = from;
  const m = pattern.exec(text);
  return m ? m.index : text.length;
}

// Closing quote at the same escape depth as the opening one: `"…"` ends at an unescaped quote,
// `\"…\"` at the next `\"`.
function closingQuote(text: string, from: number, quote: string, escapes: number): number {
  for (let i = text.indexOf(quote, from); i >= 0; i = text.indexOf(quote, i + 1)) {
    let k = 0;
    while (k < i - from && text[i - 1 - k] === '\\') k++;
    if (escapes === 0 ? k % 2 === 0 : k === escapes) return i - k;
  }
  return text.length;
}

function kvValueSpan(text: string, pos: number, headerLike: boolean): [number, number] | undefined {
  let escapes = 0;
  while (escapes < 3 && text[pos + escapes] === '\\') escapes++;
  const q = text[pos + escapes];
  let start: number;
  let end: number;
  if (q === '"' || q === "'" || q === '`') {
    start = pos + escapes + 1;
    end = closingQuote(text, start, q, escapes);
  } else {
    start = pos;
    // Nested structure is scanned key by key; `${VAR}` is a reference, not a value.
    if (q === '{' || q === '[' || q === undefined || (q === '$' && text[pos + 1] === '{')) return undefined;
    end = indexFrom(text, headerLike ? LINE_END : UNQUOTED_END, pos);
  }
  const value = text.slice(start, end);
  if (value === '' || value[0] === FILL || value.startsWith('[REDACTED:') || NOT_A_VALUE.test(value))
    return undefined;
  // "Authorization: Bearer <already masked>" is done; don't swallow the rest of the line.
  const afterScheme = value.replace(AUTH_SCHEME, '');
  if (afterScheme === '' || afterScheme[0] === FILL) return undefined;
  return [start, end];
}

export function keyValueDetectors(isSensitive: (normalized: string) => boolean): Detector[] {
  const sensitive = (raw: string): string | undefined => {
    const n = normalizeKey(raw);
    return n !== '' && isSensitive(n) ? n : undefined;
  };
  return [
    {
      name: KEY_CLASS,
      re: KV_RE,
      builtin: true,
      hint: (s) => s.includes(':') || s.includes('=') || s.includes('%3'),
      accept: (m, text, r) => {
        const n = sensitive(m[1]!);
        if (n === undefined) return undefined;
        const span = kvValueSpan(text, m.index + m[0].length, isHeaderLikeKey(n));
        if (span) r.lastIndex = Math.max(r.lastIndex, span[1]);
        return span;
      },
    },
    {
      name: KEY_CLASS,
      re: FLAG_RE,
      builtin: true,
      hint: (s) => s.includes('-'),
      accept: (m, text, r) => {
        if (sensitive(m[1]!) === undefined) return undefined;
        const span = kvValueSpan(text, m.index + m[0].length, false);
        if (span) r.lastIndex = Math.max(r.lastIndex, span[1]);
        return span;
      },
    },
  ];
}

// --- scanning -------------------------------------------------------------------------------

export interface ScanOptions {
  /** The text is a whole scalar value (enables `whole` rules). */
  whole?: boolean;
  /** Skip built-ins when FAST_PATH_TRIGGER proves they cannot match. Off only in tests. */
  fast?: boolean;
}

// Later classes only overlap earlier spans through FILL-tolerant character classes (PEM bodies,
// header values to end of line); an overlap is masked as one span labelled by its longest part.
function mergeSpans(spans: Span[]): Span[] {
  spans.sort((a, b) => a.start - b.start);
  const out: Span[] = [];
  let longest = 0;
  for (const s of spans) {
    const last = out[out.length - 1];
    if (last !== undefined && s.start < last.end) {
      if (s.end - s.start > longest) {
        longest = s.end - s.start;
        last.label = s.label;
      }
      last.end = Math.max(last.end, s.end);
    } else {
      out.push({ ...s });
      longest = s.end - s.start;
    }
  }
  return out;
}

function fill(text: string, found: readonly Span[]): string {
  let out = '';
  let pos = 0;
  for (const s of found) {
    if (s.start < pos) continue;
    out += text.slice(pos, s.start) + FILL.repeat(s.end - s.start);
    pos = s.end;
  }
  return out + text.slice(pos);
}

/** Spans of `text` to mask, sorted and non-overlapping. Never throws for built-in detectors. */
export function scanText(text: string, detectors: readonly Detector[], opts: ScanOptions = {}): Span[] {
  const spans: Span[] = [];
  if (text.length === 0) return spans;
  const skipBuiltins = opts.fast !== false && !TRIGGER_CHAR.test(text) && !TRIGGER_RUN.test(text);
  const hasDigit = HAS_DIGIT.test(text);
  // Masks already in the text (re-redacting our own output) are opaque: redaction is idempotent.
  let work =
    text.includes('[REDACTED:') || text.includes('[HASH:')
      ? text.replace(MASK_TOKENS, (m) => FILL.repeat(m.length))
      : text;
  for (const d of detectors) {
    if (d.builtin && skipBuiltins) continue;
    if (opts.whole && d.whole && spans.length === 0 && d.whole(text)) {
      spans.push({ start: 0, end: text.length, label: d.name });
      return spans;
    }
    if (d.hint && !d.hint(work, hasDigit)) continue;
    const found: Span[] = [];
    const r = d.re;
    r.lastIndex = 0;
    for (let m = r.exec(work); m !== null; m = r.exec(work)) {
      if (m[0].length === 0) {
        r.lastIndex++;
        continue;
      }
      const range = d.accept ? d.accept(m, work, r) : ([m.index, m.index + m[0].length] as const);
      if (range === undefined) {
        // A rejected candidate (bad checksum, wrong shape) must not hide a valid one that starts
        // inside it: `AA00 DE89 3704 …` or `1234 4111 1111 1111 1111`. Every detector admits only
        // token starts, so resuming one character on costs O(candidate length) per token.
        r.lastIndex = m.index + 1;
        continue;
      }
      if (range[1] > range[0] && NOT_FILL.test(work.slice(range[0], range[1]))) {
        found.push({ start: range[0], end: range[1], label: d.name });
      }
    }
    r.lastIndex = 0;
    if (found.length === 0) continue;
    for (const s of found) spans.push(s);
    work = fill(work, found);
  }
  return mergeSpans(spans);
}

export function maskToken(label: string): string {
  return `[REDACTED:${label}]`;
}

/** True for a string that is exactly one mask this engine emits; re-redacting it is a no-op. */
export function isMaskToken(s: string): boolean {
  return /^\[(?:REDACTED:[A-Za-z0-9_.-]{1,64}|HASH:[0-9a-f]{12})\](?:#[0-9]+)?$/.test(s);
}

/** Rebuild `text[0, limit)` with every span replaced by its mask; a span crossing the limit is masked whole. */
export function renderSpans(text: string, spans: readonly Span[], limit = text.length): string {
  let out = '';
  let pos = 0;
  for (const s of spans) {
    if (s.start >= limit) break;
    out += text.slice(pos, s.start) + maskToken(s.label);
    pos = s.end;
  }
  if (pos < limit) out += text.slice(pos, limit);
  return out;
}
