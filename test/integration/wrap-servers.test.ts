// `mcp-audit wrap` in front of real third-party MCP servers from npm and PyPI, driven by the real
// TypeScript SDK client: what the client receives is byte-identical to a direct connection, what
// the server receives differs only by the injected trace context, and every tools/call is a span
// with the audit attributes, exported to a real OTLP/HTTP endpoint.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';
import { otlpEnv as baseOtlpEnv } from '../support/proc.js';
import {
  EVERYTHING,
  FILESYSTEM,
  PY_FIXTURE,
  RecordingTransport,
  connect,
  killLive,
  lines,
  venvPython,
  withoutInjected,
  wrapped,
} from './wrap-harness.js';

const SERVER_KIND = 2;
// A metric export interval shorter than the default export timeout is refused by the SDK.
const otlpEnv = (url: string, service: string) => ({
  ...baseOtlpEnv(url, service),
  OTEL_METRIC_EXPORT_TIMEOUT: '400',
});
const SECRET = 'AKIAIOSFODNN7EXAMPLE';
const PASSWORD = 'hunter2-very-secret';

let dir: string;
let receiver: OtlpReceiver;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-audit-wrap-'));
  receiver = await startOtlpReceiver();
});
after(async () => {
  killLive();
  await receiver.close();
  rmSync(dir, { recursive: true, force: true });
});

const toolSpans = (service: string) =>
  receiver.spans.filter((s) => s.service === service && s.attributes['mcp.method.name'] === 'tools/call');

/** The same session against a server: initialize, list, a few calls. Returns the results. */
async function everythingSession(transport: RecordingTransport) {
  const client = await connect(transport);
  const results: unknown[] = [];
  results.push(await client.listTools());
  results.push(
    await client.callTool({ name: 'echo', arguments: { message: `key ${SECRET} password=${PASSWORD}` } }),
  );
  results.push(await client.callTool({ name: 'get-sum', arguments: { a: 19, b: 23 } }));
  results.push(await client.callTool({ name: 'get-tiny-image', arguments: {} }));
  results.push(await client.listPrompts());
  await client.close();
  return results;
}

describe('wrap: @modelcontextprotocol/server-everything (npm, stdio)', () => {
  let direct: RecordingTransport;
  let proxy: RecordingTransport;
  let directResults: unknown[];
  let proxyResults: unknown[];
  const tee = (name: string) => ['-c', `tee ${join(dir, name)} | exec node ${EVERYTHING} stdio`];
  before(async () => {
    direct = new RecordingTransport('sh', tee('direct.in'));
    directResults = await everythingSession(direct);
    proxy = wrapped('sh', tee('proxy.in'), ['--caller', 'user:sarah', '--session', 's-everything'], {
      ...otlpEnv(receiver.url, 'wrap-everything'),
    });
    proxyResults = await everythingSession(proxy);
    await receiver.waitForSpans(() => toolSpans('wrap-everything').length >= 3);
  });

  it('gives the client the same results and the same bytes as a direct connection', () => {
    assert.deepEqual(proxyResults, directResults);
    assert.equal(proxy.stdout.toString(), direct.stdout.toString());
    assert.ok(lines(proxy.stdout).length >= 6);
  });

  it('hands the server the client bytes unchanged except the injected trace context', () => {
    const directIn = lines(readFileSync(join(dir, 'direct.in')));
    const proxyIn = lines(readFileSync(join(dir, 'proxy.in')));
    assert.deepEqual(
      directIn,
      direct.sent.map((l) => l.trimEnd()),
    );
    assert.equal(proxyIn.length, proxy.sent.length);
    let injected = 0;
    proxyIn.forEach((line, i) => {
      const sent = proxy.sent[i]!.trimEnd();
      if (line === sent) return;
      injected++;
      const original = JSON.parse(sent) as { params?: unknown };
      const stripped = withoutInjected(line) as { params?: Record<string, unknown> };
      if (original.params === undefined && stripped.params && Object.keys(stripped.params).length === 0) {
        delete stripped.params;
      }
      assert.deepEqual(stripped, original, `line ${i} differs by more than _meta trace context`);
      assert.match(line, /"traceparent":"00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]"/);
    });
    assert.ok(injected >= 4, `only ${injected} requests got trace context`);
  });

  it('records every tools/call as a SERVER span with the audit attributes', () => {
    const spans = toolSpans('wrap-everything');
    assert.equal(spans.length, 3);
    for (const span of spans) {
      assert.equal(span.kind, SERVER_KIND);
      const a = span.attributes;
      assert.equal(a['network.transport'], 'pipe');
      assert.equal(a['gen_ai.operation.name'], 'execute_tool');
      assert.equal(a['mcp_audit.server.name'], 'mcp-servers/everything');
      assert.equal(typeof a['mcp_audit.server.version'], 'string');
      assert.equal(a['mcp_audit.client.name'], 'wrap-test-client');
      assert.equal(a['enduser.id'], 'user:sarah');
      assert.equal(a['mcp_audit.caller.source'], 'context');
      assert.equal(a['gen_ai.conversation.id'], 's-everything');
      assert.equal(a['mcp_audit.client.instrumented'], false);
      assert.equal(a['mcp_audit.proxy'], 'wrap');
      assert.equal(typeof a['mcp_audit.unverified.os_user'], 'string');
      assert.equal(typeof a['mcp_audit.unverified.parent_pid'], 'number');
      assert.notEqual(a['enduser.id'], a['mcp_audit.unverified.os_user']);
      assert.ok((a['mcp_audit.result.size'] as number) > 0);
      assert.equal(a['error.type'], undefined);
    }
    const sum = spans.find((s) => s.name === 'tools/call get-sum')!;
    assert.equal(sum.attributes['gen_ai.tool.call.arguments'], '{"a":19,"b":23}');
    assert.match(String(sum.attributes['mcp_audit.result.summary']), /content: 1 text/);
    const image = spans.find((s) => s.name === 'tools/call get-tiny-image')!;
    assert.match(String(image.attributes['mcp_audit.result.summary']), /image/);
  });

  it('never lets the secret in an argument reach the exporter, though the server got it', () => {
    const echo = toolSpans('wrap-everything').find((s) => s.name === 'tools/call echo')!;
    const args = String(echo.attributes['gen_ai.tool.call.arguments']);
    assert.match(args, /\[REDACTED:/);
    for (const body of receiver.raw) {
      assert.ok(!body.includes(SECRET), 'the AWS key reached the exporter');
      assert.ok(!body.includes(PASSWORD), 'the password reached the exporter');
    }
    assert.ok(proxy.stdout.toString().includes(SECRET), 'the relay must not alter what the server answers');
  });

  it('records initialize with the server identity and protocol version, and the list calls', () => {
    const spans = receiver.spans.filter((s) => s.service === 'wrap-everything');
    const init = spans.find((s) => s.name === 'initialize')!;
    assert.equal(init.attributes['mcp_audit.server.name'], 'mcp-servers/everything');
    assert.equal(typeof init.attributes['mcp.protocol.version'], 'string');
    assert.ok(spans.some((s) => s.name === 'tools/list'));
    assert.ok(spans.some((s) => s.name === 'prompts/list'));
  });
});

describe('wrap: @modelcontextprotocol/server-filesystem (npm) with a 10 MB result', () => {
  it('relays a 10 MB response byte for byte and records its size', async () => {
    const root = join(dir, 'fs');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(root);
    // 5 MB of text: the server returns it twice (content and structuredContent), a 10 MB line,
    // just under the SDK client's own 10 MiB limit. Seeded: deterministic, no line breaks.
    let seed = 7;
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789 ';
    const text = Array.from({ length: 5_000_000 }, () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return alphabet[seed % alphabet.length];
    }).join('');
    writeFileSync(join(root, 'big.txt'), text);
    const read = async (transport: RecordingTransport) => {
      const client = await connect(transport);
      const result = await client.callTool({
        name: 'read_text_file',
        arguments: { path: join(root, 'big.txt') },
      });
      await client.close();
      return result;
    };
    const direct = new RecordingTransport(process.execPath, [FILESYSTEM, root]);
    const directResult = await read(direct);
    const proxy = wrapped(process.execPath, [FILESYSTEM, root], [], otlpEnv(receiver.url, 'wrap-fs'));
    const proxyResult = await read(proxy);
    assert.deepEqual(proxyResult, directResult);
    assert.ok(proxy.stdout.equals(direct.stdout), 'the bytes differ from a direct connection');
    assert.ok(proxy.stdout.length > 10_000_000);
    const [span] = await receiver
      .waitForSpans(
        (spans) => spans.some((s) => s.service === 'wrap-fs' && s.name === 'tools/call read_text_file'),
        30000,
      )
      .then((spans) =>
        spans.filter((s) => s.service === 'wrap-fs' && s.name === 'tools/call read_text_file'),
      );
    assert.ok((span!.attributes['mcp_audit.result.size'] as number) > 10_000_000);
    assert.equal(span!.attributes['mcp_audit.server.name'], 'secure-filesystem-server');
  });
});

describe('wrap: Python servers from PyPI (project-local venv)', () => {
  let py: string;
  before(() => {
    py = venvPython();
  });

  it('mcp-server-time: results as direct, spans with the server identity', async () => {
    const server = py.replace(/python$/, 'mcp-server-time');
    const call = async (transport: RecordingTransport) => {
      const client = await connect(transport);
      const tools = await client.listTools();
      const converted = await client.callTool({
        name: 'convert_time',
        arguments: { source_timezone: 'Europe/Paris', time: '14:30', target_timezone: 'Asia/Tokyo' },
      });
      await client.close();
      return { tools, converted };
    };
    const direct = await call(new RecordingTransport(server, ['--local-timezone', 'UTC']));
    const proxy = wrapped(
      server,
      ['--local-timezone', 'UTC'],
      ['--caller', 'user:py'],
      otlpEnv(receiver.url, 'wrap-time'),
    );
    const viaProxy = await call(proxy);
    assert.deepEqual(viaProxy, direct);
    const [span] = await receiver
      .waitForSpans((s) => s.some((x) => x.service === 'wrap-time' && x.name === 'tools/call convert_time'))
      .then((s) => s.filter((x) => x.service === 'wrap-time' && x.name === 'tools/call convert_time'));
    assert.equal(span!.attributes['mcp_audit.server.name'], 'mcp-time');
    assert.equal(span!.attributes['enduser.id'], 'user:py');
    assert.equal(
      span!.attributes['gen_ai.tool.call.arguments'],
      '{"source_timezone":"Europe/Paris","time":"14:30","target_timezone":"Asia/Tokyo"}',
    );
    assert.equal(span!.attributes['network.transport'], 'pipe');
  });

  it('FastMCP fixture: the injected traceparent reaches the server and names the proxy span', async () => {
    const proxy = wrapped(py, [PY_FIXTURE], [], otlpEnv(receiver.url, 'wrap-fastmcp'));
    const client = await connect(proxy);
    const seen = (await client.callTool({ name: 'whoami', arguments: {} })) as {
      content: { text: string }[];
    };
    const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const kept = (await client.callTool({
      name: 'whoami',
      arguments: {},
      _meta: { traceparent: parent },
    })) as {
      content: { text: string }[];
    };
    await client.close();
    const spans = await receiver
      .waitForSpans(
        (s) => s.filter((x) => x.service === 'wrap-fastmcp' && x.name === 'tools/call whoami').length >= 2,
      )
      .then((s) => s.filter((x) => x.service === 'wrap-fastmcp' && x.name === 'tools/call whoami'));
    const injected = spans.find((s) => s.attributes['mcp_audit.client.instrumented'] === false)!;
    const [, traceId, spanId] = seen.content[0]!.text.split('-');
    assert.equal(traceId, injected.traceId);
    assert.equal(spanId, injected.spanId);
    // A request that carries trace context keeps it, and the proxy's span is its child.
    assert.equal(kept.content[0]!.text, parent);
    const child = spans.find((s) => s.attributes['mcp_audit.client.instrumented'] === true)!;
    assert.equal(child.traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(child.parentSpanId, 'b7ad6b7169203331');
  });
});
