// `mcp-audit wrap` derives the detection signals exactly as the in-process instrumentation does.
// Each demo server (real MCP SDK servers over stdio) runs under wrap AND with
// `node --import dist/register.js`, so every call is seen twice: by the proxy, from the JSON-RPC
// lines it relays, and by the server's own instrumentation, from the SDK's parsed request and
// result. The server's span is the child of wrap's (wrap injects the trace context), and both must
// carry the same mcp_audit.result.pii.* and mcp_audit.arguments.risk: one implementation, fed by
// two paths. The one exception is a result over wrap's parse limit, which wrap relays without
// reading: its classes are unknown on wrap's span (absent, not zero). Driven by the real SDK
// client; spans go to a real OTLP/HTTP endpoint.
//
//   npm run build && node --import tsx --test test/integration/wrap-content-signals.test.ts
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { REGISTER_ESM, ROOT, otlpEnv } from '../support/proc.js';
import { connect, killLive, wrapped } from './wrap-harness.js';

const WRAP_SERVICE = 'wrap-signals';
const SERVER_SERVICE = 'inproc-signals';
const SIGNALS = [
  'mcp_audit.result.pii.classes',
  'mcp_audit.result.pii.class_counts',
  'mcp_audit.result.pii.count',
  'mcp_audit.arguments.risk',
] as const;
/** Every text of the calls below that must stay out of the signals. */
const CONTENT = ['sarah.chen@example.com', '555-0134', '4111 1111', 'cron.d', 'SELECT', 'id_rsa', 'Ada'];

let dir: string;
let receiver: OtlpReceiver;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-audit-wrap-signals-'));
  receiver = await startOtlpReceiver();
});
after(async () => {
  killLive();
  await receiver.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A demo server under wrap, itself instrumented in-process; the client connected. */
async function wrappedDemoServer(server: 'db' | 'files', env: NodeJS.ProcessEnv): Promise<Client> {
  const script = join(ROOT, 'dist', 'demo', 'servers', `${server}.js`);
  return connect(
    wrapped(
      process.execPath,
      ['--import', pathToFileURL(REGISTER_ESM).href, script],
      ['--caller', 'user:sarah', '--session', `signals-${server}`, '--service', WRAP_SERVICE],
      { ...otlpEnv(receiver.url, SERVER_SERVICE), OTEL_METRIC_EXPORT_TIMEOUT: '400', ...env },
    ),
  );
}

interface Seen {
  tool: string;
  wrap: ReceivedSpan;
  server: ReceivedSpan;
}

const toolSpans = (service: string) =>
  receiver.spans.filter((s) => s.service === service && s.attributes['mcp.method.name'] === 'tools/call');

/** Each wrap tools/call span with the server's own span of the same call (its child). */
function pairs(): Seen[] {
  const server = toolSpans(SERVER_SERVICE);
  return toolSpans(WRAP_SERVICE).flatMap((wrap) => {
    const own = server.find((s) => s.parentSpanId === wrap.spanId && s.traceId === wrap.traceId);
    return own ? [{ tool: String(wrap.attributes['gen_ai.tool.name']), wrap, server: own }] : [];
  });
}

const unparsed = (p: Seen) => p.wrap.attributes['mcp_audit.result.unparsed'] === true;
const signals = (span: ReceivedSpan) => Object.fromEntries(SIGNALS.map((k) => [k, span.attributes[k]]));

describe('wrap: the content signals are the in-process instrumentation’s', () => {
  let seen: Seen[];
  const CALLS = 8;
  before(async () => {
    const db = await wrappedDemoServer('db', { MCP_DEMO_CUSTOMERS: '300' });
    // One customer's contact row: small, personal data, bounded by WHERE.
    await db.callTool({
      name: 'db_query',
      arguments: { sql: 'SELECT name, email, phone FROM customers WHERE id = 4471' },
    });
    // The whole table: an unbounded read, ~100 KB (the scan takes several event-loop turns).
    await db.callTool({ name: 'db_query', arguments: { sql: 'SELECT * FROM customers' } });
    // An aggregate: neither personal data nor a whole-table read.
    await db.callTool({ name: 'db_query', arguments: { sql: 'SELECT count(*) AS n FROM customers' } });
    await db.close();

    // A file whose result line (its text twice: content and structuredContent) is over wrap's
    // 16 MiB parse limit: relayed untouched, never parsed by wrap.
    mkdirSync(join(dir, 'files', 'exports'), { recursive: true });
    const contact = 'Ada Byron, ada.byron@example.org, +1-415-555-0199\n';
    writeFileSync(
      join(dir, 'files', 'exports', 'contacts.txt'),
      contact.repeat(Math.ceil(9e6 / contact.length)),
    );
    const files = await wrappedDemoServer('files', { MCP_DEMO_FILES_ROOT: join(dir, 'files') });
    // Test case 2's path (the demo server maps it into its sandbox: nothing under /etc is touched).
    await files.callTool({
      name: 'file_write',
      arguments: { path: '/etc/cron.d/backdoor', content: '* * * * * root /tmp/agent-helper' },
    });
    await files.callTool({
      name: 'file_write',
      arguments: { path: 'notes/contact.txt', content: 'Ada: +1-415-555-0134, card 4111 1111 1111 1111' },
    });
    await files.callTool({ name: 'file_read', arguments: { path: 'notes/contact.txt' } });
    // A credential location by name; the file does not exist (a tool error).
    await files.callTool({ name: 'file_read', arguments: { path: '/home/sarah/.ssh/id_rsa' } });
    await files.callTool({ name: 'file_read', arguments: { path: 'exports/contacts.txt' } });
    await files.close();
    seen = await receiver.waitForSpans(() => pairs().length >= CALLS, 30_000).then(pairs);
  });

  it('records every call on both paths, the server’s span under wrap’s', () => {
    assert.equal(seen.length, CALLS);
    for (const { wrap, server } of seen) {
      assert.equal(wrap.attributes['mcp_audit.proxy'], 'wrap');
      assert.equal(server.attributes['mcp_audit.proxy'], undefined);
      assert.equal(server.attributes['gen_ai.tool.name'], wrap.attributes['gen_ai.tool.name']);
      assert.equal(
        server.attributes['gen_ai.tool.call.arguments'],
        wrap.attributes['gen_ai.tool.call.arguments'],
      );
    }
  });

  it('gives each call the same result classes, counts and argument risk tags as in-process', () => {
    for (const { tool, wrap, server } of seen.filter((p) => !unparsed(p))) {
      assert.deepEqual(
        signals(wrap),
        signals(server),
        `${tool} ${wrap.attributes['gen_ai.tool.call.arguments']}`,
      );
    }
  });

  it('a result over wrap’s parse limit has unknown classes on wrap’s span, not zero; its tags are the same', () => {
    const big = seen.filter(unparsed);
    assert.equal(big.length, 1);
    const { wrap, server } = big[0]!;
    assert.ok((wrap.attributes['mcp_audit.result.size'] as number) > 16 * 1024 * 1024);
    for (const key of SIGNALS.filter((k) => k !== 'mcp_audit.arguments.risk')) {
      assert.equal(wrap.attributes[key], undefined, `${key} of a result wrap never read`);
    }
    assert.equal(wrap.attributes['mcp_audit.arguments.risk'], server.attributes['mcp_audit.arguments.risk']);
    // The server saw it: the first 1 MiB of it holds thousands of addresses and phone numbers.
    assert.deepEqual(server.attributes['mcp_audit.result.pii.classes'], ['email', 'phone']);
    assert.ok((server.attributes['mcp_audit.result.pii.count'] as number) > 1000);
  });

  it('and those signals are the right ones: personal data by class, system paths, whole-table reads', () => {
    const byArgs = (fragment: string) => {
      const found = seen.filter((p) =>
        String(p.wrap.attributes['gen_ai.tool.call.arguments']).includes(fragment),
      );
      assert.equal(found.length, 1, fragment);
      return found[0]!.wrap.attributes;
    };
    const row = byArgs('WHERE id = 4471');
    // The row is in the result twice (text content and structuredContent).
    assert.deepEqual(row['mcp_audit.result.pii.classes'], ['email', 'phone']);
    assert.deepEqual(row['mcp_audit.result.pii.class_counts'], [2, 2]);
    assert.equal(row['mcp_audit.result.pii.count'], 4);
    assert.equal(row['mcp_audit.arguments.risk'], undefined);

    const table = byArgs('SELECT * FROM');
    assert.deepEqual(table['mcp_audit.arguments.risk'], ['unbounded_read']);
    const classes = table['mcp_audit.result.pii.classes'] as string[];
    for (const cls of ['email', 'phone', 'ssn']) assert.ok(classes.includes(cls), `${cls} in ${classes}`);
    assert.ok(
      (table['mcp_audit.result.pii.count'] as number) >= 3 * 2 * 300,
      'every row’s email, phone, ssn',
    );

    const count = byArgs('count(*)');
    assert.equal(count['mcp_audit.result.pii.count'], 0);
    assert.equal(count['mcp_audit.result.pii.classes'], undefined);
    assert.equal(count['mcp_audit.arguments.risk'], undefined);

    assert.deepEqual(byArgs('/etc/cron.d/backdoor')['mcp_audit.arguments.risk'], ['system_path']);
    assert.equal(byArgs('notes/contact.txt","content')['mcp_audit.arguments.risk'], undefined);
    const read = seen.find(
      (p) =>
        p.tool === 'file_read' && String(p.wrap.attributes['gen_ai.tool.call.arguments']).includes('notes'),
    )!.wrap.attributes;
    assert.deepEqual(read['mcp_audit.result.pii.classes'], ['card', 'phone']);
    assert.equal(read['mcp_audit.arguments.risk'], undefined);
    assert.deepEqual(byArgs('.ssh')['mcp_audit.arguments.risk'], ['system_path']);
  });

  it('carries no argument or result text in the signals', () => {
    for (const { wrap, server } of seen) {
      const text = JSON.stringify([signals(wrap), signals(server)]);
      for (const content of CONTENT) assert.ok(!text.includes(content), `${content} in ${text}`);
    }
  });
});
