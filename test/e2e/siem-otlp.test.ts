// The OTLP/HTTP SIEM route (collector/siem.yaml) delivering to a real HTTP endpoint: the real
// collector started with config.yaml + siem.yaml, an instrumented agent and stdio server exporting
// to it, and a span posted straight to the collector with secrets in clear. The SIEM endpoint must
// receive every span once, the audit attributes intact, the secrets masked by the collector, and the
// credential of MCP_AUDIT_SIEM_AUTHORIZATION on each request.
//
//   npm run build && node --import tsx --test test/e2e/siem-otlp.test.ts
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { FIXTURES, REGISTER_ESM, killAll, runNode } from '../support/proc.js';
import { REPO_ROOT, startStack, waitFor, type Stack } from '../support/stack.js';

const CLIENT = 3;
const SERVER = 2;
const TOKEN = `Bearer siem-${randomBytes(6).toString('hex')}`;
const CARD = '4111 1111 1111 1111';
const EMAIL = 'siem.leak@example.com';

interface SiemSpan {
  service: string;
  name: string;
  kind: number;
  spanId: string;
  attributes: Record<string, unknown>;
  status: { message?: string };
}

let stack: Stack;
let siem: Server;
const requests: Array<{ url: string; headers: IncomingHttpHeaders; body: string }> = [];

function received(): SiemSpan[] {
  const out: SiemSpan[] = [];
  for (const request of requests) {
    if (request.url !== '/v1/traces') continue;
    for (const rs of JSON.parse(request.body).resourceSpans ?? []) {
      const resource = Object.fromEntries(
        (rs.resource?.attributes ?? []).map((a: { key: string; value: { stringValue?: string } }) => [
          a.key,
          a.value.stringValue,
        ]),
      );
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          const attributes = Object.fromEntries(
            (s.attributes ?? []).map((a: { key: string; value: Record<string, unknown> }) => [
              a.key,
              Object.values(a.value)[0],
            ]),
          );
          out.push({
            service: String(resource['service.name']),
            name: s.name,
            kind: s.kind,
            spanId: s.spanId,
            attributes,
            status: s.status ?? {},
          });
        }
      }
    }
  }
  return out;
}

before(async () => {
  siem = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      // The collector's OTLP/HTTP exporter compresses with gzip by default, as SIEM endpoints accept.
      const raw = Buffer.concat(chunks);
      const body = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      requests.push({ url: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => siem.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(siem.address() as AddressInfo).port}`;
  stack = await startStack({
    withPrometheus: false,
    extraCollectorConfigs: [`${REPO_ROOT}/collector/siem.yaml`],
    collectorEnv: {
      MCP_AUDIT_SIEM_ENDPOINT: endpoint,
      MCP_AUDIT_SIEM_ENCODING: 'json',
      MCP_AUDIT_SIEM_AUTHORIZATION: TOKEN,
    },
  });
});

after(async () => {
  killAll();
  await stack?.stop();
  await new Promise<void>((resolve) => siem?.close(() => resolve()));
});

describe('SIEM over OTLP/HTTP (collector/siem.yaml)', () => {
  it('delivers each span of an audited session once, with its audit attributes', async () => {
    const run = await runNode(
      [
        '--import',
        REGISTER_ESM,
        `${FIXTURES}stdio-agent.mjs`,
        `${FIXTURES}stdio-server.mjs`,
        '--import',
        REGISTER_ESM,
      ],
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: stack.otlpHttpEndpoint,
        OTEL_SERVICE_NAME: 'siem-agent',
        SERVER_SERVICE_NAME: 'siem-server',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_METRICS_EXPORTER: 'none',
        MCP_AUDIT_FILE: 'off',
      },
    );
    assert.equal(run.code, 0, run.stderr);
    const calls = () => received().filter((s) => s.attributes['mcp.method.name'] === 'tools/call');
    await waitFor(() => calls().length >= 6, {
      timeoutMs: 60000,
      message: 'the SIEM did not get 6 tools/call spans',
    });
    // The endpoint answers 200 to everything, so the queue has nothing to retry: a span seen twice
    // would come from a second export path, and the agent's spans were all sent before it exited.
    const spans = received();
    assert.equal(new Set(spans.map((s) => s.spanId)).size, spans.length, 'a span reached the SIEM twice');
    const tools = calls();
    assert.equal(tools.length, 6, '3 calls, a CLIENT and a SERVER span each');
    assert.deepEqual(
      tools
        .filter((s) => s.kind === CLIENT)
        .map((s) => s.name)
        .sort(),
      ['tools/call db_query', 'tools/call echo', 'tools/call explode'],
    );
    assert.equal(tools.filter((s) => s.kind === SERVER).length, 3);
    const query = tools.find((s) => s.kind === CLIENT && s.name === 'tools/call db_query')!;
    assert.equal(query.service, 'siem-agent');
    assert.equal(query.attributes['enduser.id'], 'user:sarah');
    assert.equal(query.attributes['gen_ai.conversation.id'], 'a3f8c');
    assert.equal(query.attributes['gen_ai.tool.name'], 'db_query');
    for (const request of requests) assert.equal(request.headers.authorization, TOKEN);
  });

  it('masks what a sender exported in clear before it reaches the SIEM', async () => {
    const traceId = randomBytes(16).toString('hex');
    const now = BigInt(Date.now()) * 1_000_000n;
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'siem-raw-sender' } }] },
          scopeSpans: [
            {
              scope: { name: 'raw' },
              spans: [
                {
                  traceId,
                  spanId: randomBytes(8).toString('hex'),
                  name: 'tools/call charge',
                  kind: SERVER,
                  startTimeUnixNano: String(now),
                  endTimeUnixNano: String(now + 1_000_000n),
                  attributes: [
                    { key: 'mcp.method.name', value: { stringValue: 'tools/call' } },
                    { key: 'gen_ai.tool.name', value: { stringValue: 'charge' } },
                    {
                      key: 'gen_ai.tool.call.arguments',
                      value: { stringValue: JSON.stringify({ card: CARD, email: EMAIL }) },
                    },
                  ],
                  status: { code: 2, message: `card ${CARD} declined for ${EMAIL}` },
                },
              ],
            },
          ],
        },
      ],
    };
    const response = await fetch(`${stack.otlpHttpEndpoint}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(response.status, 200);
    const span = await waitFor(() => received().find((s) => s.service === 'siem-raw-sender'), {
      timeoutMs: 60000,
      message: 'the raw span did not reach the SIEM',
    });
    const everything = requests.map((r) => r.body).join('\n');
    assert.ok(!everything.includes(CARD), 'the card number reached the SIEM');
    assert.ok(!everything.includes(EMAIL), 'the e-mail address reached the SIEM');
    assert.match(String(span.status.message), /\[REDACTED:card\].*\[REDACTED:email\]/);
    assert.match(String(span.attributes['gen_ai.tool.call.arguments']), /\[REDACTED:card\]/);
  });
});
