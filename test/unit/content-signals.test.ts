// The detection signals derived at the source: classes of personal data in a result, risk tags of
// raw arguments. They must name what a call touched and never carry any of its text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClassifier } from '../../src/redaction/classify.js';
import { BUILTIN_CLASS_NAMES, KEY_CLASS } from '../../src/redaction/detectors.js';
import {
  classifyResult,
  DEFAULT_RESULT_SCAN_CHARS,
  RESULT_SCAN_HEAD_CHARS,
  validScanChars,
} from '../../src/instrumentation/content-signals.js';
import { argumentRisk, compileArgumentRisk, RISK_TAGS } from '../../src/instrumentation/argument-risk.js';
import { DEFAULT_ARGUMENT_RISK, DEFAULT_EGRESS_TOOLS } from '../../src/instrumentation/signal-defaults.js';
import fc from '../support/property.js';

const classifier = createClassifier();
const rules = compileArgumentRisk(DEFAULT_ARGUMENT_RISK, DEFAULT_EGRESS_TOOLS);

test('a small result with personal data: its classes and counts, sorted, no values', () => {
  const rows = [
    { name: 'Ada Byron', email: 'ada@example.org', ssn: '123-45-6789' },
    { name: 'Alan Turing', email: 'alan@example.org', card: '4111 1111 1111 1111' },
  ];
  const found = classifyResult(
    { content: [{ type: 'text', text: JSON.stringify(rows) }] },
    classifier,
    1 << 20,
  );
  assert.deepEqual(found.classes, ['card', 'email', 'ssn']);
  assert.deepEqual(found.counts, [1, 2, 1]);
  assert.equal(found.total, 4);
});

test('values under sensitive keys count as class key; ordinary results count nothing', () => {
  assert.deepEqual(classifyResult({ api_key: 'hunter2', ok: true }, classifier, 1 << 20).classes, ['key']);
  // Under a sensitive key, a value a detector knows is counted by its class.
  assert.deepEqual(classifyResult({ ssn: '412-55-1234' }, classifier, 1 << 20).classes, ['ssn']);
  const plain = classifyResult(
    { rows: [{ name: 'Sarah', balance: 48210, city: 'Leeds' }] },
    classifier,
    1 << 20,
  );
  assert.deepEqual(plain, { classes: [], counts: [], total: 0 });
});

test('a long string is scanned in windows: every match counted once, none twice at a cut', () => {
  // 5,000 addresses of varying length in one 150 KB string: many straddle a window boundary.
  const emails = Array.from({ length: 5000 }, (_, i) => `customer${i * 7}@example.com`);
  const found = classifyResult(emails.join(', '), classifier, 1 << 20);
  assert.deepEqual(found, { classes: ['email'], counts: [5000], total: 5000 });
  // And across many leaves joined into pieces.
  const rows = emails.map((email, i) => ({ id: i, email }));
  assert.equal(classifyResult({ rows }, classifier, 1 << 20).total, 5000);
});

test('the scan is a bounded prefix: a match past the limit is not seen', () => {
  const text = 'x'.repeat(5000) + ' ada@example.org';
  assert.equal(classifyResult(text, classifier, 4096).total, 0);
  assert.equal(classifyResult(text, classifier, 8192).total, 1);
  // Many empty containers cost budget too.
  const wide = Array.from({ length: 100_000 }, () => ({}));
  assert.equal(classifyResult(wide, classifier, 1000).total, 0);
});

test('risk tags: system and credential paths, whole-table reads, egress outside the allow-list', () => {
  const tags = (tool: string, args: unknown) => argumentRisk(tool, args, rules);
  assert.deepEqual(tags('file_write', { path: '/etc/cron.d/backdoor', content: 'x' }), ['system_path']);
  assert.deepEqual(tags('file_write', { path: '/tmp/../etc/passwd' }), ['system_path']);
  assert.deepEqual(tags('file_read', { path: '../../etc/shadow' }), ['system_path']);
  assert.deepEqual(tags('file_read', { path: '/home/sarah/.ssh/id_rsa' }), ['system_path']);
  assert.deepEqual(tags('file_write', { path: '~/.ssh/authorized_keys' }), ['system_path']);
  assert.deepEqual(tags('file_write', { path: 'C:\\Windows\\System32\\drivers\\etc\\hosts' }), [
    'system_path',
  ]);
  assert.deepEqual(tags('file_write', { path: '/notes/todo.txt' }), []);
  assert.deepEqual(tags('file_write', { path: '/etcetera/notes.txt' }), []);
  assert.deepEqual(tags('db_query', { sql: 'SELECT * FROM customers' }), ['unbounded_read']);
  assert.deepEqual(tags('db_query', { sql: 'select id, ssn from customers -- where id = 1' }), [
    'unbounded_read',
  ]);
  assert.deepEqual(tags('db_query', { sql: 'SELECT name FROM customers WHERE id = 4471' }), []);
  assert.deepEqual(tags('db_query', { sql: 'SELECT id FROM customers ORDER BY id LIMIT 25 OFFSET 50' }), []);
  assert.deepEqual(tags('db_query', { sql: 'SELECT count(*) FROM customers' }), []);
  assert.deepEqual(tags('db_query', { sql: "SELECT * FROM t WHERE note = 'no where here'" }), []);
  assert.deepEqual(tags('http_post', { url: 'https://collector.evil.example.net/drop', body: '{}' }), [
    'egress_unlisted',
  ]);
  assert.deepEqual(tags('email_send', { to: 'ops@example.com', body: 'ok' }), []);
  assert.deepEqual(tags('email_send', { to: 'x@mailinator.test', body: 'ok' }), ['egress_unlisted']);
  // Only egress tools are checked against the allow-list.
  assert.deepEqual(tags('db_query', { note: 'see https://elsewhere.test/' }), []);
});

test('no argument or result text ever reaches a signal: tags are the vocabulary, classes detector names', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 60 }), (secret, path) => {
      const args = { path: `/etc/${path}`, sql: `SELECT * FROM ${secret}`, url: `https://${secret}.test/` };
      for (const tag of argumentRisk('http_post', args, rules)) {
        assert.ok((RISK_TAGS as readonly string[]).includes(tag), tag);
      }
      const found = classifyResult({ text: `${secret} ${secret}@example.org` }, classifier, 1 << 20);
      for (const cls of found.classes) {
        assert.match(cls, /^[a-z][a-z0-9_]*$/);
        if (secret.length > 3) assert.ok(!cls.includes(secret), cls);
      }
    }),
  );
});

// The vocabulary a signal may hold: the built-in detectors' class names and `key`. A class name
// from this set is no text of the result, whatever the result held.
const CLASS_VOCABULARY = new Set<string>([...BUILTIN_CLASS_NAMES, KEY_CLASS]);
const PERSONAL = ['sarah.chen@example.com', '412-55-1234', '+1-415-555-0134', '4111 1111 1111 1111'];

test('any result: classes only from the detectors’ vocabulary, counts whole and aligned', () => {
  const leaf = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom(...PERSONAL),
    fc.integer(),
    fc.boolean(),
  );
  const result = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small' },
      leaf,
      fc.array(tie('node'), { maxLength: 5 }),
      fc.dictionary(
        fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('ssn', 'api_key', 'email')),
        tie('node'),
        {
          maxKeys: 5,
        },
      ),
    ),
  })).node;
  fc.assert(
    fc.property(result, (value) => {
      const found = classifyResult(value, classifier, 1 << 20);
      assert.deepEqual(found.classes, [...new Set(found.classes)].sort());
      assert.equal(found.counts.length, found.classes.length);
      for (const cls of found.classes) assert.ok(CLASS_VOCABULARY.has(cls), `${cls} is not a class name`);
      for (const n of found.counts) assert.ok(Number.isSafeInteger(n) && n > 0);
      assert.equal(
        found.total,
        found.counts.reduce((a, b) => a + b, 0),
      );
    }),
  );
});

test('any arguments: risk tags only from the vocabulary, sorted and unique, never argument text', () => {
  const paths = fc.constantFrom(
    '/etc/passwd',
    '~/.ssh/id_rsa',
    'C:\\Windows\\x',
    '/notes/a.txt',
    '../../etc/x',
  );
  const sql = fc.constantFrom('SELECT * FROM customers', 'select id from t where id = 1', 'DELETE FROM t');
  const url = fc.constantFrom('https://paste.example.net/x', 'https://example.com/ok', 'mailto:x@evil.test');
  const tool = fc.constantFrom('file_write', 'db_query', 'http_post', 'email_send', 'anything');
  const args = fc.anything({ maxDepth: 3, values: [fc.string(), paths, sql, url, fc.integer()] });
  fc.assert(
    fc.property(tool, args, (name, value) => {
      const tags = argumentRisk(name, value, rules);
      assert.deepEqual(tags, [...new Set(tags)].sort());
      for (const tag of tags) assert.ok((RISK_TAGS as readonly string[]).includes(tag), tag);
    }),
  );
});

// A large result is read in a bounded sample: its head whole, then windows spread across the rest.
// A budget well below the results below, so they are sampled.
const SAMPLED = 96 * 1024;
const FILLER = 'lorem ipsum dolor sit amet, consectetur adipiscing elit; ';
const filler = (chars: number) => FILLER.repeat(Math.ceil(chars / FILLER.length)).slice(0, chars);

test('a large result: anything in its first 64 KiB is always found', () => {
  const text = filler(1 << 20);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: RESULT_SCAN_HEAD_CHARS - 40 }), (at) => {
      const result = {
        content: [{ type: 'text', text: `${text.slice(0, at)} ada@example.org ${text.slice(at)}` }],
      };
      const found = classifyResult(result, classifier, DEFAULT_RESULT_SCAN_CHARS);
      assert.deepEqual(found, { classes: ['email'], counts: [1], total: 1 });
    }),
    { numRuns: 25 },
  );
});

test('a large customer dump with personal data only past the head: the sampled windows find it', () => {
  // 200 KB of rows without personal data, then 1 MB of customer rows: one text, and as structured rows.
  const plainRows = Array.from({ length: 5000 }, (_, i) => ({ id: i, city: 'Leeds', balance: 48210 + i }));
  const customers = Array.from({ length: 9000 }, (_, i) => ({
    id: 5000 + i,
    name: `Customer ${i}`,
    email: `customer${i}@example.com`,
    phone: `+1-415-555-${String(1000 + (i % 9000)).padStart(4, '0')}`,
  }));
  const rows = [...plainRows, ...customers];
  const text = JSON.stringify({ rows });
  assert.ok(text.indexOf('@') > 2 * RESULT_SCAN_HEAD_CHARS, 'no personal data in the head');
  for (const result of [{ content: [{ type: 'text', text }] }, { structuredContent: { rows } }]) {
    const found = classifyResult(result, classifier, SAMPLED);
    assert.deepEqual(found.classes, ['email', 'phone']);
    // A sample: some of the 9,000 of each, never more.
    for (const n of found.counts) assert.ok(n > 50 && n < 9000, `${n}`);
  }
  // A budget as large as the result reads all of it.
  const all = classifyResult({ content: [{ type: 'text', text }] }, classifier, text.length + 1024);
  assert.deepEqual(all, { classes: ['email', 'phone'], counts: [9000, 9000], total: 18000 });
});

test('a sample finds nothing the whole scan does not: no class made of part of a value, nothing twice', () => {
  // Words separated by spaces only, so windows are often cut mid-value (no boundary in reach).
  const word = fc.constantFrom(
    'lorem',
    'ipsum',
    '12345',
    'ada@example.org',
    '412-55-1234',
    '4111 1111 1111 1111',
    '+1-415-555-0134',
    'GB82 WEST 1234 5698 7654 32',
    'AKIAIOSFODNN7EXAMPLE',
    'Bearer abcDEF1234567890xyz',
  );
  fc.assert(
    fc.property(
      fc.array(word, { minLength: 50, maxLength: 50 }),
      fc.integer({ min: 20_000, max: 30_000 }),
      (words, times) => {
        const text = Array.from({ length: times }, (_, i) => words[i % words.length]).join(' ');
        const whole = classifyResult(text, classifier, text.length + 1);
        const sampled = classifyResult(text, classifier, SAMPLED);
        for (const [i, cls] of sampled.classes.entries()) {
          const j = whole.classes.indexOf(cls);
          assert.ok(j >= 0, `${cls} found only by the sample`);
          assert.ok(sampled.counts[i]! <= whole.counts[j]!, cls);
        }
        assert.ok(text.length > 2 * SAMPLED && sampled.total <= whole.total);
      },
    ),
    { numRuns: 8 },
  );
  // Long digit runs between spaces: a window cut inside one leaves a shorter run that can pass as a
  // card or an SSN. A match at such a cut is not counted.
  let seed = 12345;
  const digit = () => String((seed = (seed * 1103515245 + 12345) % 2147483648) % 10);
  const runs = Array.from({ length: 20_000 }, () => Array.from({ length: 24 }, digit).join(''));
  const whole = classifyResult(runs.join(' ref '), classifier, Infinity);
  // Leading spaces move every window: each puts its cuts elsewhere in the runs.
  for (let lead = 0; lead < 24; lead++) {
    const text = ' '.repeat(lead) + runs.join(' ref ');
    const sampled = classifyResult(text, classifier, SAMPLED);
    for (const cls of sampled.classes)
      assert.ok(whole.classes.includes(cls), `${cls} found only by the sample`);
    assert.ok(sampled.total <= whole.total, `${sampled.total} > ${whole.total}`);
  }
});

test('the work is bounded by the budget, not by the result', () => {
  let scanned = 0;
  const counting = {
    ...classifier,
    matches: (text: string) => {
      scanned += text.length;
      return classifier.matches(text);
    },
  };
  const rows = Array.from({ length: 200_000 }, (_, i) => ({ id: i, note: `row ${i} of many` }));
  for (const result of ['x'.repeat(10 << 20), filler(10 << 20), { rows }]) {
    for (const budget of [DEFAULT_RESULT_SCAN_CHARS, 16 * 1024, 256 * 1024]) {
      scanned = 0;
      classifyResult(result, counting, budget);
      // Widening each window to a boundary and the overlap between pieces add a little.
      assert.ok(scanned <= budget * 1.25 + 2048, `${scanned} characters scanned for a budget of ${budget}`);
      assert.ok(scanned >= budget * 0.5, `${scanned} characters scanned for a budget of ${budget}`);
    }
  }
});

test('the resultScanChars setting: a whole number, else a clear warning and the default', () => {
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  assert.equal(validScanChars(undefined, warn), undefined);
  assert.equal(validScanChars(0, warn), 0);
  assert.equal(validScanChars(262_144, warn), 262_144);
  assert.deepEqual(warnings, []);
  for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '65536', null]) {
    assert.equal(validScanChars(bad, warn), undefined);
  }
  assert.equal(warnings.length, 6);
  for (const w of warnings)
    assert.match(
      w,
      /^mcp-audit: ignoring resultScanChars .* \(not a whole number >= 0\); using the default$/,
    );
});
