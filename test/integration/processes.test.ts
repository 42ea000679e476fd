// Real processes, real transports: an agent and an MCP server in separate processes, each started
// with `--import`/`--require mcp-audit/register` and exporting OTLP/JSON to a real HTTP endpoint.
// This is where _meta propagation is proven: nothing but the pipe or the socket joins the two sides.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import {
  FIXTURES,
  REGISTER_CJS,
  REGISTER_ESM,
  killAll,
  otlpEnv,
  runNode,
  startNode,
} from '../support/proc.js';

const CLIENT = 3;
const SERVER = 2;

function rows() {
  return Array.from({ length: 2400 }, (_, i) => ({
    name: `Customer ${i}`,
    email: `customer${i}@example.com`,
    ssn: `412-55-${String(1000 + i).padStart(4, '0')}`,
  }));
}

/** What both sides of the incident's db_query call record alike. */
const INCIDENT_CALL = {
  'mcp.method.name': 'tools/call',
  'gen_ai.operation.name': 'execute_tool',
  'gen_ai.tool.name': 'db_query',
  'network.transport': 'pipe',
  'mcp_audit.server.name': 'mcp-db-prod-01',
  'mcp_audit.server.version': '2.0.0',
  'mcp_audit.client.name': 'finance-agent',
  'mcp_audit.client.version': '0.3.0',
  'gen_ai.conversation.id': 'a3f8c',
};

const tool = (spans: ReceivedSpan[], name: string, kind: number) =>
  spans.find((s) => s.name === `tools/call ${name}` && s.kind === kind);

describe('stdio: ESM agent and server in separate processes', () => {
  let receiver: OtlpReceiver;
  let spans: ReceivedSpan[];
  let stdout: string;
  before(async () => {
    receiver = await startOtlpReceiver();
    const run = await runNode(
      [
        '--import',
        REGISTER_ESM,
        `${FIXTURES}stdio-agent.mjs`,
        `${FIXTURES}stdio-server.mjs`,
        '--import',
        REGISTER_ESM,
      ],
      { ...otlpEnv(receiver.url, 'finance-agent'), SERVER_SERVICE_NAME: 'db-server' },
    );
    assert.equal(run.code, 0, run.stderr);
    stdout = run.stdout;
    spans = await receiver.waitForSpans((s) => s.filter((x) => x.name.startsWith('tools/call')).length >= 6);
  });
  after(async () => {
    killAll();
    await receiver.close();
  });

  it('returns exactly what the uninstrumented app returns', async () => {
    const plain = await runNode([`${FIXTURES}stdio-agent.mjs`, `${FIXTURES}stdio-server.mjs`], {
      MCP_AUDIT_FILE: 'off',
    });
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(stdout, plain.stdout);
    assert.deepEqual(JSON.parse(stdout), { rows: 2400, explode: true, echo: 'no context here' });
  });

  it('parents the server span on the client span across the pipe (traceparent in _meta)', () => {
    const client = tool(spans, 'db_query', CLIENT)!;
    const server = tool(spans, 'db_query', SERVER)!;
    assert.equal(client.service, 'finance-agent');
    assert.equal(server.service, 'db-server');
    assert.equal(server.traceId, client.traceId);
    assert.equal(server.parentSpanId, client.spanId);
    assert.equal(client.parentSpanId, undefined);
  });

  it('records the incident as an audit record on the client span', () => {
    const client = tool(spans, 'db_query', CLIENT)!;
    const result = {
      content: [{ type: 'text', text: JSON.stringify({ rows: rows(), row_count: 2400 }) }],
      structuredContent: { rows: rows(), row_count: 2400 },
    };
    const { ['jsonrpc.request.id']: id, ['mcp.protocol.version']: version, ...rest } = client.attributes;
    assert.match(String(id), /^\d+$/);
    assert.match(String(version), /^\d{4}-\d{2}-\d{2}$/);
    assert.deepEqual(rest, {
      ...INCIDENT_CALL,
      'enduser.id': 'user:sarah',
      'mcp_audit.caller.source': 'context',
      'mcp_audit.turn.id': 'turn-003',
      'gen_ai.tool.call.arguments':
        '{"sql":"SELECT name, email, ssn FROM customers WHERE balance > 100000","database":"production"}',
      'mcp_audit.result.size': Buffer.byteLength(JSON.stringify(result)),
      'mcp_audit.result.summary':
        'content: 1 text (' + result.content[0]!.text.length + ' chars); structured: 2400 rows',
      'mcp_audit.redacted.count': 0,
      // What the result held, found at the source (every row's e-mail and SSN, in the text and the
      // structured copy), never the values: the result itself is not captured by default.
      'mcp_audit.result.pii.classes': ['email', 'ssn'],
      'mcp_audit.result.pii.class_counts': [4800, 4800],
      'mcp_audit.result.pii.count': 9600,
    });
  });

  it('records the server span with the whole attribute map, the identity marked as propagated', () => {
    const client = tool(spans, 'db_query', CLIENT)!;
    const server = tool(spans, 'db_query', SERVER)!;
    assert.deepEqual(server.attributes, {
      ...INCIDENT_CALL,
      'jsonrpc.request.id': client.attributes['jsonrpc.request.id'],
      'mcp.protocol.version': client.attributes['mcp.protocol.version'],
      'enduser.id': 'user:sarah',
      'mcp_audit.caller.source': 'propagated',
      'mcp_audit.turn.id': 'turn-003',
      'mcp_audit.client.instrumented': true,
      'gen_ai.tool.call.arguments': client.attributes['gen_ai.tool.call.arguments'],
      'mcp_audit.result.size': client.attributes['mcp_audit.result.size'],
      'mcp_audit.result.summary': client.attributes['mcp_audit.result.summary'],
      'mcp_audit.redacted.count': 0,
      'mcp_audit.result.pii.classes': client.attributes['mcp_audit.result.pii.classes'],
      'mcp_audit.result.pii.class_counts': client.attributes['mcp_audit.result.pii.class_counts'],
      'mcp_audit.result.pii.count': client.attributes['mcp_audit.result.pii.count'],
    });
  });

  it('records a thrown tool error as tool_error on both sides', () => {
    for (const kind of [CLIENT, SERVER]) {
      const span = tool(spans, 'explode', kind)!;
      assert.equal(span.attributes['error.type'], 'tool_error');
      assert.equal(span.status.code, 2);
    }
  });

  it('gives calls outside any audit context one conversation id per connection, and no caller', () => {
    const echo = tool(spans, 'echo', CLIENT)!;
    const init = spans.find((s) => s.name === 'initialize' && s.kind === CLIENT)!;
    assert.equal(echo.attributes['enduser.id'], undefined);
    assert.match(String(echo.attributes['gen_ai.conversation.id']), /^[0-9a-f-]{36}$/);
    assert.equal(echo.attributes['gen_ai.conversation.id'], init.attributes['gen_ai.conversation.id']);
  });

  it('exports no row data: no email or SSN from the 2,400 rows in anything sent', () => {
    const all = receiver.raw.join('\n');
    assert.doesNotMatch(all, /customer\d+@example\.com/);
    assert.doesNotMatch(all, /412-55-\d{4}/);
  });

  it('exports the semconv duration histograms', async () => {
    const wanted = ['mcp.client.operation.duration', 'mcp.server.operation.duration'];
    // Metrics arrive on their own export interval: wait for them (bounded), then check.
    await receiver
      .waitForSpans(() => wanted.every((name) => receiver.metricNames.has(name)))
      .catch(() => undefined);
    assert.deepEqual(
      wanted.filter((name) => !receiver.metricNames.has(name)),
      [],
      `metrics received: ${[...receiver.metricNames].join(', ')}`,
    );
  });
});

describe('stdio: CommonJS agent through --require', () => {
  it('records the client span from the CJS build and the server span from the ESM build', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const run = await runNode(
        [
          '--require',
          REGISTER_CJS,
          `${FIXTURES}stdio-agent.cjs`,
          `${FIXTURES}stdio-server.mjs`,
          '--import',
          REGISTER_ESM,
        ],
        { ...otlpEnv(receiver.url, 'cjs-agent'), SERVER_SERVICE_NAME: 'db-server' },
      );
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(JSON.parse(run.stdout), { echo: 'from cjs' });
      const spans = await receiver.waitForSpans(
        (s) => s.filter((x) => x.name === 'tools/call echo').length >= 2,
      );
      const echo = spans.filter((s) => s.name === 'tools/call echo');
      assert.equal(echo.length, 2, 'exactly one span per side: each SDK copy patched once');
      const client = echo.find((s) => s.kind === CLIENT)!;
      const server = echo.find((s) => s.kind === SERVER)!;
      assert.equal(client.service, 'cjs-agent');
      assert.equal(client.attributes['enduser.id'], 'service:batch-job');
      assert.equal(server.parentSpanId, client.spanId);
      assert.equal(server.attributes['gen_ai.conversation.id'], 'cjs-session');
    } finally {
      killAll();
      await receiver.close();
    }
  });
});

describe('Streamable HTTP on loopback with bearer auth', () => {
  it('takes enduser.id from authInfo on the server, keeps the propagated one apart, and never the token', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const { child, firstLine } = await startNode(
        ['--import', REGISTER_ESM, `${FIXTURES}http-server.mjs`],
        otlpEnv(receiver.url, 'http-server'),
      );
      const url = `http://127.0.0.1:${firstLine.trim()}/mcp`;
      const run = await runNode(
        ['--import', REGISTER_ESM, `${FIXTURES}http-agent.mjs`, url],
        otlpEnv(receiver.url, 'http-agent'),
      );
      assert.equal(run.code, 0, run.stderr);
      const { sessionId } = JSON.parse(run.stdout) as { sessionId: string };
      const spans = await receiver.waitForSpans(
        (s) => s.filter((x) => x.name === 'tools/call db_query').length >= 2,
      );
      child.kill('SIGTERM');
      const client = tool(spans, 'db_query', CLIENT)!;
      const server = tool(spans, 'db_query', SERVER)!;
      assert.equal(server.parentSpanId, client.spanId);
      assert.equal(client.attributes['mcp.session.id'], sessionId);
      assert.equal(server.attributes['mcp.session.id'], sessionId);
      assert.equal(client.attributes['network.transport'], 'tcp');
      assert.equal(client.attributes['server.address'], '127.0.0.1');
      assert.equal(client.attributes['server.port'], Number(new URL(url).port));
      assert.equal(server.attributes['network.transport'], 'tcp');
      assert.equal(server.attributes['client.address'], '127.0.0.1');
      assert.equal(typeof server.attributes['client.port'], 'number');
      assert.notEqual(server.attributes['client.port'], client.attributes['server.port']);
      assert.equal(client.attributes['enduser.id'], 'user:mallory');
      assert.equal(server.attributes['enduser.id'], 'svc-reporting');
      assert.equal(server.attributes['mcp_audit.caller.source'], 'auth');
      assert.equal(server.attributes['mcp_audit.caller.propagated'], 'user:mallory');
      assert.deepEqual(server.attributes['mcp_audit.caller.scopes'], ['db:read']);
      assert.equal(
        server.attributes['gen_ai.conversation.id'],
        sessionId,
        'no session in context: the MCP session id',
      );
      assert.doesNotMatch(receiver.raw.join('\n'), /tok_live_reporting_5f2a9c/);
    } finally {
      killAll();
      await receiver.close();
    }
  });
});
