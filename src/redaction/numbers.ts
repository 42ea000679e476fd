// Number-shaped classes (card, SSN, IBAN) found by trying every start and length a number can
// have, so a candidate that fails its checksum never hides a valid one that overlaps it: a
// prefix glued in front (`1234 4111 1111 1111 1111`, `AA00 DE89 3704 …`), a group after it
// (`4111 1111 1111 1111 479`). Inside a number any run of separators counts alike (space, tab,
// dot, dash, slash, underscore; the normalised view has already turned NBSP, en dashes,
// fullwidth forms and the like into these).

import { IBAN_LENGTHS, ibanValid, ssnValid } from './validators.js';

export type Range = readonly [number, number];

const SEP = '(?:[ \\t._/+-]|%2[0DdEeFf]){1,12}';
// Digit groups joined by separator runs, starting a token.
const NUMBER_RUN = new RegExp(`(?<![A-Za-z0-9])[0-9]+(?:${SEP}[0-9]+)*`, 'g');
const GROUP = /[0-9]+/g;
const MAX_CARD_DIGITS = 19;

interface Group {
  start: number;
  end: number;
}

function groupsOf(run: string, offset: number): Group[] {
  const out: Group[] = [];
  GROUP.lastIndex = 0;
  for (let m = GROUP.exec(run); m !== null; m = GROUP.exec(run))
    out.push({ start: offset + m.index, end: offset + m.index + m[0].length });
  return out;
}

// Printed cards are contiguous, evenly grouped (4-4-4-4, 2-2-…, one digit apart), evenly grouped
// with a shorter or longer last group (4-4-4-4-3), or Amex/Diners 4-6-5 and 4-6-4. Windows of
// unevenly sized groups are lists of numbers (times, phone pairs, tables), not cards.
function cardShaped(sizes: readonly number[], i: number, j: number): boolean {
  if (j - i <= 1) return true;
  if (j - i === 2 && sizes[i] === 4 && sizes[i + 1] === 6) return true;
  for (let k = i + 1; k < j; k++) if (sizes[k] !== sizes[i]) return false;
  return true;
}

function isDecimal(text: string, groups: readonly Group[]): boolean {
  return groups.length === 2 && groups[1]!.start - groups[0]!.end === 1 && text[groups[0]!.end] === '.';
}

function pushMerged(out: Array<[number, number]>, start: number, end: number): void {
  const last = out[out.length - 1];
  if (last !== undefined && start <= last[1]) last[1] = Math.max(last[1], end);
  else out.push([start, end]);
}

/** Counts candidate windows, so tests can bound the scanner's work by the input's length. */
export interface Steps {
  count: number;
}

// Luhn of any window [a, b) of a digit string in O(1), from prefix sums split by index parity:
// the rightmost digit of a window is never doubled, the one before it is, and so on.
function luhnWindows(digits: string): (a: number, b: number) => boolean {
  let prefix: Int32Array[] | undefined;
  const build = (): Int32Array[] => {
    const n = digits.length;
    // [plain digit at even index, plain at odd, doubled at even, doubled at odd], as prefix sums.
    const sums = [new Int32Array(n + 1), new Int32Array(n + 1), new Int32Array(n + 1), new Int32Array(n + 1)];
    const [pe, po, de, dob] = sums as [Int32Array, Int32Array, Int32Array, Int32Array];
    for (let t = 0; t < n; t++) {
      const d = digits.charCodeAt(t) - 48;
      const dd = d > 4 ? d * 2 - 9 : d * 2;
      const odd = t & 1;
      pe[t + 1] = pe[t]! + (odd ? 0 : d);
      po[t + 1] = po[t]! + (odd ? d : 0);
      de[t + 1] = de[t]! + (odd ? 0 : dd);
      dob[t + 1] = dob[t]! + (odd ? dd : 0);
    }
    return sums;
  };
  return (a, b) => {
    prefix ??= build();
    const p = (b - 1) & 1;
    const plain = prefix[p]!;
    const doubled = prefix[3 - p]!;
    const sum = plain[b]! - plain[a]! + (doubled[b]! - doubled[a]!);
    return sum % 10 === 0;
  };
}

/** Every card inside every number run: each group start, each window of 13-19 digits. */
export function findCards(text: string, steps?: Steps): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  NUMBER_RUN.lastIndex = 0;
  for (let m = NUMBER_RUN.exec(text); m !== null; m = NUMBER_RUN.exec(text)) {
    const groups = groupsOf(m[0], m.index);
    // A run glued to a letter at its end loses that group (`…1111abc` is not part of a number).
    if (/[A-Za-z]/.test(text[m.index + m[0].length] ?? '')) groups.pop();
    if (groups.length === 0 || isDecimal(text, groups)) continue;
    const digits = groups.map((g) => text.slice(g.start, g.end)).join('');
    if (digits.length < 13) continue;
    const sizes = groups.map((g) => g.end - g.start);
    const offsets = [0];
    for (const n of sizes) offsets.push(offsets[offsets.length - 1]! + n);
    const luhn = luhnWindows(digits);
    for (let i = 0; i < groups.length; i++) {
      const a = offsets[i]!;
      // Networks start 2-6 (and 1 for 15 digits: UATP, JCB's 1800): other starts cannot begin a card.
      const first = digits[a]!;
      if (first < '1' || first > '6') continue;
      let best = -1;
      for (let j = i; j < groups.length; j++) {
        if (steps) steps.count++;
        const b = offsets[j + 1]!;
        const length = b - a;
        if (length > MAX_CARD_DIGITS) break;
        if (length < 13) continue;
        if (!cardShaped(sizes, i, j)) {
          if (j - i > 2) break;
          continue;
        }
        const brand = length === 13 ? first === '4' : first >= '2' || length === 15;
        if (brand && luhn(a, b)) best = j;
      }
      if (best >= 0) pushMerged(out, groups[i]!.start, groups[best]!.end);
    }
  }
  return out;
}

// 3-2-4 digits with separator runs, or a bare nine-digit run with an SSN's structure (when in
// doubt, mask: an id that happens to have one is masked too).
const SSN = new RegExp(
  `(?<![A-Za-z0-9])([0-9]{3})(?:${SEP}([0-9]{2})${SEP}|([0-9]{2}))([0-9]{4})(?![A-Za-z0-9])`,
  'g',
);

export function findSsns(text: string, steps?: Steps): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  SSN.lastIndex = 0;
  for (let m = SSN.exec(text); m !== null; m = SSN.exec(text)) {
    if (steps) steps.count++;
    if (ssnValid(m[1]!, m[2] ?? m[3]!, m[4]!)) out.push([m.index, m.index + m[0].length]);
    else SSN.lastIndex = m.index + 1;
  }
  return out;
}

/** A scalar that is nothing but nine digits with a valid SSN structure. */
export function wholeSsn(s: string): boolean {
  const t = s.trim();
  return /^[0-9]{9}$/.test(t) && ssnValid(t.slice(0, 3), t.slice(3, 5), t.slice(5));
}

const IBAN_START = /(?<![A-Za-z0-9])(?:[A-Z]{2}|[a-z]{2})[0-9]{2}/g;
const SEPARATOR = /[ \t._/+-]/;
const ENCODED_SEPARATOR = /^%2[0DdEeFf]$/;

// From a country code, collect exactly the registry length of alphanumerics (same letter case as
// the country code), stepping over separator runs; the IBAN must end where a group ends.
function ibanAt(text: string, start: number): number | undefined {
  const cc = text.slice(start, start + 2).toUpperCase();
  const length = IBAN_LENGTHS[cc];
  if (length === undefined) return undefined;
  // Letters in the same case as the country code, or digits.
  const lo = text.charCodeAt(start) <= 90 ? 65 : 97;
  let compact = '';
  let i = start;
  let gap = 0;
  while (i < text.length && compact.length < length) {
    const c = text.charCodeAt(i);
    if ((c >= 48 && c <= 57) || (c >= lo && c < lo + 26)) {
      compact += text[i];
      gap = 0;
    } else if (compact.length >= 4 && gap < 12 && SEPARATOR.test(text[i]!)) gap++;
    else if (compact.length >= 4 && gap < 12 && ENCODED_SEPARATOR.test(text.slice(i, i + 3))) {
      gap++;
      i += 2;
    } else return undefined;
    i++;
  }
  if (compact.length !== length || /[A-Za-z0-9]/.test(text[i] ?? '')) return undefined;
  return ibanValid(compact.toUpperCase()) ? i : undefined;
}

export function findIbans(text: string, steps?: Steps): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  IBAN_START.lastIndex = 0;
  for (let m = IBAN_START.exec(text); m !== null; m = IBAN_START.exec(text)) {
    if (steps) steps.count++;
    const end = ibanAt(text, m.index);
    if (end === undefined) continue;
    out.push([m.index, end]);
    IBAN_START.lastIndex = end;
  }
  return out;
}

const BARE_RUN = /(?<![A-Za-z0-9])[0-9]{9,11}(?![A-Za-z0-9])/g;

/**
 * A bare run of digits that had invisible characters inside it in the original
 * (`4\u200D12\u200B55\u200B1234`) is read as a number written with separators: nine digits with
 * an SSN structure are an SSN, ten (or eleven after a 1) with a NANP structure a phone.
 * `removedInside(start, end)` tells whether the view dropped characters inside a range.
 */
export function findHiddenSeparatorNumbers(
  text: string,
  removedInside: (start: number, end: number) => boolean,
): Array<{ start: number; end: number; label: 'ssn' | 'phone' }> {
  const out: Array<{ start: number; end: number; label: 'ssn' | 'phone' }> = [];
  BARE_RUN.lastIndex = 0;
  for (let m = BARE_RUN.exec(text); m !== null; m = BARE_RUN.exec(text)) {
    const start = m.index;
    const end = start + m[0].length;
    if (!removedInside(start, end)) continue;
    const d = m[0];
    if (d.length === 9 && ssnValid(d.slice(0, 3), d.slice(3, 5), d.slice(5)))
      out.push({ start, end, label: 'ssn' });
    const nanp = d.length === 11 && d[0] === '1' ? d.slice(1) : d;
    if (nanp.length === 10 && nanp[0]! >= '2' && nanp[3]! >= '2') out.push({ start, end, label: 'phone' });
  }
  return out;
}
