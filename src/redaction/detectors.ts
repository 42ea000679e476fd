// Built-in detection classes for the redaction engine. This module is the security boundary's
// rule book: when a rule is ambiguous it masks.
//
// Judgement calls (each has a test or a lookalike in test/fixtures/secrets-corpus.json):
// - IP addresses are not masked: client/server addresses are what incident response needs, and the
//   semconv attributes carry them anyway. Add {name: 'ip', pattern: …} via extraPatterns if needed.
// - Cards need Luhn, 13-19 digits and a network prefix (2-6; 13-digit: 4; 15-digit: also 1, UATP),
//   so epoch-ms timestamps and snowflake ids pass. Nine digits with a valid SSN structure are an
//   SSN, with or without separators (so 123456789 as an id is masked: fail closed).
// - Phones need '+' (E.164), a NANP shape, or a trunk 0 and one separator after the area code
//   (09-7625400); bare 10-digit runs are order ids. Other national formats are not recognised.
// - Stripe publishable keys (pk_…) are public and stay. Keys inside base64 blobs and URL
//   encodings other than %40 (email) and %3A/%3D (key separators) are not decoded.
//
// Linear-time discipline: every regex either starts with a literal or with a lookbehind that only
// admits the first character of a token, and every quantifier that could backtrack across another
// one is bounded or separated by a mandatory delimiter. Checksums run in code (numbers.ts).

import { findCards, findIbans, findSsns, wholeSsn, type Range, type Steps } from './numbers.js';
import { PROVIDER_CLASS_NAMES, PROVIDER_RULES, type ProviderRule } from './providers.js';

const CORE_CLASS_NAMES = [
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

/** Every built-in class, in the order the scanner runs them (provider tokens after PEM keys). */
export const BUILTIN_CLASS_NAMES: readonly string[] = [
  CORE_CLASS_NAMES[0],
  ...PROVIDER_CLASS_NAMES,
  ...CORE_CLASS_NAMES.slice(1),
];

/** Label for values masked because of the key they sit under (cannot be disabled). */
export const KEY_CLASS = 'key';

export interface Detector {
  readonly name: string;
  /** Global regex; its lastIndex is reset before every scan (scans never re-enter). */
  readonly re?: RegExp;
  /** Instead of `re`: every range of the class in the working text, sorted. */
  readonly find?: (text: string, steps?: Steps) => readonly Range[];
  /** True for built-ins: the fast path may skip them (see TRIGGER_CHAR in scanner.ts). */
  readonly builtin: boolean;
  /** Cheap necessary condition on the working text; false means the class cannot match. */
  readonly hint?: (text: string, hasDigit: boolean) => boolean;
  /**
   * ASCII literals one of which every match contains. The scanner's fast path skips the rule when
   * none occurs in the text (literals.ts finds them all in one pass); a `hint` beside them tests
   * exactly the same, one `includes` each.
   */
  readonly literals?: readonly string[];
  /** Every match holds a run of at least this many [A-Za-z0-9/+] characters (a fast-path gate). */
  readonly base64Run?: number;

  /** The [start, end) to mask for this match, or undefined to reject it. May move re.lastIndex. */
  readonly accept?: (m: RegExpExecArray, text: string, re: RegExp) => readonly [number, number] | undefined;
  /** Extra rule for a scalar that is nothing but this value (e.g. an undashed SSN). */
  readonly whole?: (text: string) => boolean;
}

type Rule = Omit<Detector, 'name' | 'builtin'>;

function re(source: string, flags = ''): RegExp {
  return new RegExp(source, 'g' + flags);
}

/** A rule that can only match where one of `literals` occurs: its hint and its fast-path gate. */
function anyOf(...literals: string[]): Pick<Rule, 'literals' | 'hint'> {
  return {
    literals,
    hint: (s) => {
      for (const l of literals) if (s.includes(l)) return true;
      return false;
    },
  };
}

const NOT_ALNUM_BEFORE = '(?<![A-Za-z0-9])';
const NOT_ALNUM_AFTER = '(?![A-Za-z0-9])';

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

const AWS_KEY_PREFIXES = [
  'AKIA',
  'ASIA',
  'ABIA',
  'ACCA',
  'AGPA',
  'AIDA',
  'AIPA',
  'ANPA',
  'ANVA',
  'APKA',
  'AROA',
  'ASCA',
];

const PEM_HEADER = '-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----';
const PEM_FOOTER = '-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----';

const CORE: Record<(typeof CORE_CLASS_NAMES)[number], Rule> = {
  // A block cut off before its footer is masked to the end of the text: fail closed.
  private_key: {
    re: re(`${PEM_HEADER}[\\s\\S]*?(?:${PEM_FOOTER}|$)`),
    ...anyOf('-----BEGIN'),
  },
  // Header and claims with or without a signature (an unsigned `alg: none` token is still one).
  jwt: {
    re: re(
      '(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,}\\.(?:[A-Za-z0-9_-]{3,}\\.[A-Za-z0-9_-]*(?:\\.[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]*)?|eyJ[A-Za-z0-9_-]{10,})',
    ),
    ...anyOf('eyJ'),
  },
  // Only the password: scheme, user, host and path stay readable. The greedy password runs to the
  // last '@' before the path, so an unencoded '@', '#' or '?' inside it (common in hand-written
  // connection strings) is not left half-shown.
  url_password: {
    re: re('(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\\s:/@?#]*:([^\\s/]+)@'),
    ...anyOf('://'),
    accept: (m) => {
      const end = m.index + m[0].length - 1;
      return [end - m[1]!.length, end];
    },
  },
  aws_access_key: {
    re: re(`${NOT_ALNUM_BEFORE}(?:${AWS_KEY_PREFIXES.join('|')})[A-Z0-9]{16}${NOT_ALNUM_AFTER}`),
    literals: AWS_KEY_PREFIXES,
  },
  github_token: {
    re: re('(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})'),
    ...anyOf('gh', 'github_pat_'),
  },
  slack_token: {
    re: re(
      '(?<![A-Za-z0-9-])(?:xox[abposre]-[A-Za-z0-9-]{10,}|xapp-[0-9]-[A-Za-z0-9-]{10,})|(?<=hooks\\.slack\\.com/(?:services|workflows|triggers)/)[A-Za-z0-9_/-]{10,}',
    ),
    ...anyOf('xox', 'xapp-', 'hooks.slack.com'),
  },
  // Publishable keys (pk_live_…) are public by design and stay visible.
  stripe_key: {
    re: re('(?<![A-Za-z0-9_])(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9+/=]{20,})'),
    ...anyOf('_live_', '_test_', 'whsec_'),
  },
  // sk-…, sk-proj-…, sk-svcacct-…, and other vendors' sk- keys alike (Anthropic's run first).
  openai_key: {
    re: re('(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{20,}'),
    ...anyOf('sk-'),
    accept: (m) => (/[0-9A-Z]/.test(m[0].slice(3)) ? [m.index, m.index + m[0].length] : undefined),
  },
  // The scheme word stays ("Bearer [REDACTED:bearer]"); Basic credentials must decode to user:pass.
  bearer: {
    re: re(`${NOT_ALNUM_BEFORE}(bearer|basic)[ \\t]+([A-Za-z0-9._~+/=-]{8,})`, 'i'),
    hint: (s) => /bearer|basic/i.test(s),
    accept: (m) => {
      const basic = m[1]!.toLowerCase() === 'basic';
      // A sentence may end right after a Basic credential: "… Basic dXNlcjpwYXNz."
      const token = basic ? m[2]!.replace(/[._~-]+$/, '') : m[2]!;
      if (!credentialShaped(token)) return undefined;
      if (basic && !basicCredential(token)) return undefined;
      const start = m.index + m[0].length - m[2]!.length;
      return [start, start + token.length];
    },
  },
  // Exactly 40 base64 characters with mixed case and a digit or '/' '+': git SHAs (lowercase hex)
  // and 44-character SRI/SHA-256 digests do not qualify.
  aws_secret: {
    // A preceding '/' is part of a longer base64 run, except in '://' and as a path separator
    // after a non-base64 character (`doc://AbC…`, `s3://bucket/…` cannot start mid-run there).
    re: re('(?:(?<![A-Za-z0-9/+])|(?<=://))[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])'),
    hint: (s) => s.length >= 40,
    base64Run: 40,
    accept: (m) =>
      /[A-Z]/.test(m[0]) && /[a-z]/.test(m[0]) && /[0-9/+]/.test(m[0])
        ? [m.index, m.index + m[0].length]
        : undefined,
  },
  // '%40' catches emails inside URL-encoded query strings. A literal '@' right after '://' is URL
  // userinfo (user@host), not an address; an encoded one cannot be a userinfo delimiter, so
  // `doc://sarah%40example.com` is an address wherever it stands.
  // The local part before a literal '@' is taken whole (`(?=(…))\\1`, an atomic group: '@' is not
  // one of its characters, so no shorter one could match) rather than given back a character at a
  // time on every word of the text.
  email: {
    re: re(
      '(?<![A-Za-z0-9._%+-])(?:(?<!://)(?=([A-Za-z0-9._%+-]+))\\1@|[A-Za-z0-9._%+-]+%40)[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,24}(?![A-Za-z0-9-])',
    ),
    ...anyOf('@', '%40'),
  },
  iban: { find: findIbans, hint: (_s, d) => d },
  card: { find: findCards, hint: (_s, d) => d },
  ssn: { find: findSsns, hint: (_s, d) => d, whole: wholeSsn },
  // E.164 with '+' (8-15 digits, any grouping), or NANP shapes: (415) 555-0132, 415-555-0132,
  // 415.555.0132, 415 555 0132, optionally with a leading 1, or a national number with its trunk
  // 0 and one separator after the area code (09-7625400, 030 1234567; also right after '://', where a
  // URI's first segment starts). Bare 10-digit runs are not phones. Every match starts with a digit,
  // '+' or '(': the leading lookahead says so, which lets the engine skip other characters fast.
  phone: {
    re: re(
      '(?=[0-9+(])(?:(?<![A-Za-z0-9_+])\\+(?:[1-9][0-9]{6,14}(?![0-9])|[1-9][0-9]{0,2}(?:[ .-]?\\([0-9]{1,4}\\))?[ .-]?[0-9]{1,8}(?:[ ./-]{1,3}[0-9]{1,8}){0,6}(?![A-Za-z0-9]|[.-][0-9]))' +
        '|(?<![A-Za-z0-9_+.-])(?:1[ .-]?)?(?:\\([2-9][0-9]{2}\\)[ ./-]{0,3}[2-9][0-9]{2}[ ./-]{1,3}[0-9]{4}|[2-9][0-9]{2}[ ./-]{1,3}[2-9][0-9]{2}[ ./-]{1,3}[0-9]{4})(?![A-Za-z0-9]|[.-][0-9])' +
        '|(?:(?<![A-Za-z0-9_+./-])|(?<=://))0[1-9][0-9]{0,2}[ ./-][1-9][0-9]{5,7}(?![A-Za-z0-9]|[./-][0-9]))',
    ),
    hint: (_s, d) => d,
    accept: (m) => {
      if (m[0][0] !== '+') return [m.index, m.index + m[0].length];
      const digits = m[0].replace(/[^0-9]/g, '').length;
      return digits >= 8 && digits <= 15 ? [m.index, m.index + m[0].length] : undefined;
    },
  },
};

function providerRule(p: ProviderRule): Rule {
  if (p.hints.length > 0) return { re: re(p.source), ...anyOf(...p.hints) };
  return { re: re(p.source), hint: (s) => s.length >= (p.minLength ?? 0) };
}

const RULES: Record<string, Rule> = { ...CORE };
for (const p of PROVIDER_RULES) RULES[p.name] = providerRule(p);

export function builtinDetectors(disabled: ReadonlySet<string>): Detector[] {
  return BUILTIN_CLASS_NAMES.filter((n) => !disabled.has(n)).map((name) => ({
    name,
    builtin: true,
    ...RULES[name]!,
  }));
}
