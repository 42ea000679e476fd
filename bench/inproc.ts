// In-process rows and argument/result sizes: Client ↔ McpServer in one process over the SDK's
// InMemoryTransport, each configuration in fresh processes, interleaved round by round.
import { runWorker } from './lib/spawn.js';
import { figures, paired, spread, us, withRange, type PairedRow, type RunFigures } from './lib/stats.js';
import type { BenchOptions, Section } from './lib/types.js';

interface InprocResult {
  config: string;
  calls: number;
  bytes?: number;
  cpuPerCallUs: number;
  wallPerCallUs: number;
  latenciesUs: number[];
  produced: { spans: number; names: Record<string, number> };
}

interface Config {
  id: string;
  label: string;
  /** Spans expected per timed call; a run producing fewer is reported, not timed. */
  spansPerCall: number;
}

export const CONFIGS: Config[] = [
  { id: 'baseline', label: 'baseline (no OpenTelemetry)', spansPerCall: 0 },
  { id: 'otel-sdk', label: 'OTel SDK registered, no MCP instrumentation', spansPerCall: 0 },
  { id: 'bare-1', label: 'one bare application span per call (floor)', spansPerCall: 1 },
  { id: 'bare-2', label: 'two bare application spans per call (floor for two spans)', spansPerCall: 2 },
  { id: 'mcp-audit', label: '**mcp-audit**, default settings, both sides', spansPerCall: 2 },
  { id: 'mcp-audit-capture-off', label: 'mcp-audit, argument capture off, both sides', spansPerCall: 2 },
  { id: 'traceloop', label: '`@traceloop/instrumentation-mcp` 0.27.0', spansPerCall: 1 },
  { id: 'openinference', label: '`@arizeai/openinference-instrumentation-mcp` 0.2.33', spansPerCall: 1 },
  { id: 'shinzo', label: '`@shinzolabs/instrumentation-mcp` 1.1.0', spansPerCall: 1 },
  { id: 'mcp-trace', label: '`mcp-trace` 0.1.9', spansPerCall: 1 },
  { id: 'sentry', label: '`@sentry/node` 11.12.0 MCP integration', spansPerCall: 1 },
];

// The in-process rows run pinned to one CPU: client, server and exporter share it, as they would in
// one Node process anyway, and nothing migrates between cores mid-run.
const PIN_CPU = 1;

function describeProduced(r: InprocResult): string {
  const names = Object.entries(r.produced.names)
    .map(([name, n]) => `${name} ×${n}`)
    .join(', ');
  return `${r.produced.spans} (${names || 'nothing'})`;
}

export async function runInproc(opts: BenchOptions): Promise<Section> {
  const calls = opts.quick ? 1500 : 4000;
  const warmup = opts.quick ? 300 : 500;
  const rounds = opts.quick ? 2 : 4;
  const runs = new Map<string, InprocResult[]>(CONFIGS.map((c) => [c.id, []]));
  for (let round = 0; round < rounds; round++) {
    // Rotate the order each round so no configuration always runs right after another.
    const order = CONFIGS.map((_, i) => CONFIGS[(i + round) % CONFIGS.length]!);
    for (const config of order) {
      const { result } = await runWorker<InprocResult>(
        'inproc.mjs',
        [config.id, String(calls), String(warmup)],
        { cpu: PIN_CPU },
      );
      runs.get(config.id)!.push(result);
      opts.progress(
        `in-process round ${round + 1}/${rounds} ${config.id.padEnd(22)} cpu ${us(result.cpuPerCallUs, false).padStart(6)} µs/call, spans ${describeProduced(result)}`,
      );
    }
  }
  const fig = (id: string): RunFigures[] => runs.get(id)!.map((r) => figures(r.cpuPerCallUs, r.latenciesUs));
  const base = fig('baseline');
  const rows: Array<{ config: Config; row?: PairedRow; produced: string; worked: boolean }> = [];
  for (const config of CONFIGS) {
    const results = runs.get(config.id)!;
    const worked = results.every((r) => r.produced.spans >= config.spansPerCall * r.calls);
    rows.push({
      config,
      row: config.id === 'baseline' ? undefined : paired(fig(config.id), base),
      produced: describeProduced(results[0]!),
      worked,
    });
  }
  const baseCpu = spread(base.map((b) => b.cpu));
  const baseP50 = spread(base.map((b) => b.p50));
  const baseP95 = spread(base.map((b) => b.p95));
  const floor = rows.find((r) => r.config.id === 'bare-2')!.row!.cpu.median;
  const lines = [
    `${rounds} rounds × ${CONFIGS.length} configurations, each run a fresh process pinned to CPU ${PIN_CPU}, ` +
      `${warmup} warm-up calls then ${calls} timed sequential \`tools/call\` requests. ` +
      'Added figures are the paired difference to the baseline of the same round: the median over rounds, ' +
      'with the range over rounds in parentheses.',
    '',
    `Baseline: CPU ${us(baseCpu.median, false)} µs per call (${us(baseCpu.min, false)} … ${us(baseCpu.max, false)}), ` +
      `median latency ${us(baseP50.median, false)} µs, p95 ${us(baseP95.median, false)} µs.`,
    '',
    '| configuration | added CPU per call | × two-span floor | added median latency | added p95 latency | spans exported in the timed loop (first run) |',
    '|---|---|---|---|---|---|',
  ];
  for (const { config, row, produced, worked } of rows) {
    if (!row) {
      lines.push(`| ${config.label} | — | — | — | — | ${produced} |`);
    } else if (!worked) {
      lines.push(`| ${config.label} | not timed: produced nothing per call | — | — | — | ${produced} |`);
    } else {
      const ratio = config.spansPerCall > 0 && floor > 0 ? `${(row.cpu.median / floor).toFixed(2)}×` : '—';
      lines.push(
        `| ${config.label} | ${withRange(row.cpu)} | ${ratio} | ${withRange(row.p50)} | ${withRange(row.p95)} | ${produced} |`,
      );
    }
  }
  lines.push('', '<details><summary>Raw figures per run (CPU µs/call, median µs, p95 µs)</summary>', '');
  lines.push(
    '| configuration | ' + Array.from({ length: rounds }, (_, i) => `round ${i + 1}`).join(' | ') + ' |',
  );
  lines.push('|---|' + '---|'.repeat(rounds));
  for (const config of CONFIGS) {
    const cells = fig(config.id).map(
      (f) => `${us(f.cpu, false)} / ${us(f.p50, false)} / ${us(f.p95, false)}`,
    );
    lines.push(`| ${config.id} | ${cells.join(' | ')} |`);
  }
  lines.push('', '</details>');
  return {
    title: 'In-process: one tools/call, client and server in one process',
    markdown: lines.join('\n'),
    summary: Object.fromEntries(rows.filter((r) => r.row).map((r) => [r.config.id, r.row!])),
  };
}

const SIZES: Array<[label: string, bytes: number, calls: number]> = [
  ['100 B', 100, 3000],
  ['4 KB', 4096, 3000],
  ['100 KB', 102_400, 600],
  ['1 MB', 1_048_576, 80],
  ['10 MB', 10_485_760, 10],
];

export async function runSizes(opts: BenchOptions): Promise<Section> {
  const rounds = opts.quick ? 1 : 3;
  const configs = ['baseline', 'mcp-audit'] as const;
  const added = new Map<string, { cpu: number[]; p50: number[]; baseCpu: number[] }>();
  for (let round = 0; round < rounds; round++) {
    for (const [label, bytes, fullCalls] of SIZES) {
      const calls = Math.max(5, Math.round(opts.quick ? fullCalls / 4 : fullCalls));
      const warmup = Math.max(3, Math.round(calls / 10));
      const pair: Record<string, RunFigures> = {};
      for (const config of round % 2 === 0 ? configs : [...configs].reverse()) {
        const { result } = await runWorker<InprocResult>(
          'inproc.mjs',
          [config, String(calls), String(warmup), String(bytes)],
          { cpu: PIN_CPU, timeoutMs: 600_000 },
        );
        if (config === 'mcp-audit' && result.produced.spans < 2 * calls) {
          throw new Error(`mcp-audit produced ${result.produced.spans} spans for ${calls} calls of ${label}`);
        }
        pair[config] = figures(result.cpuPerCallUs, result.latenciesUs);
      }
      const entry = added.get(label) ?? { cpu: [], p50: [], baseCpu: [] };
      entry.cpu.push(pair['mcp-audit']!.cpu - pair.baseline!.cpu);
      entry.p50.push(pair['mcp-audit']!.p50 - pair.baseline!.p50);
      entry.baseCpu.push(pair.baseline!.cpu);
      added.set(label, entry);
      opts.progress(
        `sizes round ${round + 1}/${rounds} ${label.padEnd(7)} baseline cpu ${us(pair.baseline!.cpu, false)} µs/call, mcp-audit adds ${us(pair['mcp-audit']!.cpu - pair.baseline!.cpu)} µs`,
      );
    }
  }
  const at4k = spread(added.get('4 KB')!.cpu).median;
  const lines = [
    'The same tool with an argument of N bytes (one string field) and a text result of N bytes; ' +
      'mcp-audit default settings against the baseline, paired per round ' +
      `(${rounds} round${rounds > 1 ? 's' : ''}, fresh processes, pinned).`,
    '',
    '| size | baseline CPU per call | added CPU per call | added median latency | added CPU relative to 4 KB |',
    '|---|---|---|---|---|',
  ];
  const summary: Record<string, number> = {};
  for (const [label] of SIZES) {
    const e = added.get(label)!;
    const cpu = spread(e.cpu);
    summary[label] = cpu.median;
    lines.push(
      `| ${label} | ${us(spread(e.baseCpu).median, false)} µs | ${withRange(cpu)} | ${withRange(spread(e.p50))} | ${(cpu.median / at4k).toFixed(2)}× |`,
    );
  }
  return { title: 'Argument and result size', markdown: lines.join('\n'), summary };
}
