// Shared by the three demo servers: run an McpServer over stdio when the module is the process entry.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';

/** True when `moduleUrl` is the script node was started with (so importing a server in a test
 * never grabs the test runner's stdio). Compares real paths: npm bins and tmp dirs are often symlinks. */
export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/** stdout carries the protocol, so every diagnostic goes to stderr. */
export function log(server: string, message: string): void {
  process.stderr.write(`[${server}] ${message}\n`);
}

/**
 * Connects the server to stdin/stdout and closes it when the client goes away. The process then
 * ends on its own (no process.exit), so an instrumentation loaded with --import can flush on beforeExit.
 */
export async function serveStdio(name: string, build: () => Promise<McpServer> | McpServer): Promise<void> {
  try {
    const server = await build();
    const transport = new StdioServerTransport();
    // The SDK's stdio server transport does not notice stdin closing; the client closes stdin first
    // (then sends SIGTERM after 2 s), so end here and the client never has to signal us.
    process.stdin.once('end', () => void server.close());
    await server.connect(transport);
    log(name, 'ready on stdio');
  } catch (err) {
    log(name, `failed to start: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
