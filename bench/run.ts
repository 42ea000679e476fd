// `npm run bench [-- --quick] [-- --only=inproc,remote,startup,sizes,collector]`: what an audited
// MCP call costs, measured against an uninstrumented baseline and against peer instrumentations,
// written to docs/benchmarks.md. Not part of `npm test`: figures are reported, never asserted.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { runCollector } from './collector.js';
import { runInproc, runSizes } from './inproc.js';
import { REPO_ROOT } from './lib/spawn.js';
import type { BenchOptions, Section } from './lib/types.js';
import { runRemote, runStartup } from './remote.js';
import { targetsTable } from './targets.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const only = argv
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(',');
const started = Date.now();
const options: BenchOptions = {
  quick,
  progress: (line) =>
    process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`),
};

const OUTPUT = join(REPO_ROOT, 'docs', 'benchmarks.md');
// Sections other benches write (bench/proxy.ts, the redaction benches) live between these markers
// and are kept as they are when this bench rewrites the file.
const KEPT = /<!-- (\S+):begin -->[\s\S]*?<!-- \1:end -->/g;

function version(pkg: string): string {
  try {
    return (
      JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    return 'not installed';
  }
}

function machine(): string {
  const cpu = cpus();
  let governor = '';
  try {
    governor = execFileSync('cat', ['/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
  } catch {
    governor = 'unknown';
  }
  return [
    `- CPU: ${cpu.length} × ${cpu[0]?.model ?? 'unknown'} (governor ${governor}); memory ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    `- Load average when the bench started: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')} (1, 5, 15 min) — other work on the machine shows up as spread in the ranges below`,
    `- Node.js ${process.version}; \`@modelcontextprotocol/sdk\` ${version('@modelcontextprotocol/sdk')}; ` +
      `\`@opentelemetry/sdk-trace\` ${version('@opentelemetry/sdk-trace')}; \`@opentelemetry/api\` ${version('@opentelemetry/api')}`,
    `- Mode: ${quick ? '`--quick` (fewer rounds and calls: noisier)' : 'full'}; date ${new Date().toISOString()}`,
  ].join('\n');
}

const METHOD = `## Method

- Each configuration runs in **fresh processes**, several rounds, **interleaved** (the order rotates
  each round) so drift on the machine hits every configuration alike; warm-up calls are excluded.
- Calls are sequential with **one event-loop turn** (\`setImmediate\`) between calls, so batch
  processors and deferred work run as they would in an app that does anything else.
- Spans go through a **BatchSpanProcessor** into an exporter that counts them in memory (in-process
  rows), or into mcp-audit's evidence log (process rows, the embedded default).
- **CPU per call** is \`process.cpuUsage()\` over the timed loop **including deferred work**: after
  the loop the worker waits for the deferred span completion and forces the batch processor to flush
  (process rows: waits past the evidence log's schedule), and that CPU is counted. It is the headline
  figure: the median latency hides work done after the caller has its result.
- **Median and p95 latency** are per call, from \`performance.now()\` around \`client.callTool()\`.
- Every added figure is the **paired difference to the baseline of the same round**; the tables give
  the median over rounds and, in parentheses, the range over rounds.
- Each peer is run the way its documentation tells its users to, and what it produced in the timed
  loop is printed beside its figures; a peer that produced nothing is reported as such, not timed.`;

async function section(
  name: string,
  run: (o: BenchOptions) => Promise<Section>,
): Promise<Section | undefined> {
  if (only && !only.includes(name)) return undefined;
  options.progress(`— ${name} —`);
  try {
    return await run(options);
  } catch (err) {
    // One failed part is reported in its section; the other parts' figures still get written.
    options.progress(`${name} failed: ${err instanceof Error ? err.message : String(err)}`);
    return {
      title: `${name}: failed`,
      markdown: `This part failed in this run:\n\n\`\`\`\n${err instanceof Error ? err.message : String(err)}\n\`\`\``,
      summary: {},
    };
  }
}

const header = machine();
const sections: Record<string, Section | undefined> = {};
sections.inproc = await section('inproc', runInproc);
sections.remote = await section('remote', runRemote);
sections.startup = await section('startup', runStartup);
sections.sizes = await section('sizes', runSizes);
sections.collector = await section('collector', runCollector);

const previous = existsSync(OUTPUT) ? readFileSync(OUTPUT, 'utf8') : '';
const kept = previous.match(KEPT) ?? [];
const proxyBlock =
  kept.find((b) => b.startsWith('<!-- proxy:begin -->')) ??
  '<!-- proxy:begin -->\n_`mcp-audit wrap` / `proxy` rows: written by `bench/proxy.ts`._\n<!-- proxy:end -->';
const otherBlocks = kept.filter((b) => !b.startsWith('<!-- proxy:begin -->'));
const notesFile = join(REPO_ROOT, 'bench', 'NOTES.md');
const notes = existsSync(notesFile) ? readFileSync(notesFile, 'utf8').trim() : '';

const body = [
  '# Benchmarks',
  '',
  `Generated by \`npm run bench${quick ? ' -- --quick' : ''}\` (${((Date.now() - started) / 60000).toFixed(1)} min). Do not edit by hand: re-run it.`,
  '',
  '## Machine and versions',
  '',
  header,
  '',
  METHOD,
  '',
  ...(sections.inproc || sections.remote || sections.startup || sections.sizes || sections.collector
    ? ['## Targets', '', targetsTable(sections), '']
    : []),
  ...Object.values(sections).flatMap((s) => (s ? [`## ${s.title}`, '', s.markdown, ''] : [])),
  '## Proxy: `mcp-audit wrap` and `mcp-audit proxy`',
  '',
  proxyBlock,
  '',
  ...otherBlocks.flatMap((b) => [b, '']),
  ...(notes ? [notes, ''] : []),
].join('\n');

if (only) {
  // A partial run prints its sections instead of replacing the published file with half of it.
  process.stdout.write(body);
} else {
  writeFileSync(OUTPUT, body);
  options.progress(`wrote ${OUTPUT}`);
}
