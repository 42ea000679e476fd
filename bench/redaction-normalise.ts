// npm run bench:redaction: what normalisation costs on typical tool arguments. Times string()
// scans of plain ASCII arguments (the fast path: one regex test), of arguments with ordinary
// non-ASCII text (one NFKC check), and of arguments that need the normalised views (fullwidth
// digits, zero-width characters, percent-encoding), in µs per call. "added" is what normalisation
// adds: for text on the fast path the plain check itself; for the other cases the scan against
// the scan of the same text written in plain ASCII (the twin).
import { createRedactor } from '../src/redaction/redact.js';
import { isPlain } from '../src/redaction/normalise.js';

const r = createRedactor();
const twins: Record<string, string> = {
  // The same accented text with an ASCII hyphen: it isolates what the dash adds (accented text is
  // a two-byte string, which every scan pays for whether or not it is normalised).
  'text with an em dash': JSON.stringify({ note: 'Café Müller, Zürich - livraison prévue', limit: 5 }),
  'fullwidth digits': JSON.stringify({ note: 'ssn 412-55-1234 on file', limit: 5 }),
  'zero-width inside': JSON.stringify({ note: 'ssn 412-55-1234 on file', limit: 5 }),
  'percent-encoded': JSON.stringify({ uri: 'doc://records?owner=sarah@example.com&page=2' }),
};
const cases: Record<string, string> = {
  'plain ASCII arguments': JSON.stringify({
    query: 'select name from customers where region = ?',
    limit: 50,
    region: 'emea',
  }),
  'accented text (NFC)': JSON.stringify({ note: 'Café Müller, Zürich, livraison prévue', limit: 5 }),
  'text with an em dash': JSON.stringify({ note: 'Café Müller, Zürich — livraison prévue', limit: 5 }),
  'fullwidth digits': JSON.stringify({ note: 'ssn ４１２-５５-１２３４ on file', limit: 5 }),
  'zero-width inside': JSON.stringify({ note: 'ssn 412\u200b-55-1234 on file', limit: 5 }),
  'percent-encoded': JSON.stringify({ uri: 'doc://records?owner=sarah%40example.com&page=2' }),
};

function perCall(fn: () => void, n: number): number {
  for (let i = 0; i < 2000; i++) fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t0) / n / 1000;
}

for (const [name, text] of Object.entries(cases)) {
  const check = perCall(() => isPlain(text), 200_000);
  const scan = perCall(() => r.string(text), 20_000);
  const twin = twins[name];
  const added = twin === undefined ? check : scan - perCall(() => r.string(twin), 20_000);
  console.log(
    `${name.padEnd(24)} ${text.length} chars: isPlain ${check.toFixed(2)} µs, string() ${scan.toFixed(2)} µs, added ${added.toFixed(2)} µs`,
  );
}
