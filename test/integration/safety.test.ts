// Two promises of the instrumentation, checked through the real SDK in-process:
// 1. invisible: for arbitrary arguments and results, an instrumented call returns (or rejects with)
//    exactly what the uninstrumented call does, and never throws on its own account;
// 2. a security boundary: no secret of the corpus reaches any exported span attribute, whether it
//    sits in tool arguments, opt-in results, resource URIs, prompt arguments or error messages.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import fc from '../support/property.js';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { setupHarness } from '../support/otel.js';
import { withAuditContext } from '../../src/instrumentation/audit-context.js';

const harness = setupHarness({ captureResults: 'redacted' });
const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
const { McpServer, ResourceTemplate } = await import('@modelcontextprotocol/sdk/server/mcp.js');
const { InMemoryTransport } = await import('@modelcontextprotocol/sdk/inMemory.js');
const z = await import('zod');

const corpus = JSON.parse(
  readFileSync(new URL('../fixtures/secrets-corpus.json', import.meta.url), 'utf8'),
) as {
  secrets: Array<{ class: string; value: string }>;
};

// Whatever the tool is given, it hands back: the arguments as text, and a structured result chosen
// by the test (passed in `__result`), so results of every shape flow through the instrumentation.
function buildServer() {
  const server = new McpServer({ name: 'mirror', version: '1.0.0' });
  server.registerTool('mirror', { inputSchema: { payload: z.any(), __result: z.any() } }, async (args) => {
    const result = args.__result;
    return {
      content: [
        {
          type: 'text',
          text: typeof args.payload === 'string' ? args.payload : (JSON.stringify(args.payload) ?? ''),
        },
      ],
      ...(result && typeof result === 'object' && !Array.isArray(result)
        ? { structuredContent: result }
        : {}),
    };
  });
  server.registerTool('fail_with', { inputSchema: { message: z.string() } }, async ({ message }) => {
    throw new Error(message);
  });
  server.registerResource(
    'doc',
    new ResourceTemplate('doc://{path}', { list: undefined }),
    {},
    async (uri) => ({ contents: [{ uri: uri.href, text: 'ok' }] }),
  );
  server.registerPrompt('greet', { argsSchema: { name: z.string() } }, ({ name }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `hello ${name}` } }],
  }));
  return server;
}

let client: InstanceType<typeof Client>;
let server: ReturnType<typeof buildServer>;
before(async () => {
  server = buildServer();
  client = new Client({ name: 'safety', version: '1.0.0' });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(b);
  await client.connect(a);
});
after(async () => {
  await client.close();
  await server.close();
});

type Outcome = { ok: true; value: unknown } | { ok: false; name: string; message: string; code: unknown };

async function outcome(fn: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    const e = err as { name?: string; message?: string; code?: unknown };
    return { ok: false, name: String(e?.name), message: String(e?.message), code: e?.code };
  }
}

describe('instrumented calls are indistinguishable from uninstrumented ones', () => {
  it('returns the same result or the same error for arbitrary arguments and results', async () => {
    const value = fc.oneof(
      fc.jsonValue(),
      fc.constantFrom(...corpus.secrets.map((s) => s.value)),
      fc.anything({
        withBigInt: true,
        withTypedArray: true,
        withMap: true,
        withSet: true,
        withDate: true,
        withNullPrototype: true,
      }),
    );
    await fc.assert(
      fc.asyncProperty(value, value, async (payload, result) => {
        const call = () => client.callTool({ name: 'mirror', arguments: { payload, __result: result } });
        harness.instrumentation.disable();
        const plain = await outcome(call);
        harness.instrumentation.enable();
        const audited = await outcome(call);
        assert.deepEqual(audited, plain);
      }),
      { numRuns: 150 },
    );
    harness.reset();
  });
});

function exported(spans: ReadableSpan[]): string {
  return JSON.stringify(
    spans.map((s) => ({ name: s.name, attributes: s.attributes, status: s.status, events: s.events })),
  );
}

describe('no corpus secret reaches an exported span', () => {
  it(`masks all ${corpus.secrets.length} secrets in arguments, results, URIs, prompt arguments and errors`, async () => {
    harness.reset();
    const values = corpus.secrets.map((s) => s.value);
    await withAuditContext({ callerId: 'user:sarah', sessionId: 'corpus' }, async () => {
      for (const secret of values) {
        await client.callTool({
          name: 'mirror',
          arguments: {
            payload: {
              note: `customer wrote: ${secret} (see ticket)`,
              nested: [{ value: secret }],
              sql: `SELECT * FROM t WHERE v = '${secret}'`,
            },
            __result: { rows: [{ field: secret }], echo: `result ${secret}` },
          },
        });
        await client.callTool({ name: 'fail_with', arguments: { message: `lookup failed for ${secret}` } });
      }
      for (const secret of values.filter((v) => !/\s|\n/.test(v)).slice(0, 60)) {
        await client.readResource({ uri: `doc://${encodeURIComponent(secret)}` }).catch(() => undefined);
        await client.readResource({ uri: `doc://records?owner=${secret}` }).catch(() => undefined);
        await client.getPrompt({ name: 'greet', arguments: { name: secret } });
      }
    });
    const spans = await harness.waitForSpans(values.length * 4, 20000);
    const text = exported(spans);
    const leaked = values.filter((v) => text.includes(v));
    assert.deepEqual(leaked, [], `${leaked.length} secrets leaked`);
    const masked = spans.reduce((n, s) => n + Number(s.attributes['mcp_audit.redacted.count'] ?? 0), 0);
    assert.ok(masked >= values.length * 4, `redaction counted ${masked} masked values`);
  });
});
