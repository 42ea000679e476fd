// The host never waits for the audit trail: with the collector unreachable, black-holing or
// answering errors, an instrumented agent and its instrumented stdio server return the same
// results, exit on their own (the server child before the MCP SDK would SIGTERM it) and say on
// stderr how many spans they could not deliver. Real processes, real sockets.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FIXTURES, REGISTER_ESM, ROOT } from '../support/proc.js';

const AGENT = `${FIXTURES}calls-agent.mjs`;
const BURST = `${FIXTURES}burst-agent.mjs`;
const SERVER = `${FIXTURES}stdio-server.mjs`;
const CALLS = 200;
const live = new Set<ChildProcess>();
const servers: Server[] = [];
const sockets = new Set<Socket>();

after(() => {
  for (const child of live) if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From the agent's result line (printed after close()) to the process's exit. */
  exitAfterOutputMs: number;
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, MCP_AUDIT_FILE: 'off', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    let stdout = '';
    let stderr = '';
    let outputAt = 0;
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d;
      if (!outputAt && stdout.includes('\n')) outputAt = Date.now();
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    // A hang is the failure this file exists to catch: bounded, then killed.
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, signal, stdout, stderr, exitAfterOutputMs: outputAt ? Date.now() - outputAt : -1 });
    });
  });
}

function listen(server: Server): Promise<number> {
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

async function closedPort(): Promise<number> {
  const server = createTcpServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Accepts connections, reads everything, never answers. */
function blackHole(): Promise<number> {
  return listen(
    createTcpServer((socket) => {
      sockets.add(socket);
      socket.on('data', () => {});
      socket.on('error', () => {});
    }),
  );
}

/** Answers every OTLP request with `status`. */
function answering(status: number): Promise<number> {
  return listen(
    createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(status, { 'content-type': 'text/plain' }).end(`status ${status}`));
    }),
  );
}

const instrumented = ['--import', REGISTER_ESM, AGENT, SERVER, '--import', REGISTER_ESM];

function undelivered(stderr: string, endpoint: string): number[] {
  const re = new RegExp(
    `mcp-audit: could not deliver (\\d+) spans \\(.*\\) to ${endpoint.replace(/[.]/g, '\\.')}/v1/traces`,
    'g',
  );
  return [...stderr.matchAll(re)].map((m) => Number(m[1]));
}

describe('host safety at exit', () => {
  let baseline: { calls: number; digest: string };

  it('the uninstrumented agent and server give the reference results', async () => {
    const r = await run([AGENT, SERVER], { CALLS: String(CALLS) });
    assert.equal(r.code, 0, r.stderr);
    baseline = JSON.parse(r.stdout);
    assert.equal(baseline.calls, CALLS);
  });

  it('collector port closed: same results, both processes exit on their own and count what they could not deliver', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const r = await run(instrumented, {
      CALLS: String(CALLS),
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_SERVICE_NAME: 'safety-agent',
      SERVER_SERVICE_NAME: 'safety-server',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.signal, null);
    const out = JSON.parse(r.stdout);
    assert.equal(out.digest, baseline.digest, 'the instrumented calls returned other results');
    // The MCP SDK waits 2 s for a stdio child to exit after closing its stdin, then sends SIGTERM.
    assert.ok(out.closeMs < 2000, `the server child needed ${out.closeMs} ms (it was signalled)`);
    const counts = undelivered(r.stderr, endpoint);
    assert.equal(counts.length, 2, `one line from the agent and one from the server child:\n${r.stderr}`);
    for (const n of counts) assert.ok(n > CALLS, `each side made ${CALLS} tool call spans, reported ${n}`);
    assert.match(r.stderr, /ECONNREFUSED/);
    // Generous: the point is "no 12-50 s hang", not a timing.
    assert.ok(r.exitAfterOutputMs < 2000 + 3000, `exit took ${r.exitAfterOutputMs} ms after close()`);
  });

  it("an app's own beforeExit work is never cut short by the exit handling", async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const r = await run(['--import', REGISTER_ESM, `${FIXTURES}before-exit-app.mjs`], {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'started\nlate work done\n', r.stderr);
  });

  it('collector black-holing: the exit deadline (configurable) holds and the loss is reported', async () => {
    const endpoint = `http://127.0.0.1:${await blackHole()}`;
    const r = await run(instrumented, {
      CALLS: String(CALLS),
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      MCP_AUDIT_SHUTDOWN_TIMEOUT_MS: '1000',
    });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.digest, baseline.digest);
    assert.ok(out.closeMs < 2000, `the server child needed ${out.closeMs} ms (it was signalled)`);
    const counts = undelivered(r.stderr, endpoint);
    assert.equal(counts.length, 2, r.stderr);
    assert.match(r.stderr, /not confirmed within the 1000 ms exit deadline/);
    assert.ok(r.exitAfterOutputMs < 1000 + 3000, `exit took ${r.exitAfterOutputMs} ms after close()`);
  });

  it('collector answering 503: retried, then counted at exit; answering 400: counted as rejected', async () => {
    for (const [status, reason] of [
      [503, 'shutdown: HTTP 503'],
      [400, 'export_rejected: HTTP 400'],
    ] as const) {
      const endpoint = `http://127.0.0.1:${await answering(status)}`;
      const r = await run(['--import', REGISTER_ESM, BURST], {
        SESSIONS: '2',
        CALLS: '20',
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_BSP_SCHEDULE_DELAY: '50',
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).calls, 40);
      // 2 sessions × (initialize + 20 tools/call) × (client + server span).
      assert.deepEqual(undelivered(r.stderr, endpoint), [84], r.stderr);
      assert.ok(r.stderr.includes(reason), `expected "${reason}" in:\n${r.stderr}`);
    }
  });

  it('what the collector never got is written to the evidence log as a `dropped` line, and the log verifies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-safety-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const file = join(dir, 'evidence.jsonl');
    const r = await run(['--import', REGISTER_ESM, BURST], {
      SESSIONS: '2',
      CALLS: '5',
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      MCP_AUDIT_FILE: file,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(undelivered(r.stderr, endpoint), [24], r.stderr);
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const dropped = lines.filter((l) => l.control === 'dropped');
    assert.deepEqual(
      dropped.map((d) => [d.reason, d.destination, d.count]),
      [['shutdown', 'otlp', 24]],
    );
    assert.equal(lines.filter((l) => !l.control).length, 24, 'every record is still in the local log');
    const verify = await run([`${ROOT}bin/mcp-audit.cjs`, 'verify', file], {});
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /\+1 dropped/);
  });

  it('a full queue (collector black-holing) bounds memory and counts every span it turned away', async () => {
    const endpoint = `http://127.0.0.1:${await blackHole()}`;
    const r = await run(['--import', REGISTER_ESM, BURST], {
      SESSIONS: '20',
      CALLS: '100',
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_BSP_MAX_QUEUE_SIZE: '1000',
      MCP_AUDIT_SHUTDOWN_TIMEOUT_MS: '500',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).calls, 2000);
    // 20 × (1 + 100) × 2 spans: at most 1,000 held, the rest turned away, all of them counted.
    assert.deepEqual(undelivered(r.stderr, endpoint), [4040], r.stderr);
    const full = /(\d+) queue_full/.exec(r.stderr);
    assert.ok(full && Number(full[1]) >= 3040, r.stderr);
  });
});
