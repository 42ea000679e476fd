// The relay itself, through the built CLI, with `cat` as the "server" (it echoes what it receives,
// so what comes back is exactly what reached the child): bytes in arbitrary chunks, several
// messages per chunk, batches, non-JSON lines, CRLF, a line past the parse limit; then process
// handling: exit status, signals, stdin EOF with a server that ignores it, the process group.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from '../support/property.js';
import { CLI } from './wrap-harness.js';

const started = new Set<ChildProcess>();
after(() => {
  for (const child of started) if (child.pid && child.exitCode === null) child.kill('SIGKILL');
});

interface Run {
  child: ChildProcess;
  out: Buffer[];
  stderr: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function wrap(flags: string[], command: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, [CLI, 'wrap', ...flags, '--', ...command], {
    env: { ...process.env, MCP_AUDIT_FILE: 'off', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  started.add(child);
  const run: Run = {
    child,
    out: [],
    stderr: '',
    exit: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
  };
  child.stdout!.on('data', (d: Buffer) => run.out.push(d));
  child.stderr!.on('data', (d: Buffer) => (run.stderr += d));
  return run;
}

/** Writes the chunks one by one, each after the previous one was flushed to the pipe. */
async function writeChunks(child: ChildProcess, chunks: Buffer[]): Promise<void> {
  for (const chunk of chunks)
    await new Promise<void>((resolve) => child.stdin!.write(chunk, () => resolve()));
}

function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of [...points, bytes.length]) {
    if (p > last) out.push(bytes.subarray(last, p));
    last = p;
  }
  return out;
}

const message = fc.oneof(
  fc.record({ jsonrpc: fc.constant('2.0'), id: fc.nat(), method: fc.constantFrom('ping', 'tools/list') }),
  fc.record({ jsonrpc: fc.constant('2.0'), method: fc.constant('notifications/initialized') }),
  fc.record({ jsonrpc: fc.constant('2.0'), id: fc.nat(), result: fc.dictionary(fc.string(), fc.string()) }),
);
const line = fc.oneof(
  message.map((m) => JSON.stringify(m)),
  fc.array(message, { minLength: 1, maxLength: 3 }).map((b) => JSON.stringify(b)),
  fc.constant('Server banner: not JSON'),
  fc.string({ unit: 'grapheme' }).filter((s) => !s.includes('\n')),
  message.map((m) => JSON.stringify(m, null, 0) + '\r'),
);

describe('wrap relay: byte fidelity (--no-inject, cat as server)', () => {
  it('returns exactly the bytes sent, however they are chunked', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (ls, cuts) => {
          const bytes = Buffer.from(ls.map((l) => `${l}\n`).join(''));
          const run = wrap(['--no-inject'], ['cat']);
          await writeChunks(run.child, chunked(bytes, cuts));
          run.child.stdin!.end();
          assert.deepEqual(await run.exit, { code: 0, signal: null });
          assert.ok(Buffer.concat(run.out).equals(bytes));
        },
      ),
      { numRuns: 15 },
    );
  });

  it('relays a 17 MiB line (over the parse limit) and the lines around it untouched', async () => {
    const big = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"blob":"${'y'.repeat(17 * 1024 * 1024)}"}}}`;
    const bytes = Buffer.from(`{"jsonrpc":"2.0","id":0,"method":"ping"}\n${big}\nnot json\n`);
    const run = wrap([], ['cat']);
    await writeChunks(run.child, chunked(bytes, [5, 70000, 9_000_000, 17_000_000]));
    run.child.stdin!.end();
    assert.deepEqual(await run.exit, { code: 0, signal: null });
    const out = Buffer.concat(run.out).toString();
    const [first, second, third] = out.split('\n');
    // No recording tracer (MCP_AUDIT_FILE=off, no OTLP): nothing to inject, the ping keeps its bytes.
    assert.equal(first, '{"jsonrpc":"2.0","id":0,"method":"ping"}');
    assert.equal(second, big);
    assert.equal(third, 'not json');
  });

  it('re-serialises only the request lines it injects trace context into', async () => {
    const requests = [
      '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      '{ "jsonrpc": "2.0", "id": 2, "method": "tools/list" }',
    ];
    const others = [
      '{"jsonrpc":"2.0","method":"notifications/initialized"}',
      '{ "jsonrpc": "2.0", "id": 99, "result": {} }',
      'hello',
    ];
    const bytes = Buffer.from([...requests, ...others].map((l) => `${l}\n`).join(''));
    // A recording tracer (the local evidence log) makes the proxy's spans, and so the traceparent.
    const log = join(mkdtempSync(join(tmpdir(), 'mcp-audit-relay-')), 'evidence.jsonl');
    const run = wrap([], ['cat'], { MCP_AUDIT_FILE: log });
    await writeChunks(run.child, [bytes]);
    run.child.stdin!.end();
    await run.exit;
    const out = Buffer.concat(run.out).toString().split('\n').filter(Boolean);
    assert.equal(out.length, 5);
    for (const [i, sent] of requests.entries()) {
      const got = JSON.parse(out[i]!) as { params: { _meta: { traceparent: string } } };
      assert.match(got.params._meta.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      assert.deepEqual({ ...got, params: undefined }, { ...JSON.parse(sent), params: undefined });
    }
    assert.deepEqual(out.slice(2), others);
    rmSync(dirname(log), { recursive: true, force: true });
  });
});

describe('wrap: process handling', () => {
  it('exits with the server status, and 128+N when it dies of signal N', async () => {
    assert.deepEqual(await wrap([], ['sh', '-c', 'exit 7']).exit, { code: 7, signal: null });
    assert.deepEqual(await wrap([], ['sh', '-c', 'kill -TERM $$']).exit, { code: 143, signal: null });
  });

  it('exits 127 with a message when the command cannot start', async () => {
    const run = wrap([], ['/nonexistent/server']);
    assert.deepEqual(await run.exit, { code: 127, signal: null });
    assert.match(run.stderr, /cannot start \/nonexistent\/server/);
    assert.equal(Buffer.concat(run.out).length, 0);
  });

  it('forwards SIGTERM to the server, which decides its exit status', async () => {
    const server = `process.on('SIGTERM', () => process.exit(42)); process.stdout.write('ready\\n'); setInterval(() => {}, 1000);`;
    const run = wrap([], [process.execPath, '-e', server]);
    await new Promise<void>((resolve) => run.child.stdout!.once('data', () => resolve()));
    run.child.kill('SIGTERM');
    assert.deepEqual(await run.exit, { code: 42, signal: null });
  });

  it('on stdin EOF closes the server stdin, then SIGTERMs, then SIGKILLs the whole group', async () => {
    // Ignores EOF and SIGTERM, and leaves a grandchild in its group: only SIGKILL of the group ends both.
    const server = `trap '' TERM; sleep 300 & echo $!; while :; do sleep 1; done`;
    const run = wrap(['--stop-grace', '200', '--stop-term', '200'], ['sh', '-c', server]);
    const grandchild = await new Promise<number>((resolve) =>
      run.child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))),
    );
    run.child.stdin!.end();
    assert.deepEqual(await run.exit, { code: 137, signal: null });
    // The grandchild went with the group: signalling it fails once it is reaped.
    await waitFor(() => !alive(grandchild));
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(predicate: () => boolean, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}
