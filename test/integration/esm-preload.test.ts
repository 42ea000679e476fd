// The register entry patches an ESM app's SDK without a loader hook when it finds the app's copy
// from the entry point, and falls back to the hook when it cannot: an app outside any project that
// loads the SDK by a computed URL is still audited on both sides.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { REGISTER_ESM, ROOT, killAll } from '../support/proc.js';
import { trackChild } from '../support/reaper.js';

const scratch = mkdtempSync(join(tmpdir(), 'mcp-audit-esm-fallback-'));
after(() => {
  killAll();
  rmSync(scratch, { recursive: true, force: true });
});

const APP = `// Loads the SDK from wherever SDK_DIR says: nothing in this directory or above it has it.
const sdk = (path) => import(new URL(path, process.env.SDK_DIR).href);
const { Client } = await sdk('dist/esm/client/index.js');
const { McpServer } = await sdk('dist/esm/server/mcp.js');
const { InMemoryTransport } = await sdk('dist/esm/inMemory.js');
const server = new McpServer({ name: 'far-server', version: '1.0.0' });
server.registerTool('ping', { description: 'ping' }, async () => ({ content: [{ type: 'text', text: 'pong' }] }));
const client = new Client({ name: 'far-client', version: '1.0.0' });
const [a, b] = InMemoryTransport.createLinkedPair();
await server.connect(b);
await client.connect(a);
const result = await client.callTool({ name: 'ping', arguments: {} });
await client.close();
process.stdout.write(JSON.stringify(result.content) + '\\n');
`;

function run(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: scratch,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackChild(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('ESM app whose SDK copy is not found from its entry point', () => {
  it('is audited through the loader hook, client and server span of the call', async () => {
    writeFileSync(join(scratch, 'far-app.mjs'), APP);
    const sdkDir = pathToFileURL(join(ROOT, 'node_modules/@modelcontextprotocol/sdk/')).href;
    const r = await run(['--import', REGISTER_ESM, join(scratch, 'far-app.mjs')], {
      SDK_DIR: sdkDir,
      MCP_AUDIT_FILE: join(scratch, 'audit-{pid}.jsonl'),
      OTEL_LOG_LEVEL: 'debug',
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
      OTEL_TRACES_EXPORTER: '',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [{ type: 'text', text: 'pong' }]);
    assert.match(r.stderr, /ESM loader hook registered \(no @modelcontextprotocol package found/);
    const logs = readdirSync(scratch).filter((f) => f.startsWith('audit-'));
    assert.equal(logs.length, 1, `evidence logs: ${logs.join(', ')}`);
    const records = readFileSync(join(scratch, logs[0]!), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { method?: string; side?: string; tool?: string });
    const calls = records.filter((rec) => rec.method === 'tools/call');
    assert.deepEqual(calls.map((c) => c.side).sort(), ['client', 'server'], JSON.stringify(records));
  });
});
