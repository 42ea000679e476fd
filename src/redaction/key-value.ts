// `key: value` inside text: `password=…`, `"api_key": "…"`, `Authorization: Basic …`,
// `token%3D…`, `\"secret\":\"…\"` (JSON nested in a string), `--password hunter2`. A value under
// a sensitive key is masked whatever it looks like; under a key that only hints at a secret
// (`license_key=`), when it looks random.

import { KEY_CLASS, type Detector } from './detectors.js';
import { isHeaderLikeKey, isHintKey, normalizeKey } from './keys.js';
import { FILL } from './scanner.js';
import { looksRandom } from './validators.js';

// The key must start a token, so each key is tried once; it is taken whole (`(?=(…))\1`, an atomic
// group: a shorter key would leave a key character where a quote, blank or separator must follow).
const KV_RE =
  /(?<![A-Za-z0-9_.-])-{0,2}(?=([A-Za-z_][A-Za-z0-9_.-]{0,127}))\1(\\{0,3}["'`])?[ \t]{0,16}(?:=>|[:=]|%3[AaDd])[ \t]{0,16}/g;
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
  // undefined: not a key to act on; false: mask only a random-looking value; true: mask.
  const verdict = (raw: string): { n: string; always: boolean } | undefined => {
    const n = normalizeKey(raw);
    if (n === '') return undefined;
    if (isSensitive(n)) return { n, always: true };
    return isHintKey(n) ? { n, always: false } : undefined;
  };
  const span = (m: RegExpExecArray, text: string, r: RegExp, headerLike: boolean, always: boolean) => {
    const s = kvValueSpan(text, m.index + m[0].length, headerLike);
    if (s === undefined || (!always && !looksRandom(text.slice(s[0], s[1])))) return undefined;
    r.lastIndex = Math.max(r.lastIndex, s[1]);
    return s;
  };
  return [
    {
      name: KEY_CLASS,
      re: KV_RE,
      builtin: true,
      hint: (s) => s.includes(':') || s.includes('=') || s.includes('%3'),
      literals: [':', '=', '%3'],
      accept: (m, text, r) => {
        const v = verdict(m[1]!);
        return v && span(m, text, r, isHeaderLikeKey(v.n), v.always);
      },
    },
    {
      name: KEY_CLASS,
      re: FLAG_RE,
      builtin: true,
      hint: (s) => s.includes('-'),
      literals: ['-'],
      accept: (m, text, r) => {
        const v = verdict(m[1]!);
        return v && span(m, text, r, false, v.always);
      },
    },
  ];
}
