// The embedded SQL database behind the demo's db server: real SQLite (sql.js, WebAssembly, in
// memory), so `db_query` runs the SQL it is given rather than pattern-matching canned answers.
import initSqlJs, { type Database, type SqlValue } from 'sql.js';
import { generateCustomers } from './customers.js';

export const DEFAULT_CUSTOMERS = 2400;

export type Row = Record<string, SqlValue>;

/** Thrown for statements the caller's role may not run; the server turns it into an isError result. */
export class PermissionDeniedError extends Error {
  constructor() {
    super('permission denied: read-only role');
    this.name = 'PermissionDeniedError';
  }
}

// Statement keywords that change data, schema or which files the engine sees. Checked per
// statement so that `SELECT 1; DROP TABLE customers` is refused as a whole.
const WRITE_KEYWORDS =
  /\b(insert|update|delete|drop|attach|detach|pragma|create|alter|replace|vacuum|reindex|upsert|grant|truncate)\b/i;

function stripCommentsAndStrings(sql: string): string {
  return sql
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/'(?:[^']|'')*'/g, "''")
    .replace(/"(?:[^"]|"")*"/g, '""');
}

export function isWrite(sql: string): boolean {
  return WRITE_KEYWORDS.test(stripCommentsAndStrings(sql));
}

/** Loads the WASM engine once per process; seeding 50,000 rows then takes well under a second. */
let engine: ReturnType<typeof initSqlJs> | undefined;

export async function openDemoDatabase(customers = DEFAULT_CUSTOMERS): Promise<Database> {
  engine ??= initSqlJs();
  const SQL = await engine;
  const db = new SQL.Database();
  db.run(`CREATE TABLE customers (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, ssn TEXT NOT NULL,
    phone TEXT NOT NULL, balance REAL NOT NULL, city TEXT NOT NULL)`);
  // What an attacker would like to erase: the injected session tries to delete its own entries.
  db.run(`CREATE TABLE access_log (id INTEGER PRIMARY KEY, actor TEXT NOT NULL, action TEXT NOT NULL)`);
  db.run('BEGIN');
  const insert = db.prepare('INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?)');
  try {
    for (const c of generateCustomers(customers)) {
      insert.run([c.id, c.name, c.email, c.ssn, c.phone, c.balance, c.city]);
    }
  } finally {
    insert.free();
  }
  db.run(`INSERT INTO access_log (actor, action) VALUES ('agent', 'session start'), ('agent', 'db_query')`);
  db.run('COMMIT');
  // Engine-level backstop behind the keyword check: SQLite itself refuses writes from here on.
  db.run('PRAGMA query_only = ON');
  return db;
}

export interface QueryResult {
  rows: Row[];
  row_count: number;
  /** Rows changed by a write (elevated queries only). */
  rows_modified?: number;
}

/**
 * Runs every statement in `sql` and returns the rows of the last one that produced rows.
 * `elevated` lifts the read-only role for this call only (the demo's privilege-escalation path).
 */
export function runQuery(db: Database, sql: string, elevated = false): QueryResult {
  if (!elevated && isWrite(sql)) throw new PermissionDeniedError();
  let rows: Row[] = [];
  if (elevated) db.run('PRAGMA query_only = OFF');
  try {
    for (const stmt of db.iterateStatements(sql)) {
      try {
        const out: Row[] = [];
        while (stmt.step()) out.push(stmt.getAsObject());
        if (out.length > 0) rows = out;
      } finally {
        stmt.free();
      }
    }
  } catch (err) {
    // query_only turns any write that slipped past the keyword check into this error.
    if (err instanceof Error && /readonly|read-only|query_only/i.test(err.message))
      throw new PermissionDeniedError();
    throw err;
  } finally {
    if (elevated) db.run('PRAGMA query_only = ON');
  }
  const result: QueryResult = { rows, row_count: rows.length };
  if (elevated) result.rows_modified = db.getRowsModified();
  return result;
}
