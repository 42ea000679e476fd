// npm run fuzz [-- --minutes N]: explores the redaction engine for N minutes (default 10) with
// random seeds, and writes every counterexample into test/fixtures/redaction-regressions.json,
// which test/unit/redact.regressions.test.ts replays in `npm test`. Two fuzzers take turns:
//   - the redaction properties of test/support/redaction-properties.ts, each with a new seed;
//   - a corpus fuzzer: every corpus secret rewritten by a chain of evasion transforms
//     (separators, format characters, fullwidth and other Unicode digits, NBSP, percent-encoding),
//     glued to punctuation or nested in JSON and URLs, and checked for any visible trace.
// Exit code 1 when it found something new.
import { readFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';

const { REDACTION_PROPERTIES } = await import('../test/support/redaction-properties.ts');
const { TRANSFORMS, PLACEMENTS, allStrings, leak } = await import('../test/support/evasion.ts');
const { createRedactor } = await import('../src/redaction/redact.ts');

const FIXTURE = new URL('../test/fixtures/redaction-regressions.json', import.meta.url);
const CORPUS = new URL('../test/fixtures/secrets-corpus.json', import.meta.url);

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
const minutes = Number(arg('minutes', '10'));
if (!(minutes > 0)) throw new Error(`--minutes must be a positive number, got ${arg('minutes')}`);
const deadline = Date.now() + minutes * 60_000;

const corpus = JSON.parse(readFileSync(CORPUS, 'utf8'));
const regressions = JSON.parse(readFileSync(FIXTURE, 'utf8'));
const redactor = createRedactor({ maxBytes: 1 << 20 });
const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];

const SEPARATOR_TRANSFORMS = TRANSFORMS.filter((t) => t.name.includes('separators'));
const UNICODE_TRANSFORMS = TRANSFORMS.filter(
  (t) => !t.name.includes('separators') && t.name !== 'percent-encoded',
);
const PERCENT = TRANSFORMS.find((t) => t.name === 'percent-encoded');

let inputs = 0;
const found = { properties: [], inputs: [] };
const seen = new Set([
  ...regressions.properties.map((p) => `${p.name}\u0000${p.message ?? ''}`),
  ...regressions.inputs.map((r) => `${r.secret.class}\u0000${r.note ?? ''}`),
]);

function propertyRound() {
  for (const p of REDACTION_PROPERTIES) {
    if (Date.now() > deadline) return;
    const seed = Math.floor(Math.random() * 2 ** 31);
    const details = fc.check(p.property(), { seed, numRuns: p.numRuns });
    inputs += details.numRuns;
    if (!details.failed) continue;
    const message = String(details.errorInstance?.message ?? details.error ?? '').slice(0, 400);
    const key = `${p.name}\u0000${message.split('\n')[0]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    found.properties.push({ name: p.name, seed, path: details.counterexamplePath, message });
    console.log(`counterexample: ${p.name} (seed ${seed}): ${message.split('\n')[0]}`);
  }
}

function corpusRound(n) {
  for (let i = 0; i < n; i++) {
    const secret = pick(corpus.secrets);
    const chain = [];
    let value = secret.value;
    const step = (t) => {
      const s = { class: secret.class, value };
      if (t.applies(s)) {
        value = t.apply(s, Math.random);
        chain.push(t.name);
      }
    };
    if (Math.random() < 0.5) step(pick(SEPARATOR_TRANSFORMS));
    if (Math.random() < 0.8) step(pick(UNICODE_TRANSFORMS));
    if (Math.random() < 0.2) step(PERCENT);
    const placement = pick(PLACEMENTS);
    const input = placement.place(value, Math.random);
    inputs++;
    const out = redactor.json(input);
    const texts = out.text === undefined ? [] : [...allStrings(JSON.parse(out.text)), out.text];
    if (out.text !== undefined && leak(secret, texts) === undefined) continue;
    const note = `${chain.join('+') || 'as is'} in ${placement.name}`;
    const key = `${secret.class}\u0000${note}`;
    if (seen.has(key)) continue;
    seen.add(key);
    found.inputs.push({ note, secret, input });
    console.log(`counterexample: ${secret.class} ${note}: ${JSON.stringify(input).slice(0, 160)}`);
  }
}

const started = Date.now();
let lastReport = started;
console.log(`fuzzing redaction for ${minutes} min (${corpus.secrets.length} corpus secrets)`);
while (Date.now() < deadline) {
  propertyRound();
  while (Date.now() < deadline && Date.now() - lastReport < 10_000) corpusRound(500);
  const elapsed = Math.round((Date.now() - started) / 1000);
  console.log(
    `${elapsed}s: ${inputs} inputs tried, ${found.properties.length + found.inputs.length} new counterexamples`,
  );
  lastReport = Date.now();
}

const total = found.properties.length + found.inputs.length;
if (total > 0) {
  regressions.properties.push(...found.properties);
  regressions.inputs.push(...found.inputs);
  writeFileSync(FIXTURE, JSON.stringify(regressions, null, 2) + '\n');
  console.log(`wrote ${total} new regression case(s) to test/fixtures/redaction-regressions.json`);
}
console.log(`done: ${inputs} inputs tried in ${minutes} min, ${total} new counterexamples`);
process.exitCode = total > 0 ? 1 : 0;
