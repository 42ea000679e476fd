// `node --import tsx bench/proxy.ts [--quick]` (after `npm run build`): what `mcp-audit wrap` adds
// to a stdio round trip, measured side by side with a direct connection in one run. The server is
// an ordinary SDK McpServer (test/fixtures/apps/stdio-server.mjs, its `echo` tool); the client
// writes JSON-RPC lines itself and times each tools/call from write to the answer's line, so the
// client SDK's own cost is not in the figures. Rounds interleave the configurations so drift in the
// machine's load hits them alike. CPU is the proxy process's own (user + system), per call.
// The HTTP rows (bench/lib/http-round-trip.ts) do the same for `mcp-audit proxy` against a direct
// loopback Streamable HTTP round trip, in the same interleaved rounds.
// Writes its section of docs/benchmarks.md between the proxy markers; figures are reported, never
// asserted.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { measureHttp, type HttpConfig } from './lib/http-round-trip.js';

const ROOT = new URL('..', import.meta.url).pathname;
const SERVER = join(ROOT, 'test/fixtures/apps/stdio-server.mjs');
const CLI = join(ROOT, 'bin/mcp-audit.cjs');
const quick = process.argv.includes('--quick');
const CALLS = quick ? 300 : 2000;
const ROUNDS = quick ? 2 : 4;
const WARMUP = 200;

interface Config {
  name: string;
  command: string[];
  env: NodeJS.ProcessEnv;
}

const scratch = mkdtempSync(join(tmpdir(), 'mcp-audit-bench-proxy-'));
const configs: Config[] = [
  { name: 'direct stdio', command: [process.execPath, SERVER], env: {} },
  {
    name: 'wrap, audit on (evidence log)',
    command: [process.execPath, CLI, 'wrap', '--', process.execPath, SERVER],
    env: { MCP_AUDIT_FILE: join(scratch, 'evidence-{pid}.jsonl') },
  },
  {
    name: 'wrap, spans recorded, no exporter',
    command: [process.execPath, CLI, 'wrap', '--', process.execPath, SERVER],
    env: { MCP_AUDIT_FILE: 'off' },
  },
  {
    name: 'wrap, OTEL_SDK_DISABLED=true (relay only)',
    command: [process.execPath, CLI, 'wrap', '--', process.execPath, SERVER],
    env: { OTEL_SDK_DISABLED: 'true' },
  },
];

const DIRECT_HTTP = 'direct Streamable HTTP (loopback)';
// Streamable HTTP costs a request and a short SSE stream per call: fewer calls keep the run short.
const HTTP_CALLS = Math.round(CALLS / 2);
const httpConfigs: HttpConfig[] = [
  { name: DIRECT_HTTP },
  {
    name: 'proxy, audit on (evidence log)',
    proxyEnv: { MCP_AUDIT_FILE: join(scratch, 'http-evidence-{pid}.jsonl') },
  },
  { name: 'proxy, spans recorded, no exporter', proxyEnv: { MCP_AUDIT_FILE: 'off' } },
  { name: 'proxy, OTEL_SDK_DISABLED=true (relay only)', proxyEnv: { OTEL_SDK_DISABLED: 'true' } },
];

class LineClient {
  private partial: Buffer[] = [];
  private waiting = new Map<number, () => void>();
  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (chunk: Buffer) => {
      let start = 0;
      let nl: number;
      while ((nl = chunk.indexOf(0x0a, start)) >= 0) {
        this.partial.push(chunk.subarray(start, nl));
        const line = Buffer.concat(this.partial).toString();
        this.partial = [];
        start = nl + 1;
        const m = /"id":(\d+)/.exec(line);
        if (m) this.waiting.get(Number(m[1]))?.();
      }
      if (start < chunk.length) this.partial.push(chunk.subarray(start));
    });
  }
  request(id: number, method: string, params: unknown): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.set(id, () => {
        this.waiting.delete(id);
        resolve();
      });
      this.child.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  }
  notify(method: string): void {
    this.child.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', method })}\n`);
  }
}

/** CPU time (µs) of a process so far, from /proc (Linux); undefined elsewhere. */
function cpuMicros(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks / 100) * 1e6;
  } catch {
    return undefined;
  }
}

async function measure(config: Config): Promise<{ samples: number[]; cpuPerCall?: number }> {
  const [command, ...args] = config.command;
  const child = spawn(command!, args, {
    env: { ...process.env, ...config.env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const client = new LineClient(child);
  let id = 0;
  await client.request(++id, 'initialize', {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'bench', version: '1' },
  });
  client.notify('notifications/initialized');
  const call = () =>
    client.request(++id, 'tools/call', { name: 'echo', arguments: { text: 'hello from the bench' } });
  for (let i = 0; i < WARMUP; i++) await call();
  const cpuBefore = child.pid ? cpuMicros(child.pid) : undefined;
  const samples: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t0 = process.hrtime.bigint();
    await call();
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  const cpuAfter = child.pid ? cpuMicros(child.pid) : undefined;
  child.stdin!.end();
  await new Promise((r) => child.once('exit', r));
  const cpuPerCall =
    cpuBefore !== undefined && cpuAfter !== undefined && config.name !== 'direct stdio'
      ? (cpuAfter - cpuBefore) / CALLS
      : undefined;
  return { samples, cpuPerCall };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist/cli/main.cjs'))) throw new Error('run `npm run build` first');
  const all = new Map<string, { samples: number[]; cpu: number[] }>(
    configs.map((c) => [c.name, { samples: [], cpu: [] }]),
  );
  const allHttp = new Map<string, { samples: number[]; cpu: number[] }>(
    httpConfigs.map((c) => [c.name, { samples: [], cpu: [] }]),
  );
  const loadBefore = loadavg();
  for (let round = 0; round < ROUNDS; round++) {
    for (const config of round % 2 === 0 ? configs : [...configs].reverse()) {
      const { samples, cpuPerCall } = await measure(config);
      const entry = all.get(config.name)!;
      entry.samples.push(...samples);
      if (cpuPerCall !== undefined) entry.cpu.push(cpuPerCall);
      process.stderr.write(
        `[bench proxy] round ${round + 1}/${ROUNDS} ${config.name}: ${samples.length} calls\n`,
      );
    }
    for (const config of round % 2 === 0 ? httpConfigs : [...httpConfigs].reverse()) {
      const { samples, cpuPerCall } = await measureHttp(ROOT, config, HTTP_CALLS, WARMUP, cpuMicros);
      const entry = allHttp.get(config.name)!;
      entry.samples.push(...samples);
      if (cpuPerCall !== undefined) entry.cpu.push(cpuPerCall);
      process.stderr.write(
        `[bench proxy] round ${round + 1}/${ROUNDS} http ${config.name}: ${samples.length} calls\n`,
      );
    }
  }
  const loadAfter = loadavg();
  const table = summaryTable(
    all,
    configs.map((c) => c.name),
    'direct stdio',
  );
  const httpTable = summaryTable(
    allHttp,
    httpConfigs.map((c) => c.name),
    DIRECT_HTTP,
  );
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(', ');
  const section = `<!-- proxy:begin -->
## mcp-audit wrap (stdio proxy)

\`node --import tsx bench/proxy.ts\`${quick ? ' --quick' : ''}: ${CALLS} sequential \`tools/call echo\` round trips per
configuration and round, ${ROUNDS} interleaved rounds, after ${WARMUP} warm-up calls; the client writes JSON-RPC lines itself.
Target: wrap adds under 100 µs at the median.

${table}

## mcp-audit proxy (Streamable HTTP reverse proxy)

Same rounds: ${HTTP_CALLS} sequential \`tools/call echo\` POSTs per configuration and round on one keep-alive
connection to a stateful SDK McpServer on 127.0.0.1 (each answered with a short SSE stream), after ${WARMUP}
warm-up calls; the client writes the HTTP requests itself. Load average (1, 5, 15 min) before: ${load(loadBefore)};
after: ${load(loadAfter)}. Target: proxy adds under 300 µs at the median.

${httpTable}
<!-- proxy:end -->`;
  process.stdout.write(`${section}\n`);
  const doc = join(ROOT, 'docs', 'benchmarks.md');
  // bench/run.ts rewrites the file and keeps the marked sections it finds there.
  const text = existsSync(doc) ? readFileSync(doc, 'utf8') : '# Benchmarks\n';
  const marked = /<!-- proxy:begin -->[\s\S]*?<!-- proxy:end -->/;
  writeFileSync(doc, marked.test(text) ? text.replace(marked, section) : `${text.trimEnd()}\n\n${section}\n`);
  rmSync(scratch, { recursive: true, force: true });
}

function summaryTable(
  all: Map<string, { samples: number[]; cpu: number[] }>,
  names: string[],
  baseline: string,
): string {
  const direct = [...all.get(baseline)!.samples].sort((a, b) => a - b);
  const fmt = (n: number) => `${n.toFixed(0)} µs`;
  const rows = names.map((name) => {
    const entry = all.get(name)!;
    const sorted = [...entry.samples].sort((a, b) => a - b);
    const median = quantile(sorted, 0.5);
    const p95 = quantile(sorted, 0.95);
    const cpu = entry.cpu.length ? entry.cpu.reduce((a, b) => a + b, 0) / entry.cpu.length : undefined;
    const added = (n: number) => (name === baseline ? '—' : fmt(n));
    return `| ${name} | ${fmt(median)} | ${fmt(p95)} | ${added(median - quantile(direct, 0.5))} | ${added(p95 - quantile(direct, 0.95))} | ${cpu === undefined || name === baseline ? '—' : fmt(cpu)} |`;
  });
  return [
    '| configuration | median | p95 | added at the median | added at p95 | proxy CPU per call |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench proxy: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
