// Client ↔ McpServer over the SDK's InMemoryTransport, instrumented in-process. The in-memory
// transport delivers synchronously, so it cannot prove _meta propagation (stdio tests do); it does
// pin down every attribute of every span, the error paths and enable/disable.
import { strict as assert } from 'node:assert';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { setupHarness, type Harness } from '../support/otel.js';
import { withAuditContext } from '../../src/instrumentation/audit-context.js';

const harness: Harness = setupHarness({ requireCallerFor: ['db_query'] });
const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
const { McpServer } = await import('@modelcontextprotocol/sdk/server/mcp.js');
const { InMemoryTransport } = await import('@modelcontextprotocol/sdk/inMemory.js');
const { LATEST_PROTOCOL_VERSION } = await import('@modelcontextprotocol/sdk/types.js');
const z = await import('zod');

type ClientT = InstanceType<typeof Client>;

/** Called when the `slow` tool starts running on the server (so a test can abort it mid-call). */
let onSlowStarted: (() => void) | undefined;

function buildServer() {
  const server = new McpServer({ name: 'test-server', version: '1.2.3' });
  server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  server.registerTool('explode', { inputSchema: {} }, async () => {
    throw new Error('kaboom');
  });
  server.registerTool('db_query', { inputSchema: { sql: z.string() } }, async () => ({
    content: [{ type: 'text', text: '[]' }],
    structuredContent: { rows: [{ id: 1 }, { id: 2 }], row_count: 2 },
  }));
  server.registerTool('slow', { inputSchema: {} }, async () => {
    onSlowStarted?.();
    // The server's work: long enough for a 100 ms request timeout to fire first.
    await new Promise((r) => setTimeout(r, 300));
    return { content: [] };
  });
  return server;
}

async function connect(): Promise<{ client: ClientT; close: () => Promise<void> }> {
  const server = buildServer();
  const client = new Client({ name: 'test-client', version: '9.9.9' });
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  await client.connect(clientTransport);
  return {
    client,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

const byKind = (spans: ReadableSpan[], kind: SpanKind) => spans.filter((s) => s.kind === kind);
const IMPL = {
  'mcp_audit.server.name': 'test-server',
  'mcp_audit.server.version': '1.2.3',
  'mcp_audit.client.name': 'test-client',
  'mcp_audit.client.version': '9.9.9',
};

describe('instrumented Client ↔ McpServer over InMemoryTransport', () => {
  let conn: Awaited<ReturnType<typeof connect>>;
  before(async () => {
    conn = await connect();
    await harness.waitForSpans(2);
  });
  after(async () => conn.close());
  beforeEach(() => harness.reset());

  it('records a tools/call on both sides with the whole attribute map', async () => {
    const result = await withAuditContext(
      { callerId: 'user:sarah', sessionId: 'a3f8c', turnId: 'turn-003' },
      () => conn.client.callTool({ name: 'echo', arguments: { text: 'hello' } }),
    );
    assert.deepEqual(result, { content: [{ type: 'text', text: 'hello' }] });
    const spans = await harness.waitForSpans(2);
    assert.equal(spans.length, 2);
    const [client] = byKind(spans, SpanKind.CLIENT);
    const [server] = byKind(spans, SpanKind.SERVER);
    const size = Buffer.byteLength(JSON.stringify(result));
    assert.equal(client!.name, 'tools/call echo');
    assert.deepEqual(client!.attributes, {
      'mcp.method.name': 'tools/call',
      'jsonrpc.request.id': '1',
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'echo',
      'mcp.protocol.version': LATEST_PROTOCOL_VERSION,
      ...IMPL,
      'gen_ai.conversation.id': 'a3f8c',
      'enduser.id': 'user:sarah',
      'mcp_audit.caller.source': 'context',
      'mcp_audit.turn.id': 'turn-003',
      'gen_ai.tool.call.arguments': '{"text":"hello"}',
      'mcp_audit.result.size': size,
      'mcp_audit.result.summary': 'content: 1 text (5 chars)',
      'mcp_audit.redacted.count': 0,
      'mcp_audit.result.pii.count': 0,
    });
    assert.equal(client!.status.code, SpanStatusCode.UNSET);
    assert.equal(server!.name, 'tools/call echo');
    assert.deepEqual(server!.attributes, {
      'mcp.method.name': 'tools/call',
      'jsonrpc.request.id': '1',
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'echo',
      'mcp.protocol.version': LATEST_PROTOCOL_VERSION,
      ...IMPL,
      'gen_ai.conversation.id': 'a3f8c',
      'enduser.id': 'user:sarah',
      'mcp_audit.caller.source': 'propagated',
      'mcp_audit.turn.id': 'turn-003',
      'mcp_audit.client.instrumented': true,
      'gen_ai.tool.call.arguments': '{"text":"hello"}',
      'mcp_audit.result.size': size,
      'mcp_audit.result.summary': 'content: 1 text (5 chars)',
      'mcp_audit.redacted.count': 0,
      'mcp_audit.result.pii.count': 0,
    });
    assert.equal(server!.spanContext().traceId, client!.spanContext().traceId);
    assert.equal(server!.parentSpanContext?.spanId, client!.spanContext().spanId);
  });

  it('marks a thrown tool error as tool_error on both sides (McpServer turns it into isError)', async () => {
    const result = await conn.client.callTool({ name: 'explode', arguments: {} });
    assert.equal(result.isError, true);
    const spans = await harness.waitForSpans(2);
    for (const span of spans) {
      assert.equal(span.attributes['error.type'], 'tool_error');
      assert.equal(span.status.code, SpanStatusCode.ERROR);
      assert.match(String(span.attributes['mcp_audit.result.summary']), /isError/);
      assert.equal(span.attributes['rpc.response.status_code'], undefined);
    }
  });

  it('records an unknown tool as tool_error with the SDK message', async () => {
    const result = await conn.client.callTool({ name: 'no_such_tool', arguments: {} });
    assert.equal(result.isError, true);
    const spans = await harness.waitForSpans(2);
    assert.deepEqual(
      spans.map((s) => [s.name, s.attributes['error.type']]),
      [
        ['tools/call no_such_tool', 'tool_error'],
        ['tools/call no_such_tool', 'tool_error'],
      ],
    );
  });

  it('records a JSON-RPC error: client status ERROR, server -32601 recorded without ERROR status', async () => {
    await assert.rejects(
      conn.client.request(
        { method: 'nope/method', params: {} } as never,
        (await import('@modelcontextprotocol/sdk/types.js')).EmptyResultSchema,
      ),
    );
    const spans = await harness.waitForSpans(2);
    const [client] = byKind(spans, SpanKind.CLIENT);
    const [server] = byKind(spans, SpanKind.SERVER);
    assert.equal(client!.attributes['error.type'], '-32601');
    assert.equal(client!.attributes['rpc.response.status_code'], '-32601');
    assert.equal(client!.status.code, SpanStatusCode.ERROR);
    assert.equal(server!.attributes['error.type'], '-32601');
    assert.equal(server!.status.code, SpanStatusCode.UNSET);
    assert.equal(server!.attributes['mcp_audit.result.size'], 0);
  });

  it('records a timeout on the client and a cancellation on the server', async () => {
    await assert.rejects(
      conn.client.callTool({ name: 'slow', arguments: {} }, undefined, { timeout: 50 }),
      /timed out/i,
    );
    const spans = await harness.waitForSpans(2, 2000);
    const [client] = byKind(spans, SpanKind.CLIENT);
    const [server] = byKind(spans, SpanKind.SERVER);
    assert.equal(client!.attributes['error.type'], 'timeout');
    assert.equal(server!.attributes['error.type'], 'cancelled');
  });

  it('records an abort by the caller as cancelled', async () => {
    const controller = new AbortController();
    // Abort once the server is running the tool, so both sides see the cancellation.
    const started = new Promise<void>((resolve) => (onSlowStarted = resolve));
    const pending = conn.client.callTool({ name: 'slow', arguments: {} }, undefined, {
      signal: controller.signal,
    });
    await started;
    onSlowStarted = undefined;
    controller.abort('user gave up');
    await assert.rejects(pending);
    const spans = await harness.waitForSpans(2, 2000);
    assert.deepEqual(spans.map((s) => s.attributes['error.type']).sort(), ['cancelled', 'cancelled']);
  });

  it('refuses a sensitive tool without caller identity, as a policy_denied span, before it reaches the server', async () => {
    await assert.rejects(
      conn.client.callTool({ name: 'db_query', arguments: { sql: 'SELECT 1' } }),
      (err: Error & { code?: number }) => {
        assert.equal(err.code, -32010);
        assert.match(err.message, /requires a caller identity/);
        return true;
      },
    );
    const spans = await harness.waitForSpans(1);
    assert.equal(spans.length, 1, 'the server never saw the call');
    assert.equal(spans[0]!.attributes['error.type'], 'policy_denied');
    assert.equal(spans[0]!.status.code, SpanStatusCode.ERROR);
  });

  it('lets the same sensitive tool through with a caller, and summarizes structured rows', async () => {
    await withAuditContext({ callerId: 'service:batch' }, () =>
      conn.client.callTool({ name: 'db_query', arguments: { sql: 'SELECT 1' } }),
    );
    const spans = await harness.waitForSpans(2);
    for (const span of spans) {
      assert.equal(
        span.attributes['mcp_audit.result.summary'],
        'content: 1 text (2 chars); structured: 2 rows',
      );
      assert.equal(span.attributes['error.type'], undefined);
    }
  });

  it('records list methods with their method name only', async () => {
    await conn.client.listTools();
    const spans = await harness.waitForSpans(2);
    for (const span of spans) {
      assert.equal(span.name, 'tools/list');
      assert.equal(span.attributes['gen_ai.tool.name'], undefined);
    }
  });

  it('records the semconv duration histograms without session or caller labels', async () => {
    await conn.client.callTool({ name: 'echo', arguments: { text: 'x' } });
    await harness.waitForSpans(2);
    const { resourceMetrics } = await harness.metricReader.collect();
    const all = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    const client = all.find((m) => m.descriptor.name === 'mcp.client.operation.duration');
    const server = all.find((m) => m.descriptor.name === 'mcp.server.operation.duration');
    assert.ok(client && server, 'both histograms exist');
    assert.equal(client.descriptor.unit, 's');
    const point = client.dataPoints.find((p) => p.attributes['gen_ai.tool.name'] === 'echo');
    assert.ok(point);
    assert.deepEqual(Object.keys(point.attributes).sort(), [
      'gen_ai.tool.name',
      'mcp.method.name',
      'mcp.protocol.version',
    ]);
    assert.deepEqual(
      (point.value as { buckets: { boundaries: number[] } }).buckets.boundaries,
      [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
    );
  });

  it('does not mutate the caller’s params when injecting _meta', async () => {
    const params = {
      name: 'echo',
      arguments: { text: 'same' },
      _meta: { progressToken: undefined as never },
    };
    delete (params._meta as Record<string, unknown>).progressToken;
    const snapshot = JSON.stringify(params);
    await conn.client.callTool(params);
    assert.equal(JSON.stringify(params), snapshot);
    await harness.waitForSpans(2);
  });
});

describe('enable → disable → enable', () => {
  it('stops recording when disabled and records exactly once again when re-enabled', async () => {
    const conn = await connect();
    try {
      await harness.waitForSpans(2);
      harness.reset();
      harness.instrumentation.disable();
      await conn.client.callTool({ name: 'echo', arguments: { text: 'a' } });
      assert.equal((await harness.settled()).length, 0);
      harness.instrumentation.enable();
      harness.instrumentation.enable();
      await conn.client.callTool({ name: 'echo', arguments: { text: 'b' } });
      const spans = await harness.waitForSpans(2);
      assert.equal(spans.length, 2, 'one client and one server span, no duplicates');
    } finally {
      await conn.close();
    }
  });
});
