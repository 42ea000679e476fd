// Collector throughput: the load worker runs under the e2e lock (one stack on the machine at a
// time), once with collector/config.yaml as shipped and once with the redaction processors out.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, WORKERS } from './lib/spawn.js';
import type { BenchOptions, Section } from './lib/types.js';

interface Step {
  rate: number;
  sent: number;
  rejected: number;
  sendSeconds: number;
  achievedRate: number;
  jaeger: number;
  prometheus: number;
  audit: number;
  collectorCpuPercent: number;
  collectorCpuSecondsPer10kSpans: number;
  rssMiB: number;
  peakRssMiB: number;
}

interface LoadResult {
  variant: string;
  seconds: number;
  batch: number;
  steps: Step[];
}

function runLoad(variant: string, rates: number[], seconds: number, opts: BenchOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'flock',
      [
        '/tmp/e2e.lock',
        process.execPath,
        '--import',
        'tsx',
        join(WORKERS, 'collector-load.ts'),
        variant,
        rates.join(','),
        String(seconds),
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const lines = stderr.split('\n');
      stderr = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) opts.progress(line.trim());
    });
    child.once('exit', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line)
        reject(new Error(`collector load (${variant}) exited with ${code}: ${stderr}`));
      else resolve(JSON.parse(line.slice(7)) as LoadResult);
    });
  });
}

function binariesBuilt(): boolean {
  const bin = join(homedir(), '.cache', 'mcp-audit', 'bin');
  if (!existsSync(bin)) return false;
  const names = readdirSync(bin);
  return names.some((n) => n.startsWith('otelcol-mcp')) && names.some((n) => n.startsWith('jaeger'));
}

const lossless = (s: Step) =>
  s.rejected === 0 && s.jaeger === s.sent && s.prometheus === s.sent && s.audit === s.sent;

export async function runCollector(opts: BenchOptions): Promise<Section> {
  if (!binariesBuilt()) {
    return {
      title: 'Collector throughput',
      markdown: 'Not measured: the collector and Jaeger binaries are not built (`npm run stack:build`).',
      summary: {},
    };
  }
  const seconds = opts.quick ? 2 : 3;
  const variants: Array<[string, string, number[]]> = [
    [
      'full',
      'collector/config.yaml as shipped (both redaction processors)',
      opts.quick ? [1000, 20_000] : [1000, 5000, 20_000],
    ],
    [
      'no-redaction',
      'the same without `transform/redact` and `redaction` in the traces pipeline',
      opts.quick ? [5000, 20_000] : [5000, 20_000, 40_000],
    ],
  ];
  const lines = [
    'otelcol-mcp, Jaeger v2, Prometheus and a `mcp-audit sink` on loopback, started as the end-to-end tests ' +
      'start them (test/support/stack.ts). A sender on the same machine POSTs OTLP/JSON requests of 500 ' +
      'realistic `tools/call` client spans (redacted arguments with a phone number left for the collector to ' +
      `catch, summary, identity), paced at the target rate for ${seconds} s (at most 30 s of sending), at most ` +
      '8 requests in flight, so a collector slower than the target pushes back and the achieved rate is what it ' +
      'sustained. Then the spans are counted where they arrived: Jaeger (query API), Prometheus ' +
      "(`sum(mcp_audit_tool_calls_total{session_id=…})`) and the collector's audit file. CPU is the collector " +
      "process's user+system time over the step; memory its RSS after the step and its peak.",
    '',
  ];
  const summary: { sustained?: number; lossless?: boolean; noRedaction?: number } = {};
  for (const [variant, label, rates] of variants) {
    opts.progress(`collector: ${variant} (${rates.join(', ')} spans/s targets)`);
    const result = await runLoad(variant, rates, seconds, opts);
    lines.push(
      `### ${label}`,
      '',
      '| target spans/s | sent | achieved spans/s | rejected | in Jaeger | in Prometheus | in audit file | zero loss | collector CPU (% of one core) | CPU s per 10k spans | RSS / peak MiB |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const s of result.steps) {
      lines.push(
        `| ${s.rate} | ${s.sent} | ${s.achievedRate.toFixed(0)} | ${s.rejected} | ${s.jaeger} | ${s.prometheus} | ${s.audit} | ${lossless(s) ? 'yes' : '**no**'} | ${s.collectorCpuPercent.toFixed(0)} | ${s.collectorCpuSecondsPer10kSpans.toFixed(2)} | ${s.rssMiB.toFixed(0)} / ${s.peakRssMiB.toFixed(0)} |`,
      );
    }
    lines.push('');
    const best = Math.max(0, ...result.steps.filter(lossless).map((s) => s.achievedRate));
    if (variant === 'full') {
      summary.sustained = best;
      summary.lossless = result.steps.every(lossless);
    } else summary.noRedaction = best;
    lines.push(`Highest rate sustained with zero loss: **${best.toFixed(0)} spans/s**.`, '');
  }
  return { title: 'Collector throughput', markdown: lines.join('\n'), summary };
}
