// End to end through the real collector (otelcol-mcp), Jaeger and Prometheus: spans sent
// straight to the collector's OTLP/HTTP receiver, bypassing any SDK redaction, come out
// with every PII value masked (Jaeger API, audit file, the collector's evidence-log exporter
// as received by a plain HTTP endpoint at the sink's address, Prometheus labels), and the
// tools/call spans become the per-session metrics (mcp_audit_tool_calls_total and the rest,
// per session, tool and caller) with the exact names, labels and values.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  REPO_ROOT,
  jaegerTraces,
  promQuery,
  promSeries,
  readAuditFile,
  startStack,
  waitFor,
  type Stack,
} from '../support/stack.js';
import { TRANSFORMS, leak } from '../support/evasion.js';
import { loadIndependentCorpus } from '../support/corpus-rates.js';

interface Secret {
  class: string;
  value: string;
}

// Our own corpus (≥ 30 values over every class the collector masks). Values are fake.
const CORPUS: Secret[] = [
  { class: 'ssn', value: '123-45-6789' },
  { class: 'ssn', value: '078-05-1120' },
  { class: 'ssn', value: '219 09 9999' },
  { class: 'card', value: '4111 1111 1111 1111' },
  { class: 'card', value: '5500-0000-0000-0004' },
  { class: 'card', value: '378282246310005' },
  { class: 'card', value: '6011000990139424' },
  { class: 'email', value: 'jane.doe@example.com' },
  { class: 'email', value: 'ops+alerts@corp.example.org' },
  { class: 'phone', value: '+1 415-555-0132' },
  { class: 'phone', value: '(212) 555-0187' },
  { class: 'phone', value: '+44 20 7946 0958' },
  { class: 'iban', value: 'GB82 WEST 1234 5698 7654 32' },
  { class: 'iban', value: 'DE89370400440532013000' },
  { class: 'aws_access_key', value: 'AKIAIOSFODNN7EXAMPLE' },
  { class: 'aws_access_key', value: 'ASIAY34FZKBOKMUTVV7A' },
  { class: 'aws_secret_key', value: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
  { class: 'github_token', value: 'ghp_16C7e42F292c6912E7710c838347Ae178B4a' },
  {
    class: 'github_token',
    value: 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ',
  },
  { class: 'slack_token', value: 'xoxb-2048-4096-AbCdEfGhIjKlMnOpQrStUvWx' },
  { class: 'stripe_key', value: 'sk_live_4eC39HqLyjWDarjtT1zdp7dc' },
  { class: 'stripe_key', value: 'rk_test_51H8xYzAbCdEfGhIjKlMnOp' },
  { class: 'openai_key', value: 'sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z' },
  { class: 'anthropic_key', value: 'sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz012345' },
  {
    class: 'jwt',
    value:
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
  },
  { class: 'bearer', value: 'opaqueBearerTokenValue0123' },
  { class: 'password_url', value: 'Sup3rS3cretDbPass' },
  { class: 'password_conn', value: 'ConnStr!Pass42' },
  { class: 'password_key', value: 'hunter2-corpus' },
  { class: 'api_key_key', value: 'k-9f8e7d6c5b4a39281706' },
  { class: 'token_key', value: 'tok_0a1b2c3d4e5f60718293' },
  { class: 'authorization_header', value: 'Digest-Opaque-Credential-777' },
  { class: 'cookie', value: 'sessionid=abcDEF123456ghiJKL' },
  {
    class: 'private_key',
    value: 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKjMzEfYyjiWA4R4',
  },
];

const PEM = `-----BEGIN PRIVATE KEY-----\n${CORPUS.find((s) => s.class === 'private_key')!.value}\n-----END PRIVATE KEY-----`;
const value = (cls: string, n = 0): string => CORPUS.filter((s) => s.class === cls)[n]!.value;

// The shared corpus of the SDK's redaction tests, when present: its secrets go through here too.
const FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'secrets-corpus.json');
const fixtureSecrets: Secret[] = existsSync(FIXTURE)
  ? ((JSON.parse(readFileSync(FIXTURE, 'utf8')) as { secrets?: Secret[] }).secrets ?? [])
  : [];

const runId = randomBytes(4).toString('hex');
const SERVICE = `e2e-collector-redaction-${runId}`;
const S1 = `sess-${runId}-1`;
const S2 = `sess-${runId}-2`;

type OtlpValue =
  | { stringValue: string }
  | { intValue: string }
  | { boolValue: boolean }
  | { arrayValue: { values: OtlpValue[] } }
  | { kvlistValue: { values: OtlpAttr[] } };
interface OtlpAttr {
  key: string;
  value: OtlpValue;
}
const str = (key: string, v: string): OtlpAttr => ({ key, value: { stringValue: v } });
const int = (key: string, v: number): OtlpAttr => ({ key, value: { intValue: String(v) } });
const bool = (key: string, v: boolean): OtlpAttr => ({ key, value: { boolValue: v } });

const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3 } as const;
const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
const T0 = BigInt(Date.now()) * 1_000_000n;
const ns = (ms: number): string => String(T0 + BigInt(ms) * 1_000_000n);

interface SpanSpec {
  traceId?: string;
  name: string;
  kind: number;
  attributes: OtlpAttr[];
  durationMs: number;
  status?: { code: number; message?: string };
  events?: Array<{ name: string; attributes: OtlpAttr[] }>;
}

function span(spec: SpanSpec): Record<string, unknown> {
  return {
    traceId: spec.traceId ?? hex(16),
    spanId: hex(8),
    name: spec.name,
    kind: spec.kind,
    startTimeUnixNano: ns(0),
    endTimeUnixNano: ns(spec.durationMs),
    attributes: spec.attributes,
    status: spec.status ?? { code: 0 },
    events: (spec.events ?? []).map((e) => ({ timeUnixNano: ns(1), name: e.name, attributes: e.attributes })),
  };
}

function toolCall(tool: string, session: string, extra: OtlpAttr[]): OtlpAttr[] {
  return [
    str('mcp.method.name', 'tools/call'),
    str('gen_ai.operation.name', 'execute_tool'),
    str('gen_ai.tool.name', tool),
    str('gen_ai.conversation.id', session),
    str('mcp_audit.server.name', 'pii-db'),
    ...extra,
  ];
}

const argumentsJson = JSON.stringify({
  query: `select * from customers where ssn = '${value('ssn')}' or email = '${value('email')}'`,
  card: value('card'),
  amex: value('card', 2),
  discover: value('card', 3),
  phone: value('phone'),
  contact: { phone: value('phone', 1), intl: value('phone', 2), email: value('email', 1) },
  iban: value('iban'),
  iban2: value('iban', 1),
  password: value('password_key'),
  api_key: value('api_key_key'),
  authToken: value('token_key'),
  dsn: `postgres://admin:${value('password_url')}@db.internal:5432/crm`,
  conn: `Server=db;User Id=sa;Password=${value('password_conn')};`,
  headers: { Authorization: `Bearer ${value('bearer')}`, Cookie: value('cookie') },
  aws: `aws_secret_access_key=${value('aws_secret_key')} id=${value('aws_access_key')}`,
  pem: PEM,
  note: `ssn ${value('ssn', 2)} and sts ${value('aws_access_key', 1)}`,
  fixture: fixtureSecrets.map((s) => s.value),
});

const resultJson = JSON.stringify({
  content: [
    { type: 'text', text: `rows for ${value('email')}: card ${value('card', 1)}, ssn ${value('ssn', 1)}` },
  ],
  tokens: [value('github_token'), value('github_token', 1), value('slack_token')],
  keys: `${value('stripe_key')} ${value('stripe_key', 1)} ${value('openai_key')} ${value('anthropic_key')}`,
  jwt: value('jwt'),
});

const spans = (): Array<Record<string, unknown>> => {
  const tracedCall = hex(16);
  return [
    // A: client side, counted; carries PII everywhere.
    span({
      traceId: tracedCall,
      name: `tools/call db_query ${value('ssn')}`,
      kind: SPAN_KIND.CLIENT,
      durationMs: 200,
      attributes: toolCall('db_query', S1, [
        str('enduser.id', 'user:sarah'),
        int('mcp_audit.result.size', 1000),
        str('gen_ai.tool.call.arguments', argumentsJson),
        str('gen_ai.tool.call.result', resultJson),
        str('mcp_audit.result.summary', JSON.stringify({ text: 1, owner: value('email', 1), rows: 3 })),
        str(
          'mcp.resource.uri',
          `https://svc:${value('password_url')}@files.internal/x?token=${value('token_key')}&api_key=${value('api_key_key')}`,
        ),
        str('http.request.header.authorization', value('authorization_header')),
        str('db.password', value('password_key')),
        {
          key: 'mcp_audit.tags',
          value: { arrayValue: { values: [{ stringValue: `iban ${value('iban')}` }] } },
        },
      ]),
      events: [
        {
          name: `retry for ${value('email')}`,
          attributes: [
            str('exception.message', `token ${value('github_token')} rejected, jwt ${value('jwt')}`),
          ],
        },
      ],
    }),
    // D: server side of A, whose client is instrumented: not counted again.
    span({
      traceId: tracedCall,
      name: 'tools/call db_query',
      kind: SPAN_KIND.SERVER,
      durationMs: 150,
      attributes: toolCall('db_query', S1, [
        str('enduser.id', 'user:sarah'),
        int('mcp_audit.result.size', 1000),
        bool('mcp_audit.client.instrumented', true),
        str('gen_ai.tool.call.arguments', argumentsJson),
      ]),
    }),
    // B: client side, counted, an error.
    span({
      name: 'tools/call db_query',
      kind: SPAN_KIND.CLIENT,
      durationMs: 30,
      status: { code: 2, message: `denied for ${value('email')} (${value('phone')})` },
      attributes: toolCall('db_query', S1, [
        str('enduser.id', 'user:sarah'),
        str('error.type', 'tool_error'),
        int('mcp_audit.result.size', 0),
        str(
          'gen_ai.tool.call.arguments',
          JSON.stringify({ key: value('stripe_key'), note: value('slack_token') }),
        ),
      ]),
    }),
    // C: server side without an instrumented client, no caller: counted, caller="none".
    span({
      name: 'tools/call file_read',
      kind: SPAN_KIND.SERVER,
      durationMs: 1200,
      attributes: toolCall('file_read', S1, [
        int('mcp_audit.result.size', 5000),
        bool('mcp_audit.client.instrumented', false),
        str(
          'gen_ai.tool.call.arguments',
          JSON.stringify({ path: '/etc/app.env', secret: value('openai_key') }),
        ),
      ]),
    }),
    // G: a caller id holding an email: the label value comes out masked.
    span({
      name: 'tools/call db_query',
      kind: SPAN_KIND.CLIENT,
      durationMs: 5,
      attributes: toolCall('db_query', S2, [
        str('enduser.id', `user:${value('email')}`),
        int('mcp_audit.result.size', 64),
      ]),
    }),
    // Not tool calls / not countable kinds.
    span({
      name: 'tools/list',
      kind: SPAN_KIND.CLIENT,
      durationMs: 3,
      attributes: [str('mcp.method.name', 'tools/list'), str('gen_ai.conversation.id', S1)],
    }),
    span({
      name: 'tools/call db_query',
      kind: SPAN_KIND.INTERNAL,
      durationMs: 3,
      attributes: toolCall('db_query', S1, []),
    }),
  ];
};

const payload = (): unknown => ({
  resourceSpans: [
    {
      resource: {
        attributes: [
          str('service.name', SERVICE),
          str('host.owner', value('email', 1)),
          str('deployment.contact', value('phone', 2)),
        ],
      },
      scopeSpans: [{ scope: { name: 'collector-redaction-e2e' }, spans: spans() }],
    },
  ],
});

// The collector line on its own (spans straight to its receiver, no SDK redaction): every secret
// of the shared corpus in every evasion form of test/support/evasion.ts (one transform at a time,
// fixed seed), the look-alikes, and the independent corpus, each as one string attribute.
const EVASION_SERVICE = `e2e-collector-evasion-${runId}`;
// The look-alikes the collector masks although they hold no secret: it cannot run checksums
// (Luhn, mod-97, SSN structure) or tell an order id from a phone number, so it fails closed on
// the shape. Pinned so a change in either direction shows; docs/redaction.md gives the figure.
const COLLECTOR_LOOKALIKES_MASKED = 28;

interface EvasionCase {
  key: string;
  secret: Secret;
  input: string;
  form: string;
}

function evasionCases(): EvasionCase[] {
  let seed = 20260318;
  const rng = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const out: EvasionCase[] = [];
  for (const s of fixtureSecrets) {
    out.push({ key: `ev.${out.length}`, secret: s, input: s.value, form: 'plain' });
    for (const t of TRANSFORMS)
      if (t.applies(s))
        out.push({ key: `ev.${out.length}`, secret: s, input: t.apply(s, rng), form: t.name });
  }
  return out;
}

const EVASION = evasionCases();
const LOOKALIKES: string[] = existsSync(FIXTURE)
  ? ((JSON.parse(readFileSync(FIXTURE, 'utf8')) as { lookalikes?: string[] }).lookalikes ?? [])
  : [];
const INDEPENDENT = loadIndependentCorpus();

const evasionPayload = (): unknown => {
  const one = (name: string, attributes: OtlpAttr[]) =>
    span({ name, kind: SPAN_KIND.INTERNAL, durationMs: 1, attributes });
  return {
    resourceSpans: [
      {
        resource: { attributes: [str('service.name', EVASION_SERVICE)] },
        scopeSpans: [
          {
            scope: { name: 'collector-evasion-e2e' },
            spans: [
              one(
                'evasion forms',
                EVASION.map((c) => str(c.key, c.input)),
              ),
              one(
                'look-alikes',
                LOOKALIKES.map((l, i) => str(`la.${i}`, l)),
              ),
              one(
                'independent positives',
                INDEPENDENT.positives.map((p, i) => str(`ip.${i}`, p.value)),
              ),
              one(
                'independent negatives',
                INDEPENDENT.negatives.map((n, i) => str(`in.${i}`, n.value)),
              ),
            ],
          },
        ],
      },
    ],
  };
};

/** The string attributes of every span of `service` in the audit file, by key. */
function auditAttributes(service: string): Map<string, string> {
  const out = new Map<string, string>();
  type Rs = {
    resource?: { attributes?: OtlpAttr[] };
    scopeSpans?: Array<{ spans?: Array<{ attributes?: OtlpAttr[] }> }>;
  };
  for (const record of readAuditFile(stack.auditFilePath) as Array<{ resourceSpans?: Rs[] }>)
    for (const rs of record.resourceSpans ?? []) {
      const svc = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value;
      if (!svc || !('stringValue' in svc) || svc.stringValue !== service) continue;
      for (const ss of rs.scopeSpans ?? [])
        for (const sp of ss.spans ?? [])
          for (const a of sp.attributes ?? [])
            if ('stringValue' in a.value) out.set(a.key, a.value.stringValue);
    }
  return out;
}

const unmasked = (text: string): string => text.replace(/\[REDACTED:[a-z0-9_]+\]|\*\*\*\*/g, '[]');

/** Every string inside a parsed JSON value (keys included). */
function strings(node: unknown, out: string[] = []): string[] {
  if (typeof node === 'string') out.push(node);
  else if (Array.isArray(node)) for (const item of node) strings(item, out);
  else if (node && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) {
      out.push(k);
      strings(v, out);
    }
  return out;
}

function assertNoSecrets(where: string, texts: string[]): void {
  const leaks = [...CORPUS, ...fixtureSecrets, { class: 'pem', value: PEM }].filter((s) =>
    texts.some((t) => t.includes(s.value)),
  );
  assert.deepEqual(
    leaks.map((s) => `${s.class}: ${s.value}`),
    [],
    `${where} contains unredacted values`,
  );
}

let stack: Stack;
let sink: Server;
const sinkBodies: Array<{ path: string; contentType: string; body: string }> = [];

before(async () => {
  // A plain HTTP endpoint standing in for the network address of the evidence-log sink: it
  // records what the collector's otlp_http/evidence exporter really sends.
  sink = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      sinkBodies.push({
        path: req.url ?? '',
        contentType: req.headers['content-type'] ?? '',
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((ok) => sink.listen(0, '127.0.0.1', () => ok()));
  const sinkEndpoint = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  stack = await startStack({ withPrometheus: true, sinkEndpoint });

  const response = await fetch(`${stack.otlpHttpEndpoint}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload()),
  });
  assert.equal(response.status, 200, await response.text());
  const evasion = await fetch(`${stack.otlpHttpEndpoint}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(evasionPayload()),
  });
  assert.equal(evasion.status, 200, await evasion.text());
});

after(async () => {
  await stack?.stop();
  await new Promise<void>((ok) => (sink ? sink.close(() => ok()) : ok()));
});

test('Jaeger receives the spans with every PII value masked', async () => {
  const traces = await waitFor(
    async () => {
      const t = await jaegerTraces(stack.jaegerUrl, SERVICE);
      return t.reduce((n, tr) => n + tr.spans.length, 0) >= 7 && t;
    },
    { timeoutMs: 30_000, message: 'spans did not reach Jaeger' },
  );
  const texts = strings(traces);
  assertNoSecrets('Jaeger /api/traces', texts);
  const all = texts.join('\n');
  for (const mask of [
    '[REDACTED:ssn]',
    '[REDACTED:email]',
    '[REDACTED:card]',
    '[REDACTED:jwt]',
    '[REDACTED:github_token]',
    '[REDACTED:secret]',
    '[REDACTED:password]',
    '[REDACTED:private_key]',
  ]) {
    assert.ok(all.includes(mask), `expected ${mask} in Jaeger's answer`);
  }
  const names = traces.flatMap((t) => t.spans.map((s) => s.operationName));
  assert.ok(names.includes('tools/call db_query [REDACTED:ssn]'), `span name masked: ${names.join(', ')}`);
  // Whole values under secret-like keys are masked by the redaction processor.
  const tag = (key: string) =>
    traces.flatMap((t) => t.spans.flatMap((s) => s.tags.filter((g) => g.key === key).map((g) => g.value)));
  assert.deepEqual(tag('http.request.header.authorization'), ['****']);
  assert.deepEqual(tag('db.password'), ['****']);
});

test('the append-only audit file holds the spans with every PII value masked', async () => {
  const lines = await waitFor(
    () => {
      const parsed = readAuditFile(stack.auditFilePath);
      const spanCount = strings(parsed).filter((s) => s === SERVICE).length;
      return spanCount > 0 && JSON.stringify(parsed).split('"spanId"').length - 1 >= 7 && parsed;
    },
    { timeoutMs: 30_000, message: 'spans did not reach the audit file' },
  );
  assertNoSecrets('audit file', strings(lines));
  assertNoSecrets('audit file (raw)', [readFileSync(stack.auditFilePath, 'utf8')]);
});

test('the evidence-log sink receives OTLP/JSON with every PII value masked', async () => {
  await waitFor(() => sinkBodies.some((b) => b.body.includes(SERVICE)), {
    timeoutMs: 30_000,
    message: 'nothing reached the sink',
  });
  for (const b of sinkBodies) {
    assert.equal(b.path, '/v1/traces');
    assert.match(b.contentType, /application\/json/);
  }
  assertNoSecrets(
    'sink',
    sinkBodies.flatMap((b) => strings(JSON.parse(b.body))),
  );
});

test('the collector masks every corpus secret in every evasion form, and fails closed on a pinned number of look-alikes', async (t) => {
  const attrs = await waitFor(
    () => {
      const a = auditAttributes(EVASION_SERVICE);
      return a.size >= EVASION.length + LOOKALIKES.length && a;
    },
    { timeoutMs: 30_000, message: 'the evasion spans did not reach the audit file' },
  );
  assert.ok(
    EVASION.length > 2000 && LOOKALIKES.length > 100,
    `${EVASION.length} cases, ${LOOKALIKES.length} look-alikes`,
  );
  const leaks = EVASION.filter((c) => leak(c.secret, [unmasked(attrs.get(c.key) ?? c.input)]) !== undefined);
  const forms = new Map<string, number>();
  for (const c of EVASION) forms.set(c.form, (forms.get(c.form) ?? 0) + 1);
  t.diagnostic(
    `collector: ${EVASION.length - leaks.length}/${EVASION.length} evasion cases masked (${[...forms].map(([f, n]) => `${f} ${n}`).join(', ')})`,
  );
  assert.deepEqual(
    leaks.map(
      (c) => `${c.form} ${c.secret.class} ${JSON.stringify(c.input)} -> ${JSON.stringify(attrs.get(c.key))}`,
    ),
    [],
  );
  // A replacement template never shows through (`${1}` left in the text drops what it kept).
  const templates = [...attrs.values()].filter((v) => v.includes('${'));
  assert.deepEqual(templates, []);
  const masked = LOOKALIKES.filter((l, i) => attrs.get(`la.${i}`) !== l);
  t.diagnostic(
    `collector: ${masked.length}/${LOOKALIKES.length} look-alikes masked (fails closed on the shape)`,
  );
  assert.equal(masked.length, COLLECTOR_LOOKALIKES_MASKED, `masked look-alikes: ${JSON.stringify(masked)}`);
});

test('the collector masks every positive of the independent corpus; its changes to the negatives are counted', async (t) => {
  const attrs = await waitFor(
    () => {
      const a = auditAttributes(EVASION_SERVICE);
      return a.has(`in.${INDEPENDENT.negatives.length - 1}`) && a;
    },
    { timeoutMs: 30_000, message: 'the independent corpus did not reach the audit file' },
  );
  const survivors = INDEPENDENT.positives.filter(
    (p, i) =>
      leak({ class: p.class, value: p.secret ?? p.value }, [unmasked(attrs.get(`ip.${i}`) ?? p.value)]) !==
      undefined,
  );
  assert.deepEqual(
    survivors.map((p) => `${p.class} ${JSON.stringify(p.value)}`),
    [],
  );
  const changed = INDEPENDENT.negatives.filter((n, i) => attrs.get(`in.${i}`) !== n.value);
  t.diagnostic(
    `collector: ${changed.length}/${INDEPENDENT.negatives.length} independent negatives changed (no checksums in RE2: IBANs with a wrong check digit are masked)`,
  );
});

test('tools/call spans become the per-session metrics with the exact names and labels', async () => {
  const prom = stack.prometheusUrl!;
  const sel = `service_name="${SERVICE}"`;
  await waitFor(
    async () => (await promQuery(prom, `sum(mcp_audit_tool_calls_total{${sel}})`))[0]?.value[1] === '4',
    {
      timeoutMs: 45_000,
      message: 'mcp_audit_tool_calls_total did not reach 4',
    },
  );
  const one = async (expr: string): Promise<number> => {
    const r = await promQuery(prom, expr);
    assert.equal(r.length, 1, `${expr} → ${JSON.stringify(r)}`);
    return Number(r[0]!.value[1]);
  };

  // Session 1: A (client), B (client, error), C (server, no instrumented client); D not double counted.
  assert.equal(await one(`sum(mcp_audit_tool_calls_total{${sel},session_id="${S1}"})`), 3);
  assert.equal(await one(`sum(mcp_audit_tool_errors_total{${sel},session_id="${S1}"})`), 1);
  assert.equal(
    await one(
      `sum(mcp_audit_tool_errors_total{${sel},session_id="${S1}",error_type="tool_error",tool="db_query"})`,
    ),
    1,
  );
  assert.equal(await one(`sum(mcp_audit_result_bytes_total{${sel},session_id="${S1}"})`), 6000);
  assert.equal(await one(`sum(mcp_audit_result_size_bytes_count{${sel},session_id="${S1}"})`), 3);
  assert.equal(await one(`sum(mcp_audit_result_size_bytes_sum{${sel},session_id="${S1}"})`), 6000);
  assert.equal(await one(`sum(mcp_audit_result_size_bytes_bucket{${sel},session_id="${S1}",le="1024"})`), 2);
  assert.equal(await one(`sum(mcp_audit_result_size_bytes_bucket{${sel},session_id="${S1}",le="10240"})`), 3);
  assert.equal(await one(`sum(mcp_audit_tool_call_duration_seconds_count{${sel},session_id="${S1}"})`), 3);
  assert.equal(
    await one(`sum(mcp_audit_tool_call_duration_seconds_bucket{${sel},session_id="${S1}",le="0.25"})`),
    2,
  );
  assert.equal(
    await one(`sum(mcp_audit_tool_call_duration_seconds_bucket{${sel},session_id="${S1}",le="2.5"})`),
    3,
  );
  const durationSum = await one(`sum(mcp_audit_tool_call_duration_seconds_sum{${sel},session_id="${S1}"})`);
  assert.ok(Math.abs(durationSum - 1.43) < 1e-6, `duration sum ${durationSum}`);

  // A missing caller is the label value "none"; a server span without an instrumented client counts.
  assert.equal(
    await one(`mcp_audit_tool_calls_total{${sel},session_id="${S1}",tool="file_read",caller="none"}`),
    1,
  );
  // The caller label is redacted too.
  assert.equal(
    await one(`mcp_audit_tool_calls_total{${sel},session_id="${S2}",caller="user:[REDACTED:email]"}`),
    1,
  );

  // Exactly the contract's labels (plus Prometheus' job and instance), every one present.
  const expected = [
    '__name__',
    'caller',
    'error_type',
    'instance',
    'job',
    'server',
    'service_name',
    'session_id',
    'tool',
  ];
  for (const name of [
    'mcp_audit_tool_calls_total',
    'mcp_audit_tool_errors_total',
    'mcp_audit_result_bytes_total',
  ]) {
    const series = await promSeries(prom, `${name}{${sel}}`);
    assert.ok(series.length > 0, `no series for ${name}`);
    for (const s of series) assert.deepEqual(Object.keys(s).sort(), expected, `${name} labels`);
  }
  for (const name of ['mcp_audit_result_size_bytes_bucket', 'mcp_audit_tool_call_duration_seconds_bucket']) {
    const series = await promSeries(prom, `${name}{${sel}}`);
    assert.ok(series.length > 0, `no series for ${name}`);
    for (const s of series)
      assert.deepEqual(Object.keys(s).sort(), [...expected, 'le'].sort(), `${name} labels`);
  }
  const le = (v: string | undefined): number => (v === '+Inf' ? Infinity : Number(v));
  const bounds = new Set(
    (await promSeries(prom, `mcp_audit_result_size_bytes_bucket{${sel}}`)).map((s) => le(s.le)),
  );
  assert.deepEqual(
    [...bounds].sort((a, b) => a - b),
    [1024, 10240, 102400, 1048576, 5242880, 52428800, Infinity],
  );
  const durationBounds = new Set(
    (await promSeries(prom, `mcp_audit_tool_call_duration_seconds_bucket{${sel}}`)).map((s) => le(s.le)),
  );
  assert.deepEqual(
    [...durationBounds].sort((a, b) => a - b),
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, Infinity],
  );

  // Every series of this run, all labels: no PII; only tools/call tools.
  const everything = await promSeries(prom, `{__name__=~"mcp_audit_.+",${sel}}`);
  assertNoSecrets(
    'Prometheus series labels',
    everything.flatMap((s) => Object.values(s)),
  );
  assert.deepEqual([...new Set(everything.map((s) => s.tool))].sort(), ['db_query', 'file_read']);
  assert.deepEqual([...new Set(everything.map((s) => s.server))], ['pii-db']);
});

test('scale-out: the agent load-balances by trace ID to two gateways and the sums stay exact', async () => {
  const gw = await startStack({ topology: 'gateways', withPrometheus: true });
  try {
    // The same spans plus 20 single-span traces of a third session, so both gateways get some.
    const S3 = `sess-${runId}-3`;
    const extra = Array.from({ length: 20 }, (_, i) =>
      span({
        name: 'tools/call search',
        kind: SPAN_KIND.CLIENT,
        durationMs: 10,
        attributes: toolCall('search', S3, [str('enduser.id', 'user:lb'), int('mcp_audit.result.size', i)]),
      }),
    );
    const body = payload() as { resourceSpans: Array<{ scopeSpans: Array<{ spans: unknown[] }> }> };
    body.resourceSpans[0]!.scopeSpans[0]!.spans.push(...extra);
    const response = await fetch(`${gw.otlpHttpEndpoint}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(response.status, 200, await response.text());

    const prom = gw.prometheusUrl!;
    const sel = `service_name="${SERVICE}"`;
    await waitFor(
      async () => (await promQuery(prom, `sum(mcp_audit_tool_calls_total{${sel}})`))[0]?.value[1] === '24',
      {
        timeoutMs: 45_000,
        message: 'the gateways did not count 24 calls',
      },
    );
    const value1 = async (expr: string): Promise<number> =>
      Number((await promQuery(prom, expr))[0]?.value[1]);
    assert.equal(await value1(`sum(mcp_audit_tool_calls_total{${sel},session_id="${S1}"})`), 3);
    assert.equal(await value1(`sum(mcp_audit_tool_errors_total{${sel},session_id="${S1}"})`), 1);
    assert.equal(await value1(`sum(mcp_audit_result_bytes_total{${sel},session_id="${S1}"})`), 6000);
    assert.equal(await value1(`sum(mcp_audit_tool_calls_total{${sel},session_id="${S3}"})`), 20);
    assert.equal(await value1(`sum(mcp_audit_result_bytes_total{${sel},session_id="${S3}"})`), 190);
    // Both gateways produced session metrics (Prometheus scrapes each as its own instance).
    assert.equal(await value1(`count(count by (instance) (mcp_audit_tool_calls_total{${sel}}))`), 2);

    const everything = await promSeries(prom, `{__name__=~"mcp_audit_.+",${sel}}`);
    assertNoSecrets(
      'Prometheus series labels (gateways)',
      everything.flatMap((s) => Object.values(s)),
    );
    await waitFor(
      () =>
        gw.auditFilePaths.reduce(
          (n, p) => n + (JSON.stringify(readAuditFile(p)).split('"spanId"').length - 1),
          0,
        ) >= 27,
      { timeoutMs: 30_000, message: 'spans did not reach the gateways audit files' },
    );
    assertNoSecrets(
      'gateway audit files',
      gw.auditFilePaths.flatMap((p) => strings(readAuditFile(p))),
    );
    const traces = await waitFor(
      async () => {
        const t = await jaegerTraces(gw.jaegerUrl, SERVICE, undefined, { limit: 200 });
        return t.reduce((n, tr) => n + tr.spans.length, 0) >= 27 && t;
      },
      { timeoutMs: 30_000, message: 'spans did not reach Jaeger through the gateways' },
    );
    assertNoSecrets('Jaeger /api/traces (gateways)', strings(traces));
  } finally {
    await gw.stop();
  }
});
