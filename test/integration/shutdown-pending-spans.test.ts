// A process stopped (SIGTERM) right after a call with a large result still exports that call's
// spans: the result's classification runs a piece per event-loop turn after the caller has its
// result, and the shutdown completes such spans before it flushes, instead of flushing without
// them. Real process, real evidence log.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FIXTURES, REGISTER_ESM, ROOT } from '../support/proc.js';

const AGENT = `${FIXTURES}sigterm-after-large-result-agent.mjs`;
const live = new Set<ChildProcess>();
after(() => {
  for (const child of live) if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
});

function run(
  env: NodeJS.ProcessEnv,
): Promise<{ signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', REGISTER_ESM, AGENT], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d));
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ signal, stdout, stderr });
    });
  });
}

describe('shutdown with spans still being completed', () => {
  it('SIGTERM right after a large result: both spans of the call are in the evidence log, with the result classified', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-sigterm-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'evidence.jsonl');
    const r = await run({ MCP_AUDIT_FILE: file, OTEL_TRACES_EXPORTER: 'none' });
    assert.equal(r.signal, 'SIGTERM', `the process keeps its "killed by SIGTERM" status\n${r.stderr}`);
    assert.ok(JSON.parse(r.stdout).bytes > 200_000, r.stdout);
    const records = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => !l.control && l.tool_name === 'export_customers');
    assert.deepEqual(records.map((rec) => rec.side).sort(), ['client', 'server'], r.stderr);
    for (const rec of records) {
      assert.ok((rec.result_size_bytes as number) > 200_000, JSON.stringify(rec));
      assert.match(String(rec.result_summary), /\S/, 'the deferred summary was written');
    }
  });
});
