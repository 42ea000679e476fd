// Where the demo servers keep their side effects: a temp folder unless the environment names one.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let fallback: string | undefined;

/** One temp folder per process, created on first use, for servers started without MCP_DEMO_* env. */
export function demoTempDir(): string {
  fallback ??= mkdtempSync(join(tmpdir(), 'mcp-audit-demo-'));
  return fallback;
}
