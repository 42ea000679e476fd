// The client of the stdio and Streamable HTTP rows. It starts the server (instrumented or not, as
// itself), makes `warmup` then `calls` sequential tools/call requests with one event-loop turn
// between them, waits for both sides' batch processors to flush, and prints one `RESULT {json}`
// line: client and server CPU per call (deferred work included), every latency, and the number
// of tools/call records each side wrote to its evidence log.
//
//   node [--import mcp-audit/register] bench/workers/remote-client.mjs stdio|http <calls> <warmup>
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';

const [transportKind, callsArg, warmupArg] = process.argv.slice(2);
const CALLS = Number(callsArg ?? 2000);
const WARMUP = Number(warmupArg ?? 300);
const SERVER = join(dirname(fileURLToPath(import.meta.url)), 'remote-server.mjs');
// The server is started the way this process was: with the register entry or without it.
const serverArgs = [...process.execArgv, SERVER, transportKind];
const instrumented = process.execArgv.some((a) => /register(\.js)?$/.test(a));
const turn = () => new Promise((resolve) => setImmediate(resolve));
const idle = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const client = new Client({ name: 'bench-client', version: '1.0.0' });
let child;
if (transportKind === 'stdio') {
  const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: serverArgs,
      env: { ...process.env },
      stderr: 'inherit',
    }),
  );
} else {
  const { StreamableHTTPClientTransport } =
    await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
  child = spawn(process.execPath, serverArgs, { stdio: ['pipe', 'pipe', 'inherit'], env: process.env });
  const port = await new Promise((resolve, reject) => {
    let seen = '';
    child.stdout.on('data', (d) => {
      seen += d;
      const m = /PORT (\d+)/.exec(seen);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
}

const ARGS = {
  sql: "SELECT name, email FROM customers WHERE email = 'sarah@example.com' AND balance > 100000",
};
const call = () => client.callTool({ name: 'db_query', arguments: ARGS });
const serverCpu = async () => {
  const r = await client.callTool({ name: 'bench_cpu', arguments: {} });
  return JSON.parse(r.content[0].text).us;
};
// Long enough for the evidence log's batch processor (200 ms schedule) to have written everything.
const settle = () => idle(instrumented ? 1500 : 300);

for (let i = 0; i < WARMUP; i++) {
  await call();
  await turn();
}
await settle();
const server0 = await serverCpu();
const cpu0 = process.cpuUsage();
const latencies = new Float64Array(CALLS);
const wall0 = performance.now();
for (let i = 0; i < CALLS; i++) {
  const t0 = performance.now();
  await call();
  latencies[i] = (performance.now() - t0) * 1000;
  await turn();
}
const loopWall = performance.now() - wall0;
await settle();
const cpu = process.cpuUsage(cpu0);
const server1 = await serverCpu();
await client.close();
child?.stdin.end();
await idle(instrumented ? 1500 : 100);

// What each side's evidence log holds: one record per tools/call span of each side.
let records;
const dir = process.env.MCP_AUDIT_DIR;
if (instrumented && dir) {
  records = { client: 0, server: 0 };
  for (const file of readdirSync(dir)) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line.includes('"tools/call"') || !line.includes('db_query')) continue;
      if (line.includes('"side":"client"')) records.client++;
      else if (line.includes('"side":"server"')) records.server++;
    }
  }
}
process.stdout.write(
  `RESULT ${JSON.stringify({
    transport: transportKind,
    instrumented,
    calls: CALLS,
    cpuPerCallUs: (cpu.user + cpu.system) / CALLS,
    serverCpuPerCallUs: (server1 - server0) / CALLS,
    callsPerSecond: CALLS / (loopWall / 1000),
    latenciesUs: Array.from(latencies, (x) => Math.round(x * 10) / 10),
    records,
    expectedRecords: WARMUP + CALLS,
  })}\n`,
);
process.exit(0);
