// `npm run bench`: what one audited tools/call costs the host, measured, not asserted.
// Client ↔ McpServer over the SDK's InMemoryTransport (no I/O noise), the same call with the
// instrumentation disabled and enabled, interleaved in rounds so drift hits both alike.
// Also the redaction engine alone on typical and large arguments.
import { performance } from 'node:perf_hooks';
import { setupHarness } from '../test/support/otel.js';
import { createRedactor } from '../src/redaction/redact.js';

const harness = setupHarness();
const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
const { McpServer } = await import('@modelcontextprotocol/sdk/server/mcp.js');
const { InMemoryTransport } = await import('@modelcontextprotocol/sdk/inMemory.js');
const z = await import('zod');

const ROWS = Array.from({ length: 2400 }, (_, i) => ({ id: i, name: `Customer ${i}`, balance: 1000 + i }));
const server = new McpServer({ name: 'bench', version: '1.0.0' });
server.registerTool('small', { inputSchema: { sql: z.string() } }, async () => ({
  content: [{ type: 'text', text: 'ok' }],
}));
server.registerTool('large', { inputSchema: { sql: z.string() } }, async () => ({
  content: [{ type: 'text', text: JSON.stringify(ROWS) }],
  structuredContent: { rows: ROWS },
}));
const client = new Client({ name: 'bench', version: '1.0.0' });
const [a, b] = InMemoryTransport.createLinkedPair();
await server.connect(b);
await client.connect(a);

const ARGS = {
  sql: "SELECT name, email FROM customers WHERE email = 'sarah@example.com' AND balance > 100000",
};

async function sample(tool: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await client.callTool({ name: tool, arguments: ARGS });
    out.push((performance.now() - t0) * 1000);
  }
  return out;
}

function stats(xs: number[]) {
  const s = [...xs].sort((x, y) => x - y);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { p50: q(0.5), p99: q(0.99), mean: xs.reduce((x, y) => x + y, 0) / xs.length };
}

async function compare(tool: string, rounds: number, perRound: number) {
  const off: number[] = [];
  const on: number[] = [];
  await sample(tool, perRound); // warm-up
  for (let r = 0; r < rounds; r++) {
    harness.instrumentation.disable();
    off.push(...(await sample(tool, perRound)));
    harness.instrumentation.enable();
    on.push(...(await sample(tool, perRound)));
    await new Promise((r) => setImmediate(r));
    harness.reset();
  }
  const o = stats(off);
  const i = stats(on);
  const fmt = (x: number) => x.toFixed(1).padStart(8);
  console.log(
    `${tool.padEnd(6)} n=${String(off.length).padEnd(5)} off p50 ${fmt(o.p50)} µs  p99 ${fmt(o.p99)} µs | on p50 ${fmt(i.p50)} µs  p99 ${fmt(i.p99)} µs | overhead p50 ${fmt(i.p50 - o.p50)} µs (${(((i.p50 - o.p50) / o.p50) * 100).toFixed(0)}%)`,
  );
}

console.log(
  `node ${process.version}, in-memory transport, tools/call round trip (client + server both instrumented)`,
);
await compare('small', 20, 100);
await compare('large', 10, 10);

const redactor = createRedactor();
for (const [label, input, n] of [
  ['seed args', ARGS, 20000],
  ['2400 rows', { rows: ROWS }, 50],
] as const) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) redactor.json(input);
  console.log(`redactor.json(${label}): ${(((performance.now() - t0) / n) * 1000).toFixed(1)} µs per call`);
}
await client.close();
await server.close();
