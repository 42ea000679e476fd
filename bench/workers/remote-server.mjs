// The MCP server of the stdio and Streamable HTTP rows: the same tool as the in-process rows, plus
// `bench_cpu`, which reports this process's CPU time so the client can pair it with its own.
//
//   node [--import mcp-audit/register] bench/workers/remote-server.mjs stdio|http
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

const transportKind = process.argv[2];

function newServer() {
  const server = new McpServer({ name: 'bench-server', version: '1.0.0' });
  server.tool('db_query', { sql: z.string() }, async () => ({ content: [{ type: 'text', text: 'ok' }] }));
  server.tool('bench_cpu', {}, async () => {
    const { user, system } = process.cpuUsage();
    return { content: [{ type: 'text', text: JSON.stringify({ us: user + system }) }] };
  });
  return server;
}

if (transportKind === 'stdio') {
  const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
  await newServer().connect(new StdioServerTransport());
} else {
  const { StreamableHTTPServerTransport } =
    await import('@modelcontextprotocol/sdk/server/streamableHttp.js');
  const sessions = new Map();
  const http = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
    const sessionId = req.headers['mcp-session-id'];
    let transport = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (!transport) {
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => sessions.set(id, transport),
      });
      await newServer().connect(transport);
    }
    await transport.handleRequest(req, res, body);
  });
  http.listen(0, '127.0.0.1', () => process.stdout.write(`PORT ${http.address().port}\n`));
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}
