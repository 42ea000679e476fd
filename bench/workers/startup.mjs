// Process start-up: import the MCP SDK, connect a Client to an McpServer in memory, make one
// tools/call, print `READY <ms since process start> <CPU ms used>` and exit. The bench runs it with and without
// `--import mcp-audit/register` and also times it from spawn to exit.
import { performance } from 'node:perf_hooks';
const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
const { McpServer } = await import('@modelcontextprotocol/sdk/server/mcp.js');
const { InMemoryTransport } = await import('@modelcontextprotocol/sdk/inMemory.js');
const { z } = await import('zod');
const server = new McpServer({ name: 'bench-server', version: '1.0.0' });
server.tool('db_query', { sql: z.string() }, async () => ({ content: [{ type: 'text', text: 'ok' }] }));
const client = new Client({ name: 'bench-client', version: '1.0.0' });
const [a, b] = InMemoryTransport.createLinkedPair();
await server.connect(b);
await client.connect(a);
await client.callTool({ name: 'db_query', arguments: { sql: 'SELECT 1' } });
const cpu = process.cpuUsage();
process.stdout.write(
  `READY ${performance.now().toFixed(1)} ${((cpu.user + cpu.system) / 1000).toFixed(1)}\n`,
);
process.exit(0);
