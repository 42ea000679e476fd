// mcp-db-prod-01: the problem statement's database MCP server. `db_query` runs read-only SQL against synthetic
// customers; writes are refused like a read-only database role would (its test case 4), and
// `db_admin_query` is the elevated tool a compromised agent retries with.
// Run standalone: node dist/demo/servers/db.js (stdio). Env MCP_DEMO_CUSTOMERS sets the row count.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Database } from 'sql.js';
import { DEFAULT_CUSTOMERS, PermissionDeniedError, openDemoDatabase, runQuery } from '../data/database.js';
import { isMain, log, serveStdio } from './run-stdio.js';

export const DB_SERVER_NAME = 'mcp-db-prod-01';
export const DEMO_SERVER_VERSION = '0.1.0';

export interface DbServerOptions {
  /** Synthetic customers to seed. Default: env MCP_DEMO_CUSTOMERS, else 2,400. */
  customers?: number;
  /** An already-open database (tests share one across servers). */
  database?: Database;
}

export function customersFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.MCP_DEMO_CUSTOMERS;
  if (raw === undefined || raw === '') return DEFAULT_CUSTOMERS;
  const n = Number(raw);
  // A bad value must not silently seed a different story: fail loudly at startup.
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) {
    throw new Error(
      `MCP_DEMO_CUSTOMERS must be an integer between 1 and 1000000, got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

function errorResult(message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: message }] };
}

/** The problem statement's response shape: the rows as JSON text, plus the same as structured content. */
function rowsResult(payload: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(payload) }], structuredContent: payload };
}

function query(db: Database, sql: string, database: string, elevated: boolean): CallToolResult {
  try {
    return rowsResult({ ...runQuery(db, sql, elevated), database });
  } catch (err) {
    if (err instanceof PermissionDeniedError) return errorResult(err.message);
    // SQL errors are the caller's problem and go back as a tool error, never as a crash.
    return errorResult(`query failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const querySchema = {
  sql: z.string().min(1).max(100_000).describe('One or more SQL statements'),
  database: z.string().max(100).optional().describe('Logical database name (informational)'),
};

/** Builds the server; the database is opened lazily so construction stays synchronous. */
export function createDbServer(opts: DbServerOptions = {}): McpServer {
  const server = new McpServer({ name: DB_SERVER_NAME, version: DEMO_SERVER_VERSION });
  let db: Promise<Database> | undefined = opts.database ? Promise.resolve(opts.database) : undefined;
  const open = (): Promise<Database> => (db ??= openDemoDatabase(opts.customers ?? customersFromEnv()));

  server.registerTool(
    'db_query',
    {
      description: 'Run a read-only SQL query against the customer database (table customers).',
      inputSchema: querySchema,
      annotations: { readOnlyHint: true },
    },
    async ({ sql, database }) => query(await open(), sql, database ?? 'production', false),
  );

  server.registerTool(
    'db_admin_query',
    {
      description: 'Run SQL with the elevated admin role (writes allowed).',
      inputSchema: querySchema,
      annotations: { destructiveHint: true },
    },
    async ({ sql, database }) => query(await open(), sql, database ?? 'production', true),
  );

  server.registerTool(
    'report_export',
    {
      description:
        'Export the balances report (every account, no contact data). Large by design: the ' +
        'per-tool bulk-extraction threshold for this tool is raised in collector/rules/thresholds.json.',
      inputSchema: { city: z.string().max(100).optional() },
      annotations: { readOnlyHint: true },
    },
    async ({ city }) => {
      const sql = city
        ? `SELECT id, city, balance FROM customers WHERE city = '${city.replace(/'/g, "''")}' ORDER BY id`
        : 'SELECT id, city, balance FROM customers ORDER BY id';
      return query(await open(), sql, 'production', false);
    },
  );

  return server;
}

if (isMain(import.meta.url)) {
  void serveStdio(DB_SERVER_NAME, async () => {
    const customers = customersFromEnv();
    const started = Date.now();
    const database = await openDemoDatabase(customers);
    log(DB_SERVER_NAME, `seeded ${customers} customers in ${Date.now() - started} ms`);
    return createDbServer({ customers, database });
  });
}
