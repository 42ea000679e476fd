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
import { SpanKind } from '@opentelemetry/api';
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

// ---- no corpus secret reaches an exported span, in any form ----------------------------------------

type Secret = { class: string; value: string };

/** Per class, the prefix every secret of the class starts with (a format marker, not secret). */
function classPrefixes(secrets: Secret[]): Map<string, string> {
  const byClass = new Map<string, string[]>();
  for (const s of secrets) byClass.set(s.class, [...(byClass.get(s.class) ?? []), s.value]);
  const prefixes = new Map<string, string>();
  for (const [kind, values] of byClass) {
    if (values.length < 2) continue;
    let prefix = values[0]!;
    for (const v of values) while (!v.startsWith(prefix)) prefix = prefix.slice(0, -1);
    prefixes.set(kind, prefix);
  }
  return prefixes;
}

/**
 * The pieces of a secret that are secret, for the partial-leak check: what every secret of its
 * class starts with is a format marker ("AGE-SECRET-KEY-1", "https://discord.com/api/webhooks/"),
 * and so are PEM armour lines, a scheme word ("Bearer"), the key of a `Key=value` pair
 * ("AccountKey=", in a class whose other values are bare), and the scheme, host and plain-word path
 * segments of a URL (whose password, tokens and ids are the secret). Everything else, in every class
 * (including classes added to the corpus later), is secret material.
 */
function secretPieces(secret: Secret, classPrefix: string | undefined): string[] {
  let value = secret.value;
  if (classPrefix && classPrefix.length < value.length) value = value.slice(classPrefix.length);
  value = value
    .replace(/-----(BEGIN|END) [A-Z0-9 ]+-----/g, '\n')
    .replace(/^(Bearer|Basic)\s+/i, '')
    .replace(/^[A-Za-z][A-Za-z0-9_]{2,40}=["']?(?=.)/, '');
  const url = /^([a-z][a-z0-9+.-]*:\/\/)?(?:([^:/@\s]*):([^@\s]+)@)?([^/\s]*)(\/.*)?$/is.exec(value);
  if (url && (url[1] || url[3])) {
    // a URL: its password, and the path segments that hold more than a word
    const path = (url[5] ?? '').split(/[/?&=#]/).filter((segment) => /\d/.test(segment));
    return [...(url[3] ? [url[3]] : []), ...path];
  }
  return value.split('\n').filter((line) => line.trim() !== '');
}

/** The encodings a leak could take in exported text. */
function encodings(text: string): string[] {
  const bytes = Buffer.from(text, 'utf8');
  // base64 of the text at each of the three byte alignments it can have inside a longer
  // base64-encoded string; the characters that depend on the neighbouring bytes are cut off.
  const base64 = [0, 1, 2].flatMap((pad) => {
    const encoded = Buffer.concat([Buffer.alloc(pad), bytes]).toString('base64');
    const inner = encoded.slice(pad === 0 ? 0 : 4, -4);
    return [inner, inner.replace(/\+/g, '-').replace(/\//g, '_')];
  });
  return [
    text,
    JSON.stringify(text).slice(1, -1), // JSON-escaped: a multi-line key as \n
    encodeURIComponent(text),
    encodeURIComponent(text).replace(/%20/g, '+'), // form encoding
    encodeURI(text),
    ...base64,
  ].filter((form, i, all) => form.length > 0 && all.indexOf(form) === i);
}

/** Length of the pieces a partial leak is looked for by. */
const PARTIAL = 12;

/** Substrings of `PARTIAL` characters with at least 4 different characters (not "111111111111"). */
function distinctiveWindows(text: string): string[] {
  const out = new Set<string>();
  for (let i = 0; i + PARTIAL <= text.length; i++) {
    const window = text.slice(i, i + PARTIAL);
    if (new Set(window).size >= 4) out.add(window);
  }
  return [...out];
}

/** What an exporter sends of each span, one entry per attribute, event and the status. */
function exportedFields(spans: ReadableSpan[]): Array<{ where: string; text: string }> {
  const fields: Array<{ where: string; text: string }> = [];
  const strings = (value: unknown): string[] =>
    typeof value === 'string'
      ? [value]
      : Array.isArray(value)
        ? value.flatMap(strings)
        : value && typeof value === 'object'
          ? Object.values(value).flatMap(strings)
          : [];
  const add = (where: string, value: unknown) =>
    fields.push({ where, text: [JSON.stringify(value), ...strings(value)].join('\u0000') });
  for (const s of spans) {
    const at = `${s.attributes['mcp.method.name']} ${s.kind === SpanKind.CLIENT ? 'client' : 'server'}`;
    add(`${at} span name`, s.name);
    for (const [key, value] of Object.entries(s.attributes)) add(`${at} ${key}`, value);
    add(`${at} status`, s.status);
    for (const e of s.events) add(`${at} event ${e.name}`, e.attributes ?? {});
  }
  return fields;
}

function formKind(secretText: string, form: string): string {
  if (form === secretText) return 'raw';
  if (form === JSON.stringify(secretText).slice(1, -1)) return 'JSON-escaped';
  if (/%[0-9A-F]{2}/.test(form)) return 'URL-encoded';
  return 'base64';
}

/** Every leak of `secret` in the exported fields: whole, or a 12-character piece, in any encoding. */
function leaks(
  secret: Secret,
  classPrefix: string | undefined,
  fields: Array<{ where: string; text: string }>,
): string[] {
  const whole = encodings(secret.value).map((form) => ({ form, kind: formKind(secret.value, form) }));
  // Every distinctive window of every encoding of every secret piece, with the encoding's name.
  const windows = new Map<string, string>();
  for (const piece of secretPieces(secret, classPrefix))
    for (const form of encodings(piece))
      for (const window of distinctiveWindows(form))
        if (!windows.has(window)) windows.set(window, formKind(piece, form));
  const found = new Set<string>();
  for (const { where, text } of fields) {
    for (const { form, kind } of whole) if (text.includes(form)) found.add(`whole, ${kind}, in ${where}`);
    for (let i = 0; i + PARTIAL <= text.length; i++) {
      const kind = windows.get(text.slice(i, i + PARTIAL));
      if (kind) found.add(`part ${JSON.stringify(text.slice(i, i + PARTIAL))}, ${kind}, in ${where}`);
    }
  }
  return [...found];
}

describe('no corpus secret reaches an exported span', () => {
  // Read when the test runs: every secret in the corpus, including ones added later, is covered.
  const secrets: Secret[] = corpus.secrets;
  const prefixes = classPrefixes(secrets);
  const positions = ['tool arguments', 'tool results', 'tool errors', 'resource URIs', 'prompt arguments'];

  // Six requests per secret for hundreds of secrets: allowed more than the default per-test timeout.
  it(
    `masks all ${secrets.length} corpus secrets in ${positions.join(', ')}, in any encoded or partial form`,
    { timeout: 600_000 },
    async () => {
      assert.ok(secrets.length >= 200, `the corpus holds ${secrets.length} secrets`);
      const leaked: string[] = [];
      const unmasked: string[] = [];
      for (const secret of secrets) {
        harness.reset();
        const value = secret.value;
        await withAuditContext({ callerId: 'user:sarah', sessionId: 'corpus' }, async () => {
          await client.callTool({
            name: 'mirror',
            arguments: {
              payload: {
                note: `customer wrote: ${value} (see ticket)`,
                nested: [{ value }],
                sql: `SELECT * FROM t WHERE v = '${value}'`,
              },
              __result: { rows: [{ field: value }], echo: `result ${value}` },
            },
          });
          await client.callTool({ name: 'fail_with', arguments: { message: `lookup failed for ${value}` } });
          // A URI carries a secret percent-encoded (the normal way) or as it is.
          await client.readResource({ uri: `doc://${encodeURIComponent(value)}` }).catch(() => undefined);
          await client
            .readResource({ uri: `doc://records?owner=${encodeURIComponent(value)}` })
            .catch(() => undefined);
          await client.readResource({ uri: `doc://records?owner=${value}` }).catch(() => undefined);
          await client.getPrompt({ name: 'greet', arguments: { name: value } });
        });
        // client and server span of each of the six requests
        const spans = await harness.waitForSpans(12);
        const label = `${secret.class} ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
        for (const leak of leaks(secret, prefixes.get(secret.class), exportedFields(spans)))
          leaked.push(`${label}: ${leak}`);
        // Each position carried the secret into a span and had it masked there.
        for (const method of ['tools/call', 'resources/read', 'prompts/get']) {
          const masked = spans
            .filter((s) => s.attributes['mcp.method.name'] === method)
            .reduce((n, s) => n + Number(s.attributes['mcp_audit.redacted.count'] ?? 0), 0);
          if (masked === 0) unmasked.push(`${label}: nothing masked in ${method}`);
        }
      }
      assert.deepEqual(leaked, [], `${leaked.length} leaks:\n${leaked.join('\n')}`);
      assert.deepEqual(unmasked, [], unmasked.join('\n'));
    },
  );
});
