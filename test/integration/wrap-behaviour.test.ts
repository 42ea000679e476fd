// `mcp-audit wrap` behaves as the server does without it: 50 concurrent calls, cancellation, a
// crash mid-call, a collector that is down, lines larger than the parse limit, the caller policy.
// Real servers (server-everything from npm, the FastMCP fixture on PyPI's `mcp`), the real SDK client.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';
import { otlpEnv as baseOtlpEnv } from '../support/proc.js';
import {
  EVERYTHING,
  PY_FIXTURE,
  RecordingTransport,
  connect,
  killLive,
  lines,
  venvPython,
  wrapped,
} from './wrap-harness.js';

const otlpEnv = (url: string, service: string) => ({
  ...baseOtlpEnv(url, service),
  OTEL_METRIC_EXPORT_TIMEOUT: '400',
});

let dir: string;
let receiver: OtlpReceiver;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-audit-wrap-b-'));
  receiver = await startOtlpReceiver();
});
after(async () => {
  killLive();
  await receiver.close();
  rmSync(dir, { recursive: true, force: true });
});

const spansOf = (service: string, name: string) =>
  receiver.spans.filter((s) => s.service === service && s.name === name);

describe('wrap: concurrency and cancellation (server-everything)', () => {
  it('answers 50 concurrent calls correctly and records 50 spans with distinct ids', async () => {
    const client = await connect(
      wrapped(process.execPath, [EVERYTHING, 'stdio'], [], otlpEnv(receiver.url, 'wrap-50')),
    );
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        client.callTool({ name: 'get-sum', arguments: { a: i, b: 1000 } }),
      ),
    );
    results.forEach((r, i) => {
      const text = (r as { content: { text: string }[] }).content[0]!.text;
      assert.match(text, new RegExp(`\\b${i + 1000}\\b`));
    });
    await client.close();
    const spans = await receiver
      .waitForSpans(() => spansOf('wrap-50', 'tools/call get-sum').length >= 50)
      .then(() => spansOf('wrap-50', 'tools/call get-sum'));
    assert.equal(spans.length, 50);
    assert.equal(new Set(spans.map((s) => s.attributes['jsonrpc.request.id'])).size, 50);
    const args = new Set(spans.map((s) => s.attributes['gen_ai.tool.call.arguments']));
    assert.equal(args.size, 50);
    assert.ok(spans.every((s) => s.attributes['error.type'] === undefined));
  });

  it('records a call the client cancels as cancelled (notifications/cancelled)', async () => {
    const client = await connect(
      wrapped(process.execPath, [EVERYTHING, 'stdio'], [], otlpEnv(receiver.url, 'wrap-cancel')),
    );
    const abort = new AbortController();
    const call = client.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 60, steps: 60 } },
      undefined,
      {
        signal: abort.signal,
        // Cancel on the first progress notification: the call is running on the server by then.
        onprogress: () => abort.abort('user pressed stop'),
      },
    );
    await assert.rejects(call);
    // The connection stays usable.
    const sum = (await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } })) as {
      content: { text: string }[];
    };
    assert.match(sum.content[0]!.text, /\b5\b/);
    await client.close();
    const [span] = await receiver
      .waitForSpans(() => spansOf('wrap-cancel', 'tools/call trigger-long-running-operation').length >= 1)
      .then(() => spansOf('wrap-cancel', 'tools/call trigger-long-running-operation'));
    assert.equal(span!.attributes['error.type'], 'cancelled');
  });
});

describe('wrap: a Python server (FastMCP fixture) crashing, huge lines, collector down', () => {
  let py: string;
  before(() => {
    py = venvPython();
  });

  it('a crash mid-call looks the same to the client as without the proxy, and exits with its status', async () => {
    const attempt = async (transport: RecordingTransport) => {
      const client = await connect(transport);
      const outcome = await client.callTool({ name: 'crash', arguments: {} }).then(
        () => 'answered',
        (err: unknown) => (err instanceof McpError ? `McpError ${err.code}` : String(err)),
      );
      const exit = await transport.exit;
      return { outcome, exit };
    };
    const direct = await attempt(new RecordingTransport(py, [PY_FIXTURE]));
    const proxy = wrapped(py, [PY_FIXTURE], [], otlpEnv(receiver.url, 'wrap-crash'));
    const viaProxy = await attempt(proxy);
    assert.deepEqual(viaProxy, direct);
    assert.deepEqual(direct.exit, { code: 3, signal: null });
    assert.match(proxy.stderr, /fixture: crashing on purpose/, 'the server stderr passes through');
    const [span] = await receiver
      .waitForSpans(() => spansOf('wrap-crash', 'tools/call crash').length >= 1)
      .then(() => spansOf('wrap-crash', 'tools/call crash'));
    assert.equal(span!.attributes['error.type'], 'transport_error');
  });

  it('relays a line over the parse limit untouched and records the call with its size as unparsed', async () => {
    const size = 17 * 1024 * 1024;
    const proxy = wrapped(py, [PY_FIXTURE], [], otlpEnv(receiver.url, 'wrap-huge'));
    const client = await connect(proxy);
    const result = (await client.callTool({ name: 'big', arguments: { size } })) as {
      content: { text: string }[];
    };
    assert.equal(result.content[0]!.text.length, size);
    const answer = await client.callTool({ name: 'add', arguments: { a: 2, b: 2 } });
    assert.deepEqual((answer as { structuredContent: unknown }).structuredContent, { result: 4 });
    await client.close();
    const [span] = await receiver
      .waitForSpans(() => spansOf('wrap-huge', 'tools/call big').length >= 1)
      .then(() => spansOf('wrap-huge', 'tools/call big'));
    assert.equal(span!.attributes['mcp_audit.result.unparsed'], true);
    assert.ok((span!.attributes['mcp_audit.result.size'] as number) > 2 * size);
    assert.equal(span!.attributes['error.type'], undefined);
  });

  it('with the collector down, keeps relaying and writes nothing but the server bytes to stdout', async () => {
    // A port that was just free and is closed again: connection refused on every export.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const session = async (transport: RecordingTransport) => {
      const client = await connect(transport);
      const results = [];
      for (let i = 0; i < 5; i++)
        results.push(await client.callTool({ name: 'add', arguments: { a: i, b: i } }));
      await client.close();
      return results;
    };
    const direct = new RecordingTransport(py, [PY_FIXTURE]);
    const directResults = await session(direct);
    const proxy = wrapped(py, [PY_FIXTURE], [], { ...otlpEnv(`http://127.0.0.1:${port}`, 'wrap-down') });
    const proxyResults = await session(proxy);
    assert.deepEqual(proxyResults, directResults);
    assert.equal(proxy.stdout.toString(), direct.stdout.toString());
    assert.deepEqual(await proxy.exit, { code: 0, signal: null });
  });
});

describe('wrap: MCP_AUDIT_REQUIRE_CALLER', () => {
  const env = (service: string) => ({ ...otlpEnv(receiver.url, service), MCP_AUDIT_REQUIRE_CALLER: 'echo' });
  const tee = (name: string) => ['-c', `tee ${join(dir, name)} | exec node ${EVERYTHING} stdio`];

  it('refuses a listed tool without a caller with the in-process JSON-RPC error; the server never sees it', async () => {
    const client = await connect(wrapped('sh', tee('denied.in'), [], env('wrap-policy')));
    const refused = await client.callTool({ name: 'echo', arguments: { message: 'hi' } }).then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.ok(refused instanceof McpError, `expected an McpError, got ${String(refused)}`);
    assert.equal(refused.code, -32010);
    assert.match(refused.message, /requires a caller identity/);
    assert.deepEqual(refused.data, { reason: 'missing_caller_identity', tool: 'echo' });
    // Other tools pass.
    await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 1 } });
    await client.close();
    const received = lines(readFileSync(join(dir, 'denied.in')));
    assert.ok(received.some((l) => l.includes('"get-sum"')));
    assert.ok(!received.some((l) => l.includes('"echo"')), 'the refused request reached the server');
    const [span] = await receiver
      .waitForSpans(() => spansOf('wrap-policy', 'tools/call echo').length >= 1)
      .then(() => spansOf('wrap-policy', 'tools/call echo'));
    assert.equal(span!.attributes['error.type'], 'policy_denied');
    assert.equal(span!.attributes['rpc.response.status_code'], '-32010');
  });

  it('lets the call through with --caller', async () => {
    const client = await connect(
      wrapped(process.execPath, [EVERYTHING, 'stdio'], ['--caller', 'user:ops'], env('wrap-policy-ok')),
    );
    const result = (await client.callTool({ name: 'echo', arguments: { message: 'hi' } })) as {
      content: { text: string }[];
    };
    assert.match(result.content[0]!.text, /hi/);
    await client.close();
  });
});
