// `mcp-audit proxy` in front of a real, stateful Streamable HTTP server (an SDK McpServer with
// StreamableHTTPServerTransport), driven by the real SDK client: results are the same as over a
// direct connection, the session header carries across requests, SSE streams reach the client
// while the server is still working, every tools/call is a SERVER span with the audit attributes
// exported to a real OTLP/HTTP endpoint, and a target that is down gives a clear 502.
import { strict as assert } from 'node:assert';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';
import { otlpEnv, runNode } from '../support/proc.js';
import {
  CLI,
  connectHttp,
  killLive,
  startFixture,
  startProxy,
  stop,
  type Listening,
} from './http-proxy-harness.js';

const SERVER_KIND = 2;
const SECRET = 'AKIAIOSFODNN7EXAMPLE';
const BEARER = 'Bearer opaque-token-7f3a9c2e1b5d';
const SERVICE = 'http-proxy-fixture';

let receiver: OtlpReceiver;
let fixture: Listening;
let proxy: Listening;
before(async () => {
  receiver = await startOtlpReceiver();
  fixture = await startFixture();
  proxy = await startProxy(`http://127.0.0.1:${fixture.port}/mcp`, [], otlpEnv(receiver.url, SERVICE));
});
after(async () => {
  await stop(proxy);
  killLive();
  await receiver.close();
});

const toolSpans = (service: string) =>
  receiver.spans.filter((s) => s.service === service && s.attributes['mcp.method.name'] === 'tools/call');

interface EchoResult {
  structuredContent: {
    text: string;
    sessionHeader: string | null;
    authorization: string | null;
    hasTraceparent: boolean;
  };
}

/** The same calls over one session; each result with what differs by session taken out and checked. */
async function session(url: string) {
  const { client, transport } = await connectHttp(url, { authorization: BEARER });
  const results: unknown[] = [];
  const traceparents: boolean[] = [];
  results.push(await client.listTools());
  for (const text of [`key ${SECRET}`, 'second call', 'third call']) {
    const result = (await client.callTool({ name: 'echo', arguments: { text } })) as unknown as EchoResult;
    assert.equal(
      result.structuredContent.sessionHeader,
      transport.sessionId,
      'the server saw the session header',
    );
    assert.equal(
      result.structuredContent.authorization,
      BEARER,
      'Authorization reached the server unchanged',
    );
    traceparents.push(result.structuredContent.hasTraceparent);
    results.push({
      ...result,
      structuredContent: {
        ...result.structuredContent,
        sessionHeader: '<session>',
        hasTraceparent: '<meta>',
      },
    });
  }
  const sessionId = transport.sessionId;
  await client.close();
  return { results, traceparents, sessionId, server: client.getServerVersion() };
}

describe('proxy: a stateful SDK Streamable HTTP server', () => {
  let direct: Awaited<ReturnType<typeof session>>;
  let proxied: Awaited<ReturnType<typeof session>>;
  before(async () => {
    direct = await session(`http://127.0.0.1:${fixture.port}/mcp`);
    proxied = await session(`http://127.0.0.1:${proxy.port}/mcp`);
    await receiver.waitForSpans(() => toolSpans(SERVICE).length >= 3);
  });

  it('gives the client the same results as a direct connection, call by call', () => {
    assert.equal(proxied.results.length, direct.results.length);
    proxied.results.forEach((result, i) => assert.deepEqual(result, direct.results[i], `call ${i}`));
    assert.deepEqual(proxied.server, direct.server);
  });

  it('keeps the Mcp-Session-Id across requests and records it on every span', () => {
    assert.ok(proxied.sessionId, 'the client got a session id through the proxy');
    const spans = toolSpans(SERVICE);
    assert.equal(spans.length, 3);
    for (const span of spans) {
      assert.equal(span.attributes['mcp.session.id'], proxied.sessionId);
      assert.equal(span.attributes['gen_ai.conversation.id'], proxied.sessionId);
    }
  });

  it('injects trace context into requests that carry none (the direct server saw none)', () => {
    assert.deepEqual(direct.traceparents, [false, false, false]);
    assert.deepEqual(proxied.traceparents, [true, true, true]);
  });

  it('records every tools/call as a SERVER span with the audit attributes', () => {
    for (const span of toolSpans(SERVICE)) {
      const a = span.attributes;
      assert.equal(span.kind, SERVER_KIND);
      assert.equal(span.name, 'tools/call echo');
      assert.equal(a['network.transport'], 'tcp');
      assert.equal(a['mcp_audit.proxy'], 'proxy');
      assert.equal(a['gen_ai.tool.name'], 'echo');
      assert.equal(a['client.address'], '127.0.0.1');
      assert.equal(typeof a['client.port'], 'number');
      assert.equal(a['server.address'], '127.0.0.1');
      assert.equal(a['server.port'], fixture.port);
      assert.equal(a['mcp_audit.server.name'], 'http-session-fixture');
      assert.equal(a['mcp_audit.server.version'], '3.1.4');
      assert.equal(a['mcp_audit.client.name'], 'http-proxy-test');
      assert.ok((a['mcp_audit.result.size'] as number) > 0);
      assert.match(String(a['mcp_audit.result.summary']), /content: 1 text/);
      assert.equal(a['error.type'], undefined);
      assert.equal(a['enduser.id'], undefined, 'an opaque bearer token is no identity');
    }
    const second = toolSpans(SERVICE).find((s) =>
      String(s.attributes['gen_ai.tool.call.arguments']).includes('second'),
    );
    assert.equal(second?.attributes['gen_ai.tool.call.arguments'], '{"text":"second call"}');
  });

  it('never exports the secret in an argument, nor the Authorization header', () => {
    const first = toolSpans(SERVICE).find((s) =>
      String(s.attributes['gen_ai.tool.call.arguments']).includes('key'),
    );
    assert.ok(first, 'the call with the secret has a span');
    assert.doesNotMatch(String(first.attributes['gen_ai.tool.call.arguments']), /AKIA/);
    for (const body of receiver.raw) {
      assert.ok(!body.includes(SECRET), 'secret exported');
      assert.ok(!body.includes('opaque-token-7f3a9c2e1b5d'), 'bearer token exported');
    }
  });
});

describe('proxy: SSE streams are relayed as the server writes them', () => {
  it('delivers a progress notification and a log message before the tool has finished', async () => {
    const { client } = await connectHttp(`http://127.0.0.1:${proxy.port}/mcp`);
    const logs: unknown[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params.data));
    let progressSeen = 0;
    // `gated` only returns once `release` has been called, and we call it only from the progress
    // handler: a proxy that held the stream until the response was complete would never finish.
    const result = await client.callTool({ name: 'gated', arguments: {} }, undefined, {
      onprogress: () => {
        progressSeen++;
        void client.callTool({ name: 'release', arguments: {} });
      },
    });
    assert.deepEqual(result.content, [{ type: 'text', text: 'released' }]);
    assert.equal(progressSeen, 1);
    assert.deepEqual(logs, ['gated: waiting for release']);
    await client.close();
    await receiver.waitForSpans(() => toolSpans(SERVICE).some((s) => s.name === 'tools/call gated'));
    const gated = toolSpans(SERVICE).find((s) => s.name === 'tools/call gated')!;
    assert.equal(gated.attributes['error.type'], undefined);
    assert.ok((gated.attributes['mcp_audit.result.size'] as number) > 0);
  });
});

describe('proxy: a server that answers with JSON bodies instead of SSE streams', () => {
  it('relays them and records each call from the JSON copy', async () => {
    const server = await startFixture(['--json']);
    const front = await startProxy(
      `http://127.0.0.1:${server.port}/mcp`,
      [],
      otlpEnv(receiver.url, 'http-proxy-json'),
    );
    try {
      const direct = await session(`http://127.0.0.1:${server.port}/mcp`);
      const proxied = await session(`http://127.0.0.1:${front.port}/mcp`);
      assert.deepEqual(proxied.results, direct.results);
      await receiver.waitForSpans(() => toolSpans('http-proxy-json').length >= 3);
      for (const span of toolSpans('http-proxy-json')) {
        assert.equal(span.attributes['mcp.session.id'], proxied.sessionId);
        assert.equal(span.attributes['mcp_audit.server.name'], 'http-session-fixture');
        assert.ok((span.attributes['mcp_audit.result.size'] as number) > 0);
        assert.match(String(span.attributes['mcp_audit.result.summary']), /content: 1 text/);
      }
    } finally {
      await stop(front);
      await stop(server);
    }
  });
});

describe('proxy: session end and errors', () => {
  it('passes DELETE through: the server ends the session, and later requests get its 404', async () => {
    const { client, transport } = await connectHttp(`http://127.0.0.1:${proxy.port}/mcp`);
    await client.callTool({ name: 'echo', arguments: { text: 'before delete' } });
    const sessionId = transport.sessionId!;
    await transport.terminateSession();
    const after = await fetch(`http://127.0.0.1:${proxy.port}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sessionId,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
    });
    assert.equal(after.status, 404);
    await client.close();
  });

  it('answers 502 with a JSON-RPC error when the target is down, and keeps running', async () => {
    const closed = await unusedPort();
    const dead = await startProxy(
      `http://127.0.0.1:${closed}/mcp`,
      [],
      otlpEnv(receiver.url, 'http-proxy-dead'),
    );
    try {
      for (const id of [1, 2]) {
        const res = await fetch(`http://127.0.0.1:${dead.port}/mcp`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id,
            method: 'tools/call',
            params: { name: 'echo', arguments: {} },
          }),
        });
        assert.equal(res.status, 502);
        const body = (await res.json()) as { id: number; error: { message: string } };
        assert.equal(body.id, id);
        assert.match(body.error.message, /could not be reached \(ECONNREFUSED\)/);
      }
      assert.equal(dead.child.exitCode, null, 'the proxy is still running');
      await receiver.waitForSpans(() => toolSpans('http-proxy-dead').length >= 2);
      for (const span of toolSpans('http-proxy-dead'))
        assert.notEqual(span.attributes['error.type'], undefined);
    } finally {
      await stop(dead);
    }
  });

  it('a server that dies mid-call: the client sees the stream end, the call ends as an error, the proxy lives', async () => {
    const doomed = await startFixture();
    const front = await startProxy(
      `http://127.0.0.1:${doomed.port}/mcp`,
      [],
      otlpEnv(receiver.url, 'http-proxy-crash'),
    );
    try {
      const { client } = await connectHttp(`http://127.0.0.1:${front.port}/mcp`);
      await assert.rejects(
        client.callTool({ name: 'gated', arguments: {} }, undefined, {
          onprogress: () => void doomed.child.kill('SIGKILL'),
          timeout: 20_000,
        }),
      );
      await client.close();
      await receiver.waitForSpans(() =>
        toolSpans('http-proxy-crash').some((s) => s.name === 'tools/call gated'),
      );
      const gated = toolSpans('http-proxy-crash').find((s) => s.name === 'tools/call gated')!;
      assert.notEqual(gated.attributes['error.type'], undefined);
      assert.equal(front.child.exitCode, null, 'the proxy is still running');
      const res = await fetch(`http://127.0.0.1:${front.port}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      });
      assert.equal(res.status, 502);
    } finally {
      await stop(front);
      await stop(doomed);
    }
  });

  it('keeps relaying when the span exporter cannot reach its collector', async () => {
    const closed = await unusedPort();
    const blind = await startProxy(
      `http://127.0.0.1:${fixture.port}/mcp`,
      [],
      otlpEnv(`http://127.0.0.1:${closed}`, 'blind'),
    );
    try {
      const { client } = await connectHttp(`http://127.0.0.1:${blind.port}/mcp`);
      for (let i = 0; i < 20; i++) {
        const result = (await client.callTool({
          name: 'echo',
          arguments: { text: `call ${i}` },
        })) as unknown as EchoResult;
        assert.equal(result.structuredContent.text, `call ${i}`);
      }
      await client.close();
    } finally {
      await stop(blind);
    }
  });
});

describe('proxy: flags', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--target', 'http://127.0.0.1:1/mcp'], /--listen \[HOST:\]PORT is required/],
    [
      ['--listen', 'localhost:99999', '--target', 'http://127.0.0.1:1/mcp'],
      /--listen must be PORT or HOST:PORT/,
    ],
    [['--listen', '0'], /--target URL is required/],
    [['--listen', '0', '--target', 'file:///etc/passwd'], /must be an http:\/\/ or https:\/\/ URL/],
    [
      ['--listen', '0', '--target', 'http://127.0.0.1:1/', '--jwks-file', '/nonexistent'],
      /--jwt-audience is required/,
    ],
    [
      [
        '--listen',
        '0',
        '--target',
        'http://127.0.0.1:1/',
        '--jwt-secret-file',
        '/nonexistent',
        '--jwt-audience',
        'a',
      ],
      /cannot read the file/,
    ],
    [
      ['--listen', '0', '--target', 'http://127.0.0.1:1/', '--caller-header', 'Authorization'],
      /cannot be Authorization/,
    ],
    [['--listen', '0', '--target', 'http://127.0.0.1:1/', '--max-message', '1KiB'], /at least 16MiB/],
  ];
  it('exits 2 with a message naming the flag', async () => {
    for (const [flags, message] of cases) {
      const run = await runNode([CLI, 'proxy', ...flags]);
      assert.equal(run.code, 2, flags.join(' '));
      assert.match(run.stderr, message, flags.join(' '));
      assert.equal(run.stdout, '');
    }
  });

  it('exits 1 when the address is taken, naming it', async () => {
    const run = await runNode([
      CLI,
      'proxy',
      '--listen',
      `127.0.0.1:${fixture.port}`,
      '--target',
      'http://127.0.0.1:1/',
    ]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${fixture.port}: .*EADDRINUSE`));
  });
});

function unusedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
