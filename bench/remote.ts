// stdio and Streamable HTTP on loopback: a client process that starts its server, both plain or
// both started with `--import mcp-audit/register` (embedded default: the evidence log), interleaved.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerArgs, runWorker } from './lib/spawn.js';
import { median, percentile, spread, us, withRange } from './lib/stats.js';
import type { BenchOptions, Section } from './lib/types.js';

interface RemoteResult {
  transport: string;
  instrumented: boolean;
  calls: number;
  cpuPerCallUs: number;
  serverCpuPerCallUs: number;
  callsPerSecond: number;
  latenciesUs: number[];
  records?: { client: number; server: number };
  expectedRecords: number;
}

interface Figures {
  p50: number;
  p95: number;
  clientCpu: number;
  serverCpu: number;
  rate: number;
}

function figuresOf(r: RemoteResult): Figures {
  return {
    p50: percentile(r.latenciesUs, 0.5),
    p95: percentile(r.latenciesUs, 0.95),
    clientCpu: r.cpuPerCallUs,
    serverCpu: r.serverCpuPerCallUs,
    rate: r.callsPerSecond,
  };
}

export async function runRemote(opts: BenchOptions): Promise<Section> {
  const rounds = opts.quick ? 2 : 4;
  const calls = opts.quick ? 1000 : 4000;
  const warmup = opts.quick ? 200 : 800;
  const lines: string[] = [
    `${rounds} rounds, each a fresh client process starting its server; ${warmup} warm-up then ${calls} ` +
      `timed sequential \`tools/call\` requests over stdio (${Math.round(warmup / 4)} and ${Math.round(calls / 4)} over HTTP), ` +
      'one event-loop turn between calls, not pinned (two processes). ' +
      '"instrumented" is both processes started with `--import mcp-audit/register` and no OTLP endpoint ' +
      '(the embedded default: each side writes its hash-chained evidence log). CPU per call includes the ' +
      'evidence log written after the loop (the bench waits for both sides to flush).',
    '',
  ];
  const summary: Record<string, unknown> = {};
  for (const transport of ['stdio', 'http'] as const) {
    // Streamable HTTP costs a request and an SSE stream per call: fewer calls keep the run short.
    const n = transport === 'http' ? Math.round(calls / 4) : calls;
    const w = transport === 'http' ? Math.round(warmup / 4) : warmup;
    const base: Figures[] = [];
    const inst: Figures[] = [];
    const raw: string[] = [];
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? [false, true] : [true, false];
      for (const instrumented of order) {
        const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-bench-'));
        try {
          const { result } = await runWorker<RemoteResult>(
            'remote-client.mjs',
            [transport, String(n), String(w)],
            {
              nodeArgs: instrumented ? registerArgs() : [],
              env: { MCP_AUDIT_DIR: dir, MCP_AUDIT_FILE: join(dir, '{service}-{pid}.jsonl') },
            },
          );
          if (instrumented) {
            const rec = result.records;
            if (!rec || rec.client !== result.expectedRecords || rec.server !== result.expectedRecords) {
              throw new Error(
                `${transport}: evidence logs hold ${JSON.stringify(rec)} tools/call records, expected ${result.expectedRecords} per side`,
              );
            }
          }
          const f = figuresOf(result);
          (instrumented ? inst : base).push(f);
          raw.push(
            `| ${round + 1} | ${instrumented ? 'mcp-audit' : 'baseline'} | ${us(f.p50, false)} | ${us(f.p95, false)} | ${us(f.clientCpu, false)} | ${us(f.serverCpu, false)} | ${f.rate.toFixed(0)} | ${result.records ? `${result.records.client} / ${result.records.server}` : '—'} |`,
          );
          opts.progress(
            `${transport} round ${round + 1}/${rounds} ${instrumented ? 'mcp-audit' : 'baseline '} median ${us(f.p50, false)} µs, client cpu ${us(f.clientCpu, false)} µs/call, server cpu ${us(f.serverCpu, false)} µs/call`,
          );
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
    const d = (key: keyof Figures) => spread(inst.map((f, i) => f[key] - base[i]![key]));
    const baseP50 = median(base.map((f) => f.p50));
    const addedP50 = d('p50');
    const relative = spread(inst.map((f, i) => (f.p50 - base[i]!.p50) / base[i]!.p50));
    summary[transport] = { baseP50, addedP50: addedP50.median, relative: relative.median };
    lines.push(
      `### ${transport === 'stdio' ? 'stdio (client spawns the server)' : 'Streamable HTTP on 127.0.0.1 (one session)'}`,
      '',
      '| figure | baseline | added by mcp-audit (paired, median of rounds, range) |',
      '|---|---|---|',
      `| median round trip | ${us(baseP50, false)} µs | ${withRange(addedP50)} = ${(relative.median * 100).toFixed(1)} % |`,
      `| p95 round trip | ${us(median(base.map((f) => f.p95)), false)} µs | ${withRange(d('p95'))} |`,
      `| client CPU per call | ${us(median(base.map((f) => f.clientCpu)), false)} µs | ${withRange(d('clientCpu'))} |`,
      `| server CPU per call | ${us(median(base.map((f) => f.serverCpu)), false)} µs | ${withRange(d('serverCpu'))} |`,
      `| calls per second (sequential) | ${median(base.map((f) => f.rate)).toFixed(0)} | ${median(inst.map((f) => f.rate)).toFixed(0)} instrumented |`,
      '',
      '<details><summary>Raw figures per run</summary>',
      '',
      '| round | configuration | median µs | p95 µs | client CPU µs/call | server CPU µs/call | calls/s | evidence records client / server |',
      '|---|---|---|---|---|---|---|---|',
      ...raw,
      '',
      '</details>',
      '',
    );
  }
  return { title: 'Across processes: stdio and Streamable HTTP', markdown: lines.join('\n'), summary };
}

interface Ready {
  readyMs: number;
  cpuMs: number;
}

export async function runStartup(opts: BenchOptions): Promise<Section> {
  const rounds = opts.quick ? 4 : 12;
  const plain: number[] = [];
  const withRegister: number[] = [];
  const wallPlain: number[] = [];
  const wallRegister: number[] = [];
  const cpuPlain: number[] = [];
  const cpuRegister: number[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-bench-'));
  try {
    for (let round = 0; round < rounds; round++) {
      for (const register of round % 2 === 0 ? [false, true] : [true, false]) {
        const { result, wallMs } = await runWorker<Ready>('startup.mjs', [], {
          nodeArgs: register ? registerArgs() : [],
          env: { MCP_AUDIT_FILE: join(dir, '{service}-{pid}.jsonl') },
        });
        (register ? withRegister : plain).push(result.readyMs);
        (register ? wallRegister : wallPlain).push(wallMs);
        (register ? cpuRegister : cpuPlain).push(result.cpuMs);
      }
      opts.progress(
        `start-up round ${round + 1}/${rounds}: first response after ${us(plain.at(-1)!, false)} ms plain, ${us(withRegister.at(-1)!, false)} ms with the register entry`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const added = spread(withRegister.map((v, i) => v - plain[i]!));
  const addedWall = spread(wallRegister.map((v, i) => v - wallPlain[i]!));
  const addedCpu = spread(cpuRegister.map((v, i) => v - cpuPlain[i]!));
  const lines = [
    `A script that imports the MCP SDK, connects a Client to an McpServer in memory and makes one ` +
      `\`tools/call\`; ${rounds} fresh processes each way, alternating. "First response" is measured inside ` +
      'the process (ms since the process started); "spawn to exit" from the parent.',
    '',
    '| figure | plain `node` | `node --import mcp-audit/register` | added (paired median, range) |',
    '|---|---|---|---|',
    `| first response | ${us(median(plain), false)} ms | ${us(median(withRegister), false)} ms | ${withRange(added, 'ms')} |`,
    `| spawn to exit | ${us(median(wallPlain), false)} ms | ${us(median(wallRegister), false)} ms | ${withRange(addedWall, 'ms')} |`,
    `| CPU used up to the first response (main thread and loader thread) | ${us(median(cpuPlain), false)} ms | ${us(median(cpuRegister), false)} ms | ${withRange(addedCpu, 'ms')} |`,
  ];
  return {
    title: 'Process start-up',
    markdown: lines.join('\n'),
    summary: { addedMs: added.median, addedCpuMs: addedCpu.median },
  };
}
