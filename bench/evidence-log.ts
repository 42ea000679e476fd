// `node --import tsx bench/evidence-log.ts [calls]`: CPU per record of the embedded evidence log,
// on real spans of the stdio row's call (client and server side, a distinct argument per call),
// written to a real file with its fsync'd group commits. Two wirings, interleaved over 6 rounds:
// spans through `redactedExporter` (every key and value of every span redacted, then the record)
// and the exporter applying the export redaction to what a record reads (the embedded default).
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { setupHarness } from '../test/support/otel.js';
import { exportRedaction, redactedExporter } from '../src/redaction/span-export.js';
import { AuditFileExporter } from '../src/evidence/file-exporter.js';

const CALLS = Number(process.argv[2] ?? 1000);
const harness = setupHarness();
const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
const { McpServer } = await import('@modelcontextprotocol/sdk/server/mcp.js');
const { InMemoryTransport } = await import('@modelcontextprotocol/sdk/inMemory.js');
const { z } = await import('zod');
const server = new McpServer({ name: 'bench-server', version: '1.0.0' });
server.tool('db_query', { sql: z.string() }, async () => ({ content: [{ type: 'text', text: 'ok' }] }));
const client = new Client({ name: 'bench-client', version: '1.0.0' });
const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
for (let i = 0; i < CALLS; i++) {
  const sql = `SELECT name, email FROM customers WHERE email = 'sarah${i}@example.com' AND balance > ${i}`;
  await client.callTool({ name: 'db_query', arguments: { sql } });
}
const spans = (await harness.waitForSpans(2 * CALLS)).filter(
  (s) => s.attributes['mcp.method.name'] === 'tools/call',
);
await client.close();

type Wiring = 'redactedExporter' | 'exporter redaction';

async function cpuPerRecord(wiring: Wiring): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-bench-evidence-'));
  const file = join(dir, 'audit.jsonl');
  const exporter: SpanExporter =
    wiring === 'redactedExporter'
      ? redactedExporter(new AuditFileExporter({ file }), {})
      : new AuditFileExporter({ file, redaction: exportRedaction({}) });
  const cpu0 = process.cpuUsage();
  // Batches of 100, as the span queue hands them over at this call rate.
  for (let i = 0; i < spans.length; i += 100) {
    await new Promise((done) => exporter.export(spans.slice(i, i + 100) as ReadableSpan[], done));
  }
  await exporter.shutdown();
  const cpu = process.cpuUsage(cpu0);
  rmSync(dir, { recursive: true, force: true });
  return (cpu.user + cpu.system) / spans.length;
}

const results: Record<Wiring, number[]> = { redactedExporter: [], 'exporter redaction': [] };
const wirings: Wiring[] = ['redactedExporter', 'exporter redaction'];
for (let round = 0; round < 6; round++) {
  for (const wiring of round % 2 === 0 ? wirings : [...wirings].reverse()) {
    results[wiring].push(await cpuPerRecord(wiring));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const wiring of wirings) {
  const runs = results[wiring].map((x) => x.toFixed(0)).join(', ');
  process.stdout.write(
    `${wiring}: ${median(results[wiring]).toFixed(0)} µs CPU per record (runs: ${runs})\n`,
  );
}
process.stdout.write(`${spans.length} records per run; load average ${loadavg()[0].toFixed(1)}\n`);
process.exit(0);
