// `mcp-audit proxy` in front of a third-party server from npm, @modelcontextprotocol/server-everything
// in its Streamable HTTP mode, and in front of the legacy HTTP+SSE transport (the SDK's
// SSEServerTransport, driven by SSEClientTransport): the same results as a direct connection, call
// by call, and every tools/call a span naming the server from its initialize result.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';
import { otlpEnv } from '../support/proc.js';
import {
  connectHttp,
  connectSse,
  killLive,
  startEverything,
  startFixture,
  startProxy,
  stop,
  type Listening,
} from './http-proxy-harness.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';

const SECRET = 'sk_live_51H8fQwLkS2eZvKYlo2C9x3Qd';

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  killLive();
  await receiver.close();
});

const toolSpans = (service: string) =>
  receiver.spans.filter((s) => s.service === service && s.attributes['mcp.method.name'] === 'tools/call');

async function everythingCalls(client: Client) {
  const results: unknown[] = [];
  let progress = 0;
  results.push(await client.listTools());
  results.push(await client.callTool({ name: 'echo', arguments: { message: `token ${SECRET}` } }));
  results.push(await client.callTool({ name: 'get-sum', arguments: { a: 19, b: 23 } }));
  results.push(await client.callTool({ name: 'get-tiny-image', arguments: {} }));
  results.push(
    await client.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } },
      undefined,
      {
        onprogress: () => void progress++,
      },
    ),
  );
  results.push(await client.listPrompts());
  results.push(progress);
  return results;
}

describe('proxy: @modelcontextprotocol/server-everything (npm, Streamable HTTP)', () => {
  const SERVICE = 'http-proxy-everything';
  let server: Listening;
  let proxy: Listening;
  let direct: unknown[];
  let proxied: unknown[];
  let serverInfo: { name: string; version: string } | undefined;
  before(async () => {
    server = await startEverything();
    proxy = await startProxy(`http://127.0.0.1:${server.port}/mcp`, [], otlpEnv(receiver.url, SERVICE));
    const a = await connectHttp(`http://127.0.0.1:${server.port}/mcp`);
    direct = await everythingCalls(a.client);
    await a.transport.terminateSession();
    await a.client.close();
    const b = await connectHttp(`http://127.0.0.1:${proxy.port}/mcp`);
    proxied = await everythingCalls(b.client);
    serverInfo = b.client.getServerVersion() as typeof serverInfo;
    await b.transport.terminateSession();
    await b.client.close();
    await receiver.waitForSpans(() => toolSpans(SERVICE).length >= 4);
  });
  after(async () => {
    await stop(proxy);
    await stop(server);
  });

  it('gives the client the same results as a direct connection, call by call', () => {
    assert.equal(proxied.length, direct.length);
    proxied.forEach((result, i) => assert.deepEqual(result, direct[i], `call ${i}`));
    assert.equal(proxied.at(-1), 3, 'three progress notifications came through');
  });

  it('records each tools/call as a span naming the server from its initialize result', () => {
    const spans = toolSpans(SERVICE);
    assert.deepEqual(spans.map((s) => s.attributes['gen_ai.tool.name']).sort(), [
      'echo',
      'get-sum',
      'get-tiny-image',
      'trigger-long-running-operation',
    ]);
    for (const span of spans) {
      assert.equal(span.attributes['mcp_audit.server.name'], serverInfo?.name);
      assert.equal(span.attributes['mcp_audit.server.version'], serverInfo?.version);
      assert.equal(span.attributes['network.transport'], 'tcp');
      assert.equal(typeof span.attributes['mcp.session.id'], 'string');
      assert.equal(span.attributes['error.type'], undefined);
    }
    const sum = spans.find((s) => s.attributes['gen_ai.tool.name'] === 'get-sum')!;
    assert.equal(sum.attributes['gen_ai.tool.call.arguments'], '{"a":19,"b":23}');
    const image = spans.find((s) => s.attributes['gen_ai.tool.name'] === 'get-tiny-image')!;
    assert.match(String(image.attributes['mcp_audit.result.summary']), /image/);
    for (const body of receiver.raw) assert.ok(!body.includes(SECRET), 'secret exported');
  });
});

describe('proxy: the legacy HTTP+SSE transport', () => {
  const SERVICE = 'http-proxy-legacy';
  let server: Listening;
  let proxy: Listening;
  before(async () => {
    server = await startFixture(['--legacy']);
    proxy = await startProxy(`http://127.0.0.1:${server.port}/sse`, [], otlpEnv(receiver.url, SERVICE));
  });
  after(async () => {
    await stop(proxy);
    await stop(server);
  });

  async function calls(client: Client) {
    const results: unknown[] = [await client.listTools()];
    for (const text of ['one', 'two']) {
      const r = (await client.callTool({ name: 'echo', arguments: { text } })) as unknown as {
        structuredContent: Record<string, unknown>;
      };
      results.push({ ...r, structuredContent: { ...r.structuredContent, hasTraceparent: '<meta>' } });
    }
    await client.close();
    return results;
  }

  it('relays the endpoint event and the streamed responses: same results as direct, each call a span', async () => {
    const direct = await calls(await connectSse(`http://127.0.0.1:${server.port}/sse`));
    const proxied = await calls(await connectSse(`http://127.0.0.1:${proxy.port}/sse`));
    assert.deepEqual(proxied, direct);
    await receiver.waitForSpans(() => toolSpans(SERVICE).length >= 2);
    const spans = toolSpans(SERVICE);
    assert.equal(spans.length, 2);
    const conversation = spans[0]!.attributes['gen_ai.conversation.id'];
    for (const span of spans) {
      assert.equal(span.attributes['mcp_audit.server.name'], 'http-session-fixture');
      assert.equal(span.attributes['mcp_audit.proxy'], 'proxy');
      assert.ok((span.attributes['mcp_audit.result.size'] as number) > 0);
      assert.equal(span.attributes['gen_ai.conversation.id'], conversation, 'one session for both calls');
      assert.equal(span.attributes['error.type'], undefined);
    }
  });
});
