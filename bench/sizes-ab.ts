// `node --import tsx bench/sizes-ab.ts <dist A> <dist B>[,NAME=value…] … [--rounds=N] [--sizes=…]`:
// the argument-and-result size rows of the bench for several builds (or one build under several
// settings: `dist,MCP_AUDIT_RESULT_SCAN_CHARS=98304`) in one sitting, so a change is judged against
// the code it replaces under the same load. Each round runs the baseline and every build in fresh
// processes pinned to one CPU, in an order that rotates each round; every figure is paired with
// the baseline of its round. `--sizes` is a comma-separated subset of 100,4096,102400,1048576,10485760.
import { resolve } from 'node:path';
import { loadavg } from 'node:os';
import { runWorker } from './lib/spawn.js';
import { figures, spread, us, withRange, type RunFigures } from './lib/stats.js';

interface InprocResult {
  cpuPerCallUs: number;
  latenciesUs: number[];
  produced: { spans: number };
}

const argv = process.argv.slice(2);
const flag = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const specs = argv.filter((a) => !a.startsWith('--'));
if (specs.length < 2) {
  process.stderr.write(
    'usage: bench/sizes-ab.ts <dist A> <dist B>[,NAME=value…] … [--rounds=N] [--sizes=…]\n',
  );
  process.exit(2);
}
const ROUNDS = Number(flag('rounds') ?? 3);
const CALLS: Record<number, number> = { 100: 3000, 4096: 3000, 102400: 600, 1048576: 80, 10485760: 10 };
const SIZES = (flag('sizes') ?? '100,4096,102400,1048576,10485760').split(',').map(Number);
const PIN_CPU = 1;
const builds = specs.map((spec, i) => {
  const [dist, ...settings] = spec.split(',');
  return {
    id: String.fromCharCode(65 + i),
    label: spec,
    config: 'mcp-audit',
    dist: resolve(dist!),
    env: Object.fromEntries(
      settings.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    ),
  };
});
const RUNS = [
  { id: 'baseline', label: 'baseline', config: 'baseline', dist: builds[0]!.dist, env: {} },
  ...builds,
];

const added = new Map<string, number[]>();
const load0 = loadavg()[0]!;
for (let round = 0; round < ROUNDS; round++) {
  for (const bytes of SIZES) {
    const calls = CALLS[bytes] ?? 100;
    const order = RUNS.map((_, i) => RUNS[(i + round) % RUNS.length]!);
    const got: Record<string, RunFigures> = {};
    for (const run of order) {
      const { result } = await runWorker<InprocResult>(
        'inproc.mjs',
        [run.config, String(calls), String(Math.max(3, Math.round(calls / 10))), String(bytes)],
        { cpu: PIN_CPU, timeoutMs: 600_000, env: { ...run.env, BENCH_DIST: run.dist } },
      );
      if (run.config === 'mcp-audit' && result.produced.spans < 2 * calls) {
        throw new Error(`${run.id} produced ${result.produced.spans} spans for ${calls} calls of ${bytes} B`);
      }
      got[run.id] = figures(result.cpuPerCallUs, result.latenciesUs);
    }
    for (const { id } of builds) {
      const key = `${id} ${bytes}`;
      added.set(key, [...(added.get(key) ?? []), got[id]!.cpu - got.baseline!.cpu]);
    }
    process.stderr.write(
      `round ${round + 1}/${ROUNDS} ${String(bytes).padStart(8)} B: ${builds.map(({ id }) => `${id} ${us(got[id]!.cpu - got.baseline!.cpu)} µs`).join(', ')}\n`,
    );
  }
}

const at4k = (id: string) => (added.has(`${id} 4096`) ? spread(added.get(`${id} 4096`)!).median : NaN);
const lines = [
  ...builds.map((b) => `- ${b.id}: \`${b.label}\``),
  '',
  `${ROUNDS} rounds; load average ${load0.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end.`,
  '',
  `| size | ${builds.map((b) => `${b.id}: added CPU per call | ${b.id}: × 4 KB`).join(' | ')} |`,
  `|---|${'---|---|'.repeat(builds.length)}`,
];
for (const bytes of SIZES) {
  const cells = builds.map(({ id }) => {
    const s = spread(added.get(`${id} ${bytes}`)!);
    return `${withRange(s)} | ${(s.median / at4k(id)).toFixed(2)}×`;
  });
  lines.push(`| ${bytes} B | ${cells.join(' | ')} |`);
}
process.stdout.write(`${lines.join('\n')}\n`);
