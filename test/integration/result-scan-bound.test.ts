// The result scan behind mcp_audit.result.pii.* reads a bounded sample of a large result (its first
// 64 KiB whole, then windows spread across the rest), set by resultScanChars /
// MCP_AUDIT_RESULT_SCAN_CHARS. Seen from the spans a real Client ↔ McpServer call produces,
// instrumented in-process over the SDK's InMemoryTransport.
import { strict as assert } from 'node:assert';
import { after, afterEach, before, describe, it } from 'node:test';
import { diag, DiagLogLevel, SpanKind, type Attributes } from '@opentelemetry/api';
import { setupHarness, type Harness } from '../support/otel.js';

const harness: Harness = setupHarness();
const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
const { McpServer } = await import('@modelcontextprotocol/sdk/server/mcp.js');
const { InMemoryTransport } = await import('@modelcontextprotocol/sdk/inMemory.js');
const z = await import('zod');

// About 200 KB of rows without personal data, then about 700 KB of customer rows.
const PLAIN_ROWS = Array.from({ length: 5000 }, (_, i) => ({ id: i, city: 'Leeds', balance: 48210 + i }));
const CUSTOMERS = Array.from({ length: 9000 }, (_, i) => ({
  id: 5000 + i,
  name: `Customer ${i}`,
  email: `customer${i}@example.com`,
  phone: `+1-415-555-${String(1000 + i).slice(-4)}`,
}));
const DUMP = JSON.stringify({ rows: [...PLAIN_ROWS, ...CUSTOMERS] });
// A short result whose one address sits 5,000 characters in.
const LATE_ADDRESS = `${'x'.repeat(5000)} ada@example.org`;

const warnings: string[] = [];
let client: InstanceType<typeof Client>;
let close: () => Promise<void>;

before(async () => {
  diag.setLogger(
    {
      error: () => {},
      warn: (...args: unknown[]) => void warnings.push(args.map(String).join(' ')),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    DiagLogLevel.WARN,
  );
  const server = new McpServer({ name: 'dump-server', version: '1.0.0' });
  server.registerTool('export', { inputSchema: { what: z.string() } }, async ({ what }) => ({
    content: [{ type: 'text', text: what === 'late' ? LATE_ADDRESS : DUMP }],
  }));
  client = new Client({ name: 'dump-client', version: '1.0.0' });
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  await client.connect(clientTransport);
  // The initialize request's two spans, out of the way of the calls below.
  await harness.waitForSpans(2);
  close = async () => {
    await client.close();
    await server.close();
  };
});
after(async () => {
  await close();
  diag.disable();
  delete process.env.MCP_AUDIT_RESULT_SCAN_CHARS;
});

/** Calls the tool under `config` and returns both spans' attributes and the result the client got. */
async function call(config: object, what = 'dump') {
  harness.instrumentation.setConfig(config);
  harness.reset();
  const result = await client.callTool({ name: 'export', arguments: { what } });
  const spans = (await harness.waitForSpans(2)).filter((s) => s.name === 'tools/call export');
  assert.equal(spans.length, 2);
  const side = (kind: SpanKind): Attributes => spans.find((s) => s.kind === kind)!.attributes;
  return { result, client: side(SpanKind.CLIENT), server: side(SpanKind.SERVER) };
}

const PII = [
  'mcp_audit.result.pii.count',
  'mcp_audit.result.pii.classes',
  'mcp_audit.result.pii.class_counts',
];
const pii = (attrs: Attributes) =>
  Object.fromEntries(PII.filter((k) => k in attrs).map((k) => [k, attrs[k]]));

describe('the result scan bound', () => {
  afterEach(() => {
    warnings.length = 0;
    delete process.env.MCP_AUDIT_RESULT_SCAN_CHARS;
  });

  it('default: personal data past the head of a large result is found, the same on both sides', async () => {
    const { result, client: c, server: s } = await call({});
    assert.deepEqual(c['mcp_audit.result.pii.classes'], ['email', 'phone']);
    const counts = c['mcp_audit.result.pii.class_counts'] as number[];
    // A sample of the 9,000 rows: some, not all.
    for (const n of counts) assert.ok(n > 50 && n < 9000, `${n}`);
    assert.deepEqual(pii(s), pii(c));
    // The size is still the whole result's, exactly.
    const size = Buffer.byteLength(JSON.stringify(result));
    assert.equal(c['mcp_audit.result.size'], size);
    assert.equal(s['mcp_audit.result.size'], size);
  });

  it('a budget as large as the result reads all of it', async () => {
    const { client: c, server: s } = await call({ resultScanChars: 2 * DUMP.length });
    assert.deepEqual(pii(c), {
      'mcp_audit.result.pii.count': 18000,
      'mcp_audit.result.pii.classes': ['email', 'phone'],
      'mcp_audit.result.pii.class_counts': [9000, 9000],
    });
    assert.deepEqual(pii(s), pii(c));
  });

  it('a budget within the head scans a prefix; 0 turns the scan off', async () => {
    assert.equal((await call({ resultScanChars: 8192 }, 'late')).client['mcp_audit.result.pii.count'], 1);
    const short = await call({ resultScanChars: 4096 }, 'late');
    assert.deepEqual(pii(short.client), { 'mcp_audit.result.pii.count': 0 });
    assert.deepEqual(pii(short.server), { 'mcp_audit.result.pii.count': 0 });
    const off = await call({ resultScanChars: 0 });
    assert.deepEqual(pii(off.client), {});
    assert.deepEqual(pii(off.server), {});
    assert.deepEqual(warnings, []);
  });

  it('MCP_AUDIT_RESULT_SCAN_CHARS sets it when the option does not', async () => {
    process.env.MCP_AUDIT_RESULT_SCAN_CHARS = '4096';
    assert.equal((await call({}, 'late')).client['mcp_audit.result.pii.count'], 0);
    // The option wins over the environment.
    assert.equal((await call({ resultScanChars: 8192 }, 'late')).client['mcp_audit.result.pii.count'], 1);
  });

  it('a bad value is reported in one clear line and the default applies', async () => {
    for (const bad of [-1, 1.5, '64k']) {
      warnings.length = 0;
      const { client: c } = await call({ resultScanChars: bad }, 'late');
      assert.equal(c['mcp_audit.result.pii.count'], 1);
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(
        warnings[0]!,
        /ignoring resultScanChars .* \(not a whole number >= 0\); using the default/,
      );
    }
    warnings.length = 0;
    process.env.MCP_AUDIT_RESULT_SCAN_CHARS = 'lots';
    assert.equal((await call({}, 'late')).client['mcp_audit.result.pii.count'], 1);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(
      warnings[0]!,
      /ignoring MCP_AUDIT_RESULT_SCAN_CHARS="lots" \(not a whole number\); using the default/,
    );
  });
});
