import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  BUILTIN_CLASS_NAMES,
  createRedactor,
  redactionOptionsFromEnv,
  type Redactor,
} from '../../src/redaction/redact.js';
import { builtinDetectors } from '../../src/redaction/detectors.js';
import { scanText } from '../../src/redaction/scanner.js';

interface Secret {
  class: string;
  value: string;
}
const corpus = JSON.parse(
  readFileSync(new URL('../fixtures/secrets-corpus.json', import.meta.url), 'utf8'),
) as {
  secrets: Secret[];
  lookalikes: string[];
};

const r = createRedactor({ hashKey: 'test-key' });

/** Every string and key in a value, so a secret split across JSON escaping is still found. */
function allText(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) allText(x, out);
  else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      out.push(k);
      allText(x, out);
    }
  } else if (v !== undefined) out.push(String(v));
  return out;
}

function asciiReading(s: string): string {
  return s
    .normalize('NFKC')
    .replace(/\p{Cf}/gu, '')
    .replace(/[\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) - 0x660));
}

/** The parts of a corpus value that must never be visible, including partial and digit-only forms. */
function fingerprints(s: Secret): string[] {
  let core = s.value;
  if (s.class === 'url_password') core = /^[^:]+:\/\/[^:/@]*:(.+)@[^@]*$/.exec(s.value)![1]!;
  if (s.class === 'bearer') core = s.value.replace(/^(Bearer|Basic)\s+/, '');
  if (s.value.startsWith('https://hooks.slack.com/services/'))
    core = s.value.slice('https://hooks.slack.com/services/'.length);
  const out = new Set([core]);
  // Evasion forms (fullwidth or Arabic-Indic digits, zero-width and other format characters)
  // are also checked in their plain ASCII reading.
  const plain = asciiReading(core);
  if (plain !== core) out.add(plain);
  if (['card', 'ssn', 'phone'].includes(s.class)) out.add(plain.replace(/[^0-9]/g, ''));
  if (s.class === 'iban') out.add(plain.replace(/[^A-Za-z0-9]/g, ''));
  if (core.length >= 24 && !['email', 'url_password', 'private_key'].includes(s.class)) {
    out.add(core.slice(-12));
    out.add(core.slice(Math.floor(core.length / 2) - 6, Math.floor(core.length / 2) + 6));
  }
  return [...out];
}

// prettier-ignore
const KEY_STYLES = [
  'password', 'PASSWORD', 'Password', 'passwd', 'pwd', 'secret', 'client_secret', 'clientSecret', 'token',
  'access_token', 'accessToken', 'refresh-token', 'session_token', 'api_key', 'apiKey', 'API-Key', 'X_API_KEY',
  'x-api-key', 'apikey', 'authorization', 'Authorization', 'cookie', 'Set-Cookie', 'private_key', 'privateKey',
  'credentials', 'db.password', 'DB_PASSWORD', 'aws_secret_access_key', 'GITHUB_TOKEN', 'proxy-authorization',
  'x-amz-security-token', 'sig',
];

function textShapes(s: string): Array<[string, unknown]> {
  return [
    ['bare', s],
    ['prose', `Hi team, please use ${s} for the migration.`],
    ['sql', `SELECT * FROM accounts WHERE ref = '${s}' LIMIT 1`],
    ['url', `https://api.example.com/v1/lookup?q=${s}&page=2`],
    ['nested', { a: { b: [{ c: s }] } }],
    ['array', [1, s, 'x', null]],
    ['json-in-string', JSON.stringify({ note: s, n: 1 })],
    ['multiline', `line one\n${s}\nline three`],
  ];
}

function numberShape(s: Secret): unknown {
  if (s.class !== 'card' && s.class !== 'ssn') return undefined;
  const digits = asciiReading(s.value).replace(/[^0-9]/g, '');
  if (digits.startsWith('0')) return undefined; // a number cannot carry the leading zero
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : BigInt(digits);
}

function assertHidden(red: Redactor, input: unknown, s: Secret, where: string, labels: string[]): void {
  const v = red.value(input);
  const j = red.json(input);
  assert.ok(j.text !== undefined, where);
  const texts = [...allText(v.value), ...allText(JSON.parse(j.text)), j.text];
  for (const fp of fingerprints(s)) {
    for (const t of texts)
      assert.ok(!t.includes(fp), `${where}: "${fp}" survived in ${JSON.stringify(t).slice(0, 200)}`);
  }
  assert.ok(v.count >= 1 && j.count >= 1, `${where}: count ${v.count}/${j.count}`);
  assert.ok(
    labels.some((l) => j.text!.includes(`[REDACTED:${l}]`)),
    `${where}: none of ${labels.join('/')} in ${j.text.slice(0, 300)}`,
  );
}

describe('corpus', () => {
  test('fixture has the agreed shape and size', () => {
    assert.ok(corpus.secrets.length >= 200);
    assert.ok(corpus.lookalikes.length >= 60);
    for (const s of corpus.secrets)
      assert.ok((BUILTIN_CLASS_NAMES as readonly string[]).includes(s.class), s.class);
    for (const name of BUILTIN_CLASS_NAMES)
      assert.ok(
        corpus.secrets.some((s) => s.class === name),
        `no ${name} sample`,
      );
  });

  test('every secret is masked with its class in every shape, and under every key style', () => {
    let checks = 0;
    for (const s of corpus.secrets) {
      for (const [shape, input] of textShapes(s.value)) {
        assertHidden(r, input, s, `${s.class} ${shape} ${s.value.slice(0, 40)}`, [s.class]);
        checks++;
      }
      const asNumber = numberShape(s);
      if (asNumber !== undefined) {
        assertHidden(r, { amount: 12.5, ref: asNumber }, s, `${s.class} as number`, [s.class]);
        checks++;
      }
      for (const key of KEY_STYLES) {
        assert.deepEqual(r.value({ [key]: s.value, ok: 1 }), {
          value: { [key]: '[REDACTED:key]', ok: 1 },
          count: 1,
          truncated: false,
        });
        checks++;
      }
      // key=value and "key": "value" inside text: masked either by its own class or as a key value.
      for (const line of [`export API_KEY=${s.value}`, `{"client_secret": "${s.value}"}`]) {
        assertHidden(r, line, s, `${s.class} inline ${line.slice(0, 40)}`, [s.class, 'key']);
        checks++;
      }
    }
    const lookalikeResult = lookalikeFalsePositives();
    console.log(
      `redaction: ${corpus.secrets.length} secrets masked in ${checks} shapes, ` +
        `${lookalikeResult.masked}/${corpus.lookalikes.length} lookalikes masked ` +
        `(${((100 * lookalikeResult.masked) / corpus.lookalikes.length).toFixed(1)}% false positives)`,
    );
    assert.deepEqual(lookalikeResult.examples, []);
  });

  function lookalikeFalsePositives(): { masked: number; examples: string[] } {
    const examples: string[] = [];
    let masked = 0;
    for (const l of corpus.lookalikes) {
      const shapes = textShapes(l);
      if (/^[1-9][0-9]*(\.[0-9]+)?$/.test(l)) shapes.push(['number', { n: Number(l) }]);
      let hit = false;
      for (const [shape, input] of shapes) {
        const out = r.value(input);
        const j = r.json(input);
        if (
          out.count !== 0 ||
          j.count !== 0 ||
          JSON.stringify(out.value) !== JSON.stringify(input) ||
          j.text !== JSON.stringify(input)
        ) {
          hit = true;
          examples.push(`${shape}: ${l} -> ${JSON.stringify(out.value)}`);
        }
      }
      if (hit) masked++;
    }
    return { masked, examples };
  }

  test('lookalikes survive unchanged in every shape', () => {
    for (const l of corpus.lookalikes) {
      for (const [, input] of textShapes(l))
        assert.deepEqual(r.value(input), { value: input, count: 0, truncated: false });
      assert.deepEqual(r.string(l), { text: l, count: 0 });
    }
  });
});

describe("seed example (Defender's Note)", () => {
  test('column names are not PII', () => {
    const args = {
      sql: 'SELECT name, email, ssn FROM customers WHERE balance > 100000',
      database: 'production',
    };
    assert.deepEqual(r.value(args), { value: args, count: 0, truncated: false });
    assert.deepEqual(r.json(args), { text: JSON.stringify(args), count: 0, truncated: false });
  });

  test('literal values in the WHERE clause are masked, the SQL stays readable', () => {
    const args = {
      sql: "SELECT name FROM customers WHERE email = 'sarah@example.com' AND ssn = '412-55-1234'",
      database: 'production',
    };
    assert.deepEqual(r.value(args), {
      value: {
        sql: "SELECT name FROM customers WHERE email = '[REDACTED:email]' AND ssn = '[REDACTED:ssn]'",
        database: 'production',
      },
      count: 2,
      truncated: false,
    });
  });
});

describe('masking rules', () => {
  test('url passwords keep scheme, user, host and path', () => {
    assert.deepEqual(r.string('postgres://app:s3cr3t@db.example.com:5432/app?sslmode=require'), {
      text: 'postgres://app:[REDACTED:url_password]@db.example.com:5432/app?sslmode=require',
      count: 1,
    });
    assert.deepEqual(r.string('redis://:pw-2026@cache:6379'), {
      text: 'redis://:[REDACTED:url_password]@cache:6379',
      count: 1,
    });
  });

  test('auth headers keep the scheme word; inline key/value pairs are masked in text', () => {
    assert.deepEqual(
      r.string(
        'curl -H "Authorization: Bearer abc123def456" "https://x.example.com/cb?code=1&access_token=opaque&page=2"',
      ),
      {
        text: 'curl -H "Authorization: Bearer [REDACTED:bearer]" "https://x.example.com/cb?code=1&access_token=[REDACTED:key]&page=2"',
        count: 2,
      },
    );
    assert.deepEqual(r.string('Cookie: sid=abc; theme=dark\nHost: x'), {
      text: 'Cookie: [REDACTED:key]\nHost: x',
      count: 1,
    });
    assert.deepEqual(r.string('mysqldump --password hunter2 --user root db'), {
      text: 'mysqldump --password [REDACTED:key] --user root db',
      count: 1,
    });
    assert.deepEqual(r.string('{\\"password\\":\\"hunter2\\",\\"user\\":\\"a\\"}'), {
      text: '{\\"password\\":\\"[REDACTED:key]\\",\\"user\\":\\"a\\"}',
      count: 1,
    });
    assert.deepEqual(r.string('Server=db;Database=app;User Id=sa;Password=Str0ng!;'), {
      text: 'Server=db;Database=app;User Id=sa;Password=[REDACTED:key];',
      count: 1,
    });
  });

  test('SQL placeholders and templates under sensitive names are not values', () => {
    const sql = 'UPDATE users SET password = ? WHERE token = $1 AND api_key = :key AND secret = ${SECRET}';
    assert.deepEqual(r.string(sql), { text: sql, count: 0 });
  });

  test('sensitive keys mask every leaf below them, keep booleans and null, and keep shape', () => {
    const input = {
      user: 'sarah',
      credentials: { username: 'sarah', password: 'pw', mfa: true, backup: [123456, 'x'], note: null },
      max_tokens: 1024,
      token_count: 12,
      tokenizer: 'cl100k',
      author: 'Jane',
      remember_password: false,
    };
    assert.deepEqual(r.value(input), {
      value: {
        user: 'sarah',
        credentials: {
          username: '[REDACTED:key]',
          password: '[REDACTED:key]',
          mfa: true,
          backup: ['[REDACTED:key]', '[REDACTED:key]'],
          note: null,
        },
        max_tokens: 1024,
        token_count: 12,
        tokenizer: 'cl100k',
        author: 'Jane',
        remember_password: false,
      },
      count: 4,
      truncated: false,
    });
  });

  test('name/value pairs, header tuples and argv flags', () => {
    const input = {
      env: [
        { name: 'API_KEY', value: 'k-123' },
        { name: 'LOG_LEVEL', value: 'debug' },
      ],
      headers: [
        ['Authorization', 'Token abc'],
        ['Accept', 'application/json'],
      ],
      argv: ['node', 'app.js', '--token', 'abc', '--port', '8080'],
    };
    assert.deepEqual(r.value(input).value, {
      env: [
        { name: 'API_KEY', value: '[REDACTED:key]' },
        { name: 'LOG_LEVEL', value: 'debug' },
      ],
      headers: [
        ['Authorization', '[REDACTED:key]'],
        ['Accept', 'application/json'],
      ],
      argv: ['node', 'app.js', '--token', '[REDACTED:key]', '--port', '8080'],
    });
  });

  test('numbers matching a class become string masks; other numbers stay numbers', () => {
    assert.deepEqual(
      r.value({
        a: 4111111111111111,
        b: 412551234,
        c: 4155550132,
        d: 1710753263400,
        e: 48210.0,
        f: 6200000000000000000n,
      }),
      {
        value: {
          a: '[REDACTED:card]',
          b: '[REDACTED:ssn]',
          c: 4155550132,
          d: 1710753263400,
          e: 48210,
          f: '[REDACTED:card]',
        },
        count: 3,
        truncated: false,
      },
    );
  });

  test('keys that contain secrets are masked; collisions stay distinct', () => {
    assert.deepEqual(r.value({ 'sarah@example.com': 1, 'bob@example.com': 2, plain: 3 }), {
      value: { '[REDACTED:email]': 1, '[REDACTED:email]#2': 2, plain: 3 },
      count: 2,
      truncated: false,
    });
  });

  test('redaction is idempotent and re-redacting counts nothing', () => {
    const once = r.value({
      password: 'x',
      sql: "WHERE ssn = '412-55-1234'",
      u: 'postgres://a:b1234567@h/db',
    });
    assert.deepEqual(r.value(once.value), { value: once.value, count: 0, truncated: false });
  });

  test('counts are exact for a mixed payload', () => {
    const out = r.json({
      to: 'sarah@example.com',
      cc: ['bob@example.com', 'ops'],
      body: 'card 4111 1111 1111 1111, call +1 (415) 555-0132',
      apiKey: 'x',
    });
    assert.equal(out.count, 5);
    assert.equal(
      out.text,
      '{"to":"[REDACTED:email]","cc":["[REDACTED:email]","ops"],"body":"card [REDACTED:card], call [REDACTED:phone]","apiKey":"[REDACTED:key]"}',
    );
  });
});

describe('options', () => {
  test('extraPatterns, extraKeys and allowKeys', () => {
    const red = createRedactor({
      extraPatterns: [
        { name: 'employee_id', pattern: 'EMP-[0-9]{6}' },
        { name: 'ticket', pattern: /tkt_[a-z]+/i },
      ],
      extraKeys: ['customer_ref'],
      allowKeys: ['session_token'],
    });
    assert.deepEqual(
      red.value({
        note: 'EMP-123456 opened TKT_ABC',
        customerRef: 'c-9',
        session_token: 'opaque sarah@example.com',
        token: 't',
      }),
      {
        value: {
          note: '[REDACTED:employee_id] opened [REDACTED:ticket]',
          customerRef: '[REDACTED:key]',
          session_token: 'opaque [REDACTED:email]',
          token: '[REDACTED:key]',
        },
        count: 5,
        truncated: false,
      },
    );
    assert.deepEqual(red.string('customer_ref=c-9'), { text: 'customer_ref=[REDACTED:key]', count: 1 });
  });

  test('disableClasses turns off a built-in but never key masking', () => {
    const red = createRedactor({ disableClasses: ['phone', 'email'] });
    assert.deepEqual(red.value({ phone: '+1 415 555 0132', mail: 'sarah@example.com', password: 'x' }), {
      value: { phone: '+1 415 555 0132', mail: 'sarah@example.com', password: '[REDACTED:key]' },
      count: 1,
      truncated: false,
    });
  });

  test('bad configuration throws clear errors at creation', () => {
    assert.throws(
      () => createRedactor({ disableClasses: ['phones'] }),
      /unknown class "phones"; known classes: private_key, google_api_key, /,
    );
    assert.throws(() => createRedactor({ disableClasses: ['key'] }), /key-based masking cannot be disabled/);
    assert.throws(() => createRedactor({ maxBytes: 10 }), /maxBytes must be an integer between 64 and/);
    assert.throws(() => createRedactor({ maxDepth: 0 }), /maxDepth must be an integer/);
    assert.throws(
      () => createRedactor({ extraPatterns: [{ name: 'bad name', pattern: 'x' }] }),
      /name "bad name" must match/,
    );
    assert.throws(
      () => createRedactor({ extraPatterns: [{ name: 'x', pattern: '(' }] }),
      /"x" is not a valid regular expression/,
    );
    assert.throws(() => createRedactor({ extraKeys: ['--'] }), /extraKeys: "--" is not a usable key name/);
    assert.throws(() => createRedactor({ hashKey: '' }), /hashKey must be a non-empty/);
  });

  test('the built-in class list is exported: the core classes and every provider, each once', () => {
    for (const name of [
      'aws_access_key',
      'aws_secret',
      'bearer',
      'card',
      'email',
      'github_token',
      'iban',
      'jwt',
      'openai_key',
      'phone',
      'private_key',
      'slack_token',
      'ssn',
      'stripe_key',
      'url_password',
      'google_api_key',
      'gitlab_token',
      'npm_token',
      'pypi_token',
      'twilio_key',
      'sendgrid_key',
      'mailgun_key',
      'shopify_token',
      'square_token',
      'heroku_key',
      'digitalocean_token',
      'huggingface_token',
      'anthropic_key',
      'azure_secret',
      'databricks_token',
      'discord_token',
      'telegram_token',
      'atlassian_token',
      'linear_key',
      'notion_token',
      'doppler_token',
      'vault_token',
      'sentry_token',
      'grafana_token',
      'newrelic_key',
      'datadog_key',
    ])
      assert.ok(BUILTIN_CLASS_NAMES.includes(name), name);
    assert.equal(new Set(BUILTIN_CLASS_NAMES).size, BUILTIN_CLASS_NAMES.length);
    assert.equal(BUILTIN_CLASS_NAMES[0], 'private_key');
  });
});

describe('modes', () => {
  const input = { user: 'sarah@example.com', n: 42, ok: true, none: null, list: ['a', 'a'], password: 'pw' };

  test('hash: keyed, stable, correlatable, unreadable', () => {
    const a = createRedactor({ hashKey: 'k1' }).value(input, 'hash');
    const b = createRedactor({ hashKey: 'k1' }).value(input, 'hash');
    const c = createRedactor({ hashKey: new TextEncoder().encode('k2') }).value(input, 'hash');
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.value, c.value);
    const v = a.value as Record<string, unknown>;
    assert.deepEqual(Object.keys(v), Object.keys(input));
    for (const k of ['user', 'n', 'ok', 'password']) assert.match(String(v[k]), /^\[HASH:[0-9a-f]{12}\]$/);
    assert.equal(v.none, null);
    const list = v.list as string[];
    assert.equal(list[0], list[1]);
    const stringFortyTwo = createRedactor({ hashKey: 'k1' }).value({ n: '42' }, 'hash').value as Record<
      string,
      unknown
    >;
    assert.notEqual(v.n, stringFortyTwo.n, 'the number 42 and the string "42" hash differently');
    assert.equal(a.count, 2);
    assert.ok(!JSON.stringify(a.value).includes('sarah'));
  });

  test('hash without a key uses one random key per process', () => {
    assert.deepEqual(createRedactor().value('x', 'hash'), createRedactor().value('x', 'hash'));
  });

  test('shape: keys and types only', () => {
    assert.deepEqual(r.value({ ...input, big: 1n, when: new Date(0), bytes: new Uint8Array(3) }, 'shape'), {
      value: {
        user: '<string:17>',
        n: '<number>',
        ok: '<boolean>',
        none: null,
        list: ['<string:1>', '<string:1>'],
        password: '<string:2>',
        big: '<bigint>',
        when: '<date>',
        bytes: '[binary:3 bytes]',
      },
      count: 2,
      truncated: false,
    });
  });

  test('none: nothing captured', () => {
    assert.deepEqual(r.json(input, 'none'), { text: undefined, count: 0, truncated: false });
    assert.deepEqual(r.value(input, 'none'), { value: undefined, count: 0, truncated: false });
    assert.deepEqual(r.json(undefined), { text: undefined, count: 0, truncated: false });
  });

  test('an unknown mode from an untyped caller falls back to redacted', () => {
    assert.deepEqual(r.value({ password: 'x' }, 'raw' as never).value, { password: '[REDACTED:key]' });
  });
});

describe('limits', () => {
  const small = createRedactor({ maxBytes: 128 });

  function checkBounded(text: string | undefined, max: number): unknown {
    assert.ok(text !== undefined);
    assert.ok(Buffer.byteLength(text) <= max, `${Buffer.byteLength(text)} > ${max}: ${text}`);
    return JSON.parse(text);
  }

  test('long strings are cut with a marker and stay valid JSON within maxBytes', () => {
    const out = small.json({ sql: 'SELECT ' + 'x, '.repeat(200) + 'y FROM t', db: 'prod' });
    assert.equal(out.truncated, true);
    const parsed = checkBounded(out.text, 128) as { sql: string };
    assert.ok(parsed.sql.endsWith('…[truncated]'));
    assert.equal(Buffer.byteLength(out.text!), 128);
  });

  test('arrays and objects get a marker entry; multi-byte text is cut on a character boundary', () => {
    const arr = small.json(Array.from({ length: 100 }, (_, i) => i));
    assert.equal(arr.truncated, true);
    assert.deepEqual((checkBounded(arr.text, 128) as unknown[]).at(-1), '[truncated]');
    const obj = small.json(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i])));
    assert.equal((checkBounded(obj.text, 128) as Record<string, unknown>)['[truncated]'], true);
    const emoji = small.json({ s: '😀'.repeat(100) });
    const s = (checkBounded(emoji.text, 128) as { s: string }).s;
    assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(s));
  });

  test('a secret straddling the cut is masked, not half-shown', () => {
    for (let pad = 60; pad < 130; pad++) {
      const out = small.json({ a: 'x'.repeat(pad) + ' 4111 1111 1111 1111 sarah@example.com' });
      const parsed = checkBounded(out.text, 128) as { a: string };
      assert.ok(!/4111|1111|sarah|example/.test(parsed.a), parsed.a);
    }
  });

  test('maxDepth replaces deeper containers', () => {
    const red = createRedactor({ maxDepth: 3 });
    assert.deepEqual(red.value({ a: { b: { c: { d: 1 } }, s: 'x' } }), {
      value: { a: { b: { c: '[max depth]' }, s: 'x' } },
      count: 0,
      truncated: true,
    });
  });

  test('huge, sparse and 50 MB inputs finish with bounded output', () => {
    const sparse = new Array(1e9);
    sparse[5] = 'sarah@example.com';
    const out = r.json({ sparse });
    assert.equal(out.truncated, true);
    checkBounded(out.text, 4096);
    const big = {
      blob: 'a1 '.repeat(17 * 1024 * 1024),
      rows: Array.from({ length: 1e6 }, (_, i) => ({ id: i, email: 'sarah@example.com' })),
    };
    checkBounded(r.json(big).text, 4096);
    checkBounded(r.json(big, 'hash').text, 4096);
    checkBounded(r.json(big, 'shape').text, 4096);
    const v = r.value(big);
    assert.equal(v.truncated, true);
    assert.ok(JSON.stringify(v.value).length < 2 * 1024 * 1024);
    const s = r.string('x'.repeat(3 * 1024 * 1024) + ' sarah@example.com');
    assert.ok(s.text.endsWith('…[truncated]') && !s.text.includes('sarah'));
  });
});

describe('hostile input', () => {
  test('cycles, exotic types and throwing accessors never throw', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const shared = { v: 1 };
    const throwing = Object.defineProperty({ ok: 1 }, 'bad', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    const trap = () => {
      throw new Error('trap');
    };
    const hostileProxy = new Proxy(
      {},
      { ownKeys: trap, get: trap, getPrototypeOf: trap, has: trap, getOwnPropertyDescriptor: trap },
    );
    const { proxy: revoked, revoke } = Proxy.revocable({}, {});
    revoke();
    const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { password: 'x', a: 1 });
    const protoKey = JSON.parse('{"__proto__": {"password": "x"}, "b": 2}') as unknown;
    const input = {
      cyclic,
      pair: [shared, shared],
      big: 12n,
      buf: Buffer.from('secret'),
      u16: new Uint16Array(4),
      ab: new ArrayBuffer(8),
      dv: new DataView(new ArrayBuffer(2)),
      map: new Map<unknown, unknown>([
        ['password', 'x'],
        [1, 'sarah@example.com'],
        [{}, 'o'],
      ]),
      set: new Set(['a', 'sarah@example.com']),
      date: new Date(0),
      badDate: new Date(NaN),
      fn: () => 1,
      sym: Symbol('s'),
      throwing,
      hostileProxy,
      revoked,
      badToJSON: { toJSON: trap },
      emailToJSON: { toJSON: () => 'sarah@example.com' },
      nullProto,
      protoKey,
      boxed: [new String('sarah@example.com'), new Number(4111111111111111), new Boolean(true)],
      error: Object.assign(new Error('failed for sarah@example.com'), { code: 'E1' }),
      url: new URL('https://u:p4ssword@example.com/x'),
      nan: NaN,
      inf: -Infinity,
      undef: undefined,
    };
    const out = r.value(input);
    assert.deepEqual(out.value, {
      cyclic: { name: 'loop', self: '[circular]' },
      pair: [{ v: 1 }, { v: 1 }],
      big: '12',
      buf: '[binary:6 bytes]',
      u16: '[binary:8 bytes]',
      ab: '[binary:8 bytes]',
      dv: '[binary:2 bytes]',
      map: { password: '[REDACTED:key]', 1: '[REDACTED:email]', '[object]': 'o' },
      set: ['a', '[REDACTED:email]'],
      date: '1970-01-01T00:00:00.000Z',
      badDate: null,
      fn: '[function]',
      sym: '[symbol]',
      throwing: { ok: 1, bad: '[unreadable]' },
      hostileProxy: '[unreadable]',
      revoked: '[unreadable]',
      badToJSON: '[unreadable]',
      emailToJSON: '[REDACTED:email]',
      nullProto: { password: '[REDACTED:key]', a: 1 },
      protoKey: JSON.parse('{"__proto__": {"password": "[REDACTED:key]"}, "b": 2}'),
      boxed: ['[REDACTED:email]', '[REDACTED:card]', true],
      error: { name: 'Error', message: 'failed for [REDACTED:email]', code: 'E1' },
      url: 'https://u:[REDACTED:url_password]@example.com/x',
      nan: NaN,
      inf: -Infinity,
      undef: undefined,
    });
    assert.equal(out.count, 10);
    for (const mode of ['redacted', 'hash', 'shape'] as const) {
      const j = r.json(input, mode);
      assert.ok(j.text !== undefined && JSON.parse(j.text) !== undefined);
    }
    assert.equal(Object.getPrototypeOf(out.value), Object.prototype);
  });

  test('string() tolerates non-strings from untyped callers', () => {
    assert.deepEqual(r.string(12 as never), { text: '12', count: 0 });
    const bad = {
      toString: () => {
        throw new Error('x');
      },
    };
    assert.deepEqual(r.string(bad as never), { text: '[redaction failed]', count: 0 });
  });

  test('adversarial 1 MB strings: exact results, and scanner work linear in the input (no catastrophic backtracking)', () => {
    const MB = 1024 * 1024;
    // [input, masks expected from string()]: inputs that look like secrets piece by piece.
    const inputs: Array<[string, number]> = [
      ['a'.repeat(MB) + '@', 0],
      ['a.'.repeat(MB / 2) + '@x', 0],
      ['a@' + 'a.'.repeat(MB / 2), 0],
      ['1'.repeat(MB), 0],
      ['1 '.repeat(MB / 2), 0],
      ['1-'.repeat(MB / 2), 0],
      ['+1 '.repeat(MB / 3), 0],
      ['+1'.repeat(MB / 2), 0],
      ['(415) '.repeat(MB / 6), 0],
      ['DE89 '.repeat(MB / 5), 0],
      ['AAAA '.repeat(MB / 5), 0],
      ['-----BEGIN PRIVATE KEY-----'.repeat(MB / 27), 1],
      ['eyJ' + 'a'.repeat(MB), 0],
      ['password='.repeat(MB / 9), 1],
      ['"password":"'.repeat(MB / 12), 0],
      ['--token '.repeat(MB / 8), 0],
      ['x://a:'.repeat(MB / 6) + '@', 0],
      ['https://u:' + 'p'.repeat(MB) + ' @', 0],
      ['Bearer '.repeat(MB / 7), 0],
      ['sk-'.repeat(MB / 3), 0],
      ['ghp_' + 'a'.repeat(MB), 1],
      ['A1b/'.repeat(MB / 4), 0],
      ['a'.repeat(MB), 0],
      ['%2'.repeat(MB / 2), 0],
      ['4%20'.repeat(MB / 4), 1],
      ['4\u200b'.repeat(MB / 2), 1],
      ['\uff14 '.repeat(MB / 2), 1],
      ['AIza'.repeat(MB / 4), 0],
      ['12345:AA'.repeat(MB / 8), 0],
    ];
    const detectors = builtinDetectors(new Set());
    for (const [s, masks] of inputs) {
      const label = JSON.stringify(s.slice(0, 12));
      const out = r.string(s);
      assert.equal(out.count, masks, `${label}: ${out.count} masks`);
      // string() scans at most 1 MiB and marks the cut.
      const kept = s.length > MB ? s.slice(0, MB) + '…[truncated]' : s;
      if (masks === 0) assert.ok(out.text === kept, `${label} changed`);
      else assert.ok(out.text.length < s.length, `${label} not masked`);
      // Every regex execution and every card window counts a step; a quadratic scanner would
      // need millions of steps per input character here, a linear one stays below a dozen.
      const steps = { count: 0 };
      scanText(s, detectors, { fast: false, steps });
      assert.ok(steps.count <= 12 * s.length, `${label}: ${steps.count} steps for ${s.length} characters`);
    }
  });
});

describe('redactionOptionsFromEnv', () => {
  test('reads every variable', () => {
    assert.deepEqual(
      redactionOptionsFromEnv({
        MCP_AUDIT_REDACT_KEYS: 'customer_ref, internal-id ,',
        MCP_AUDIT_ALLOW_KEYS: 'session_token',
        MCP_AUDIT_REDACT_PATTERNS:
          '[{"name":"employee_id","pattern":"EMP-[0-9]{6}"},{"name":"ticket","pattern":"tkt_[a-z]+","flags":"i"}]',
        MCP_AUDIT_REDACT_DISABLE: 'phone',
        MCP_AUDIT_REDACT_MAX_BYTES: '8192',
      }),
      {
        extraKeys: ['customer_ref', 'internal-id'],
        allowKeys: ['session_token'],
        extraPatterns: [
          { name: 'employee_id', pattern: /EMP-[0-9]{6}/ },
          { name: 'ticket', pattern: /tkt_[a-z]+/i },
        ],
        disableClasses: ['phone'],
        maxBytes: 8192,
      },
    );
    assert.deepEqual(redactionOptionsFromEnv({}), {});
    assert.deepEqual(redactionOptionsFromEnv({ MCP_AUDIT_REDACT_KEYS: '  ' }), {});
    const red = createRedactor(
      redactionOptionsFromEnv({ MCP_AUDIT_REDACT_PATTERNS: '[{"name":"emp","pattern":"EMP-[0-9]+"}]' }),
    );
    assert.deepEqual(red.string('EMP-42'), { text: '[REDACTED:emp]', count: 1 });
  });

  test('bad values throw errors that name the variable', () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ MCP_AUDIT_REDACT_PATTERNS: '{' }, /MCP_AUDIT_REDACT_PATTERNS: not valid JSON/],
      [{ MCP_AUDIT_REDACT_PATTERNS: '{"name":"x"}' }, /MCP_AUDIT_REDACT_PATTERNS: expected a JSON array/],
      [{ MCP_AUDIT_REDACT_PATTERNS: '[{"name":"x"}]' }, /MCP_AUDIT_REDACT_PATTERNS: entry 0 must be/],
      [
        { MCP_AUDIT_REDACT_PATTERNS: '[{"name":"x","pattern":"("}]' },
        /MCP_AUDIT_REDACT_PATTERNS: entry 0 \("x"\): invalid regular expression/,
      ],
      [
        { MCP_AUDIT_REDACT_PATTERNS: '[{"name":"a b","pattern":"x"}]' },
        /MCP_AUDIT_REDACT_PATTERNS: entry 0: name "a b"/,
      ],
      [
        { MCP_AUDIT_REDACT_PATTERNS: '[{"name":"x","pattern":"x","flags":"g"}]' },
        /MCP_AUDIT_REDACT_PATTERNS: entry 0 \("x"\): flags/,
      ],
      [{ MCP_AUDIT_REDACT_DISABLE: 'phone,cards' }, /MCP_AUDIT_REDACT_DISABLE: unknown class "cards"/],
      [{ MCP_AUDIT_REDACT_DISABLE: 'key' }, /MCP_AUDIT_REDACT_DISABLE: key-based masking cannot be disabled/],
      [
        { MCP_AUDIT_REDACT_MAX_BYTES: '4k' },
        /MCP_AUDIT_REDACT_MAX_BYTES: must be an integer between 64 and \d+, got "4k"/,
      ],
      [{ MCP_AUDIT_REDACT_MAX_BYTES: '10' }, /MCP_AUDIT_REDACT_MAX_BYTES: must be an integer/],
    ];
    for (const [env, message] of bad) assert.throws(() => redactionOptionsFromEnv(env), message);
  });
});
