// Evasion forms of a secret, the ways of placing it in a payload, and the leak check that sees
// through them: shared by the property tests (seeded), the regression replay and `npm run fuzz`.
// A transform changes how a secret is written, never what it is: separators swapped (one kind
// for the whole value, or mixed where a class allows it), zero-width and other format
// characters inserted, fullwidth or other Unicode digits and letters, NBSP for spaces,
// percent-encoding. Glue is punctuation only: a token glued to letters (`x4111…`, `xghp_…`) is
// by design not a token.

export interface Secret {
  class: string;
  value: string;
}

/** A random source in [0, 1): Math.random in the fuzzer, fast-check's in property tests. */
export type Rng = () => number;

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

const NUMBER_CLASSES = new Set(['card', 'ssn', 'iban']);
const SEPARATORS = [' ', '.', '-', '/', '\u00a0', '\u2013', '\u202f', ' - ', '_', '\u2009', '%20'];
const PHONE_SEPARATORS = [' ', '.', '-', '\u00a0', '\u2011', '\u202f'];
const FORMAT_CHARS = ['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad', '\u200e'];

function fullwidth(s: string, letters: boolean): string {
  return s.replace(letters ? /[0-9A-Za-z]/g : /[0-9]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
}

function digitsIn(s: string, zero: number): string {
  return s.replace(/[0-9]/g, (c) => String.fromCodePoint(zero + Number(c)));
}

export interface Transform {
  name: string;
  applies(s: Secret): boolean;
  apply(s: Secret, rng: Rng): string;
}

export const TRANSFORMS: readonly Transform[] = [
  {
    name: 'separators',
    applies: (s) => NUMBER_CLASSES.has(s.class) || s.class === 'phone',
    apply: (s, rng) => {
      const sep = pick(rng, s.class === 'phone' ? PHONE_SEPARATORS : SEPARATORS);
      if (s.class === 'card' && /^[0-9]+$/.test(s.value)) return s.value.replace(/(.{4})(?=.)/g, `$1${sep}`);
      return s.value.replace(s.class === 'phone' ? /[ .-]/g : /[ -]/g, sep);
    },
  },
  {
    name: 'mixed-separators',
    applies: (s) => NUMBER_CLASSES.has(s.class) && /[ -]/.test(s.value),
    apply: (s, rng) => s.value.replace(/[ -]/g, () => pick(rng, SEPARATORS)),
  },
  {
    name: 'format-characters',
    applies: () => true,
    apply: (s, rng) => {
      const chars = [...s.value];
      for (let n = 1 + Math.floor(rng() * 3); n > 0; n--)
        chars.splice(1 + Math.floor(rng() * (chars.length - 1)), 0, pick(rng, FORMAT_CHARS));
      return chars.join('');
    },
  },
  {
    name: 'fullwidth-digits',
    applies: (s) => /[0-9]/.test(s.value),
    apply: (s) => fullwidth(s.value, false),
  },
  { name: 'fullwidth', applies: () => true, apply: (s) => fullwidth(s.value, true) },
  {
    name: 'unicode-digits',
    applies: (s) => /[0-9]/.test(s.value),
    apply: (s, rng) => digitsIn(s.value, pick(rng, [0x660, 0x6f0, 0x966, 0x9e6, 0xe50, 0x1d7ce, 0x1d7ec])),
  },
  { name: 'nbsp', applies: (s) => s.value.includes(' '), apply: (s) => s.value.replace(/ /g, '\u00a0') },
  { name: 'percent-encoded', applies: () => true, apply: (s) => encodeURIComponent(s.value) },
];

const PREFIXES = [
  '',
  ' ',
  '(',
  '"',
  "'",
  '=',
  ': ',
  ',',
  '[',
  '{',
  '<b>',
  '\n',
  '\t',
  '1234 ',
  'AA00 ',
  '99 ',
  '#',
];
const SUFFIXES = ['', ' ', ')', '"', "'", ';', ',', ']', '}', '</b>', '\n', '.', ' 479', ' 12', '!'];

export interface Placement {
  name: string;
  place(text: string, rng: Rng): unknown;
}

export const PLACEMENTS: readonly Placement[] = [
  { name: 'glued', place: (t, rng) => `${pick(rng, PREFIXES)}${t}${pick(rng, SUFFIXES)}` },
  { name: 'prose', place: (t) => `customer wrote: ${t} (see ticket)` },
  { name: 'json-object', place: (t) => ({ a: { b: [1, { c: t }] } }) },
  { name: 'json-string', place: (t) => JSON.stringify({ note: t, n: 1 }) },
  { name: 'json-in-json', place: (t) => JSON.stringify({ body: JSON.stringify({ note: t }) }) },
  { name: 'url-query', place: (t) => `https://api.example.com/v1/lookup?q=${t}&page=2` },
  { name: 'url-encoded', place: (t) => `https://api.example.com/v1/lookup?q=${encodeURIComponent(t)}` },
  { name: 'sql', place: (t) => `SELECT * FROM accounts WHERE ref = '${t}' LIMIT 1` },
];

/** What of a secret must never be visible (the password of a URL, the token after "Bearer"). */
export function secretCore(s: Secret): string {
  const v = s.value;
  if (s.class === 'url_password') return /^[^:]+:\/\/[^:/@]*:(.+)@[^@]*$/.exec(v)?.[1] ?? v;
  if (s.class === 'bearer') return v.replace(/^(Bearer|Basic)\s+/, '');
  if (v.startsWith('https://hooks.slack.com/services/')) return v.slice(33);
  if (s.class === 'azure_storage_key') return v.replace(/^AccountKey=/, '');
  if (s.class === 'discord_webhook') return v.slice(v.lastIndexOf('/') + 1);
  if (s.class === 'teams_webhook') return v.slice(v.indexOf('webhookb2/') + 10);
  return v;
}

/** A string read the way a person reads it: compatibility forms folded, invisible characters gone, digits ASCII, %XX decoded. */
export function asciiReading(s: string): string {
  let out = s
    .normalize('NFKC')
    .replace(/\p{Cf}/gu, '')
    .replace(/\p{Nd}/gu, (d) => {
      const cp = d.codePointAt(0)!;
      if (cp < 0x80) return d;
      let zero = cp;
      while (/\p{Nd}/u.test(String.fromCodePoint(zero - 1)) && cp - zero < 9) zero--;
      return String((cp - zero) % 10);
    });
  try {
    out = decodeURIComponent(out);
  } catch {
    out = out.replace(/%([0-7][0-9A-Fa-f])/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
  return out;
}

const NUMERIC = new Set(['card', 'ssn', 'phone']);

/** The forms of a secret whose presence in output means it leaked, whole or in part. */
export function fingerprints(s: Secret): string[] {
  const core = asciiReading(secretCore(s)).replace(/\u00a0/g, ' ');
  const out = new Set([core]);
  if (NUMERIC.has(s.class)) out.add(core.replace(/[^0-9]/g, ''));
  if (s.class === 'iban') out.add(core.replace(/[^A-Za-z0-9]/g, '').toUpperCase());
  if (core.length >= 24 && !['email', 'url_password', 'private_key'].includes(s.class)) {
    out.add(core.slice(-12));
    out.add(core.slice(Math.floor(core.length / 2) - 6, Math.floor(core.length / 2) + 6));
  }
  return [...out].filter((f) => f.length >= 6);
}

/** Every string in a value, keys included. */
export function allStrings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) allStrings(x, out);
  else if (typeof v === 'object' && v !== null)
    for (const [k, x] of Object.entries(v)) {
      out.push(k);
      allStrings(x, out);
    }
  return out;
}

/** The first fingerprint of `s` visible in any of `texts` (also with JSON escapes undone), or undefined. */
export function leak(s: Secret, texts: readonly string[]): string | undefined {
  const fps = fingerprints(s);
  for (const t of texts) {
    let plain = asciiReading(t);
    for (let depth = 0; depth < 3 && plain.includes('\\'); depth++) plain = plain.replace(/\\(.)/g, '$1');
    const forms = [plain, plain.replace(/\u00a0/g, ' ')];
    if (NUMERIC.has(s.class) || s.class === 'iban')
      forms.push(plain.replace(/[^0-9A-Za-z]/g, '').toUpperCase());
    for (const fp of fps) {
      const f = s.class === 'iban' ? fp : fp;
      if (forms.some((x) => x.includes(f) || (s.class === 'iban' && x.includes(f.toUpperCase())))) return fp;
    }
  }
  return undefined;
}
