// `npm run bench:signals [-- --write]`: what the detection signals cost per call, off the caller's
// path but on the host's CPU: the result scan (mcp_audit.result.pii.*, the redaction engine's
// detectors over a bounded sample) on typical small results and on a 1 MiB one, and the argument
// risk tags (mcp_audit.arguments.risk) on typical arguments. For the 1 MiB result it also gives
// the longest single step, which is how long the scan holds the event loop at a time (it runs one
// piece per turn). Medians of several rounds; --write puts the table into docs/benchmarks.md.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { generateCustomers } from '../src/demo/data/customers.js';
import { argumentRisk, compileArgumentRisk } from '../src/instrumentation/argument-risk.js';
import {
  DEFAULT_RESULT_SCAN_CHARS,
  ResultScan,
  classifyResult,
} from '../src/instrumentation/content-signals.js';
import { DEFAULT_ARGUMENT_RISK, DEFAULT_EGRESS_TOOLS } from '../src/instrumentation/signal-defaults.js';
import { createClassifier } from '../src/redaction/classify.js';
import { createRedactor } from '../src/redaction/redact.js';
import { REPO_ROOT } from './lib/spawn.js';

const ROUNDS = 5;
const classifier = createClassifier();
const redactor = createRedactor();
const rules = compileArgumentRisk(DEFAULT_ARGUMENT_RISK, DEFAULT_EGRESS_TOOLS);

/** A tool result as the demo db server shapes it: the rows as JSON text and as structuredContent. */
function rowsResult(rows: unknown[]): unknown {
  const payload = { rows, rowCount: rows.length, database: 'production' };
  return { content: [{ type: 'text', text: JSON.stringify(payload) }], structuredContent: payload };
}

function customersOf(bytes: number): unknown[] {
  const rows: unknown[] = [];
  let size = 0;
  for (const c of generateCustomers(1_000_000)) {
    rows.push(c);
    // Twice in the result (text and structuredContent).
    size += 2 * JSON.stringify(c).length;
    if (size >= bytes) break;
  }
  return rows;
}

const results: Record<string, unknown> = {
  'no personal data (a sum, 60 B)': { content: [{ type: 'text', text: 'The sum of 19 and 23 is 42.' }] },
  'one contact row (email, phone; 330 B)': rowsResult([
    { name: 'Sarah Chen', email: 'sarah.chen@example.com', phone: '+1-415-555-0134' },
  ]),
  '10 customer rows (2.6 KB)': rowsResult(customersOf(2600)),
  'balances, no personal data (10 KB)': rowsResult(
    Array.from({ length: 120 }, (_, i) => ({ id: 4471 + i, city: 'Leeds', balance: 48210 + i })),
  ),
  'customer rows, over 1 MiB (the scan reads a 512 KiB sample)': rowsResult(customersOf(1 << 20)),
};

const args: Record<string, [tool: string, args: unknown]> = {
  'file_write to /etc/cron.d': [
    'file_write',
    { path: '/etc/cron.d/backdoor', content: '* * * * * root /tmp/x' },
  ],
  'file_write, ordinary path': ['file_write', { path: '/notes/followup-3.txt', content: 'call back 4471\n' }],
  'db_query, bounded SELECT': ['db_query', { sql: 'SELECT name, balance FROM customers WHERE id = 4471' }],
  'db_query, SELECT *': ['db_query', { sql: 'SELECT * FROM customers' }],
  'http_post, unlisted host': ['http_post', { url: 'https://paste.example.net/upload', body: '{"n":1}' }],
  'email_send, 2 KB body': [
    'email_send',
    { to: 'ops@example.com', subject: 'notes', body: 'lorem ipsum '.repeat(170) },
  ],
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** µs per call: the median over ROUNDS of `n` calls each, after a warm-up. */
function perCall(fn: () => void, n: number): number {
  for (let i = 0; i < Math.min(n, 200); i++) fn();
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    rounds.push(Number(process.hrtime.bigint() - t0) / n / 1000);
  }
  return median(rounds);
}

/** The 1 MiB scan step by step: the longest step and the number of steps (event-loop turns). */
function steps(result: unknown): { longestUs: number; turns: number } {
  const longest: number[] = [];
  let turns = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const scan = new ResultScan(result, classifier, DEFAULT_RESULT_SCAN_CHARS);
    let max = 0;
    turns = 0;
    for (;;) {
      const t0 = process.hrtime.bigint();
      const more = scan.step();
      max = Math.max(max, Number(process.hrtime.bigint() - t0) / 1000);
      turns++;
      if (!more) break;
    }
    longest.push(max);
  }
  return { longestUs: median(longest), turns };
}

const fmt = (us: number) =>
  us >= 1000 ? `${(us / 1000).toFixed(1)} ms` : `${us.toFixed(us < 10 ? 2 : 0)} µs`;

const resultRows: string[] = [];
for (const [name, result] of Object.entries(results)) {
  const size = Buffer.byteLength(JSON.stringify(result));
  const big = size > 100_000;
  const scanUs = perCall(() => classifyResult(result, classifier, DEFAULT_RESULT_SCAN_CHARS), big ? 5 : 2000);
  // For scale: redacting the same result, which a span pays only with result capture on.
  const redactUs = perCall(() => redactor.json(result, 'redacted'), big ? 5 : 2000);
  const found = classifyResult(result, classifier, DEFAULT_RESULT_SCAN_CHARS);
  const turns = big ? steps(result) : undefined;
  resultRows.push(
    `| ${name} | ${size.toLocaleString('en-US')} B | ${fmt(scanUs)} | ${turns ? `${turns.turns} turns, longest ${fmt(turns.longestUs)}` : 'one turn'} | ${found.total.toLocaleString('en-US')} (${found.classes.join(', ') || 'none'}) | ${fmt(redactUs)} |`,
  );
  process.stderr.write(`${resultRows.at(-1)}\n`);
}

const argRows: string[] = [];
for (const [name, [tool, value]] of Object.entries(args)) {
  const riskUs = perCall(() => argumentRisk(tool, value, rules), 20_000);
  const redactUs = perCall(() => redactor.json(value, 'redacted'), 20_000);
  const tags = argumentRisk(tool, value, rules);
  argRows.push(
    `| ${name} | ${JSON.stringify(value).length.toLocaleString('en-US')} B | ${fmt(riskUs)} | ${tags.join(', ') || 'none'} | ${fmt(redactUs)} |`,
  );
  process.stderr.write(`${argRows.at(-1)}\n`);
}

const load = loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');
const section = `<!-- signals:begin -->
## Detection signals: result classes and argument risk tags

\`npm run bench:signals -- --write\` (\`bench/content-signals.ts\`): CPU per call, in the process that
records the span, after the caller has its result (the medians of ${ROUNDS} rounds). Measured on
${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}, load average ${load} when it ran: the machine is
shared with other engineers' runs, so these are the figures as measured, not a quiet machine's.

Result scan (\`mcp_audit.result.pii.*\`, the redaction engine's detectors over a sample of
${DEFAULT_RESULT_SCAN_CHARS / 1024} KiB: a result that short whole, a larger one's first 64 KiB and windows
spread across the rest; whatever the capture mode). A large result is scanned one ~16 KiB piece per
event-loop turn, so the host is held at most for the longest step:

| result | size | scan per call | event loop | matches (classes) | redaction of the same result (its captured text stops at 4 KiB), for scale |
|---|---|---|---|---|---|
${resultRows.join('\n')}

Argument risk tags (\`mcp_audit.arguments.risk\`, from the raw arguments; the first 64 Ki
characters):

| arguments | size | tags per call | tags | redaction of the same arguments (paid on every call), for scale |
|---|---|---|---|---|
${argRows.join('\n')}
<!-- signals:end -->`;

if (process.argv.includes('--write')) {
  const doc = join(REPO_ROOT, 'docs', 'benchmarks.md');
  const text = readFileSync(doc, 'utf8');
  const marked = /<!-- signals:begin -->[\s\S]*?<!-- signals:end -->/;
  writeFileSync(doc, marked.test(text) ? text.replace(marked, section) : `${text.trimEnd()}\n\n${section}\n`);
  process.stderr.write(`wrote the section to ${doc}\n`);
} else {
  console.log(section);
}
