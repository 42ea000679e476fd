// `npm run soak:scale-out -- --sessions N [--minutes M]`: N live agent sessions through the real
// instrumentation into the scaled-out stack of docs/scale.md ("Beyond one machine"), on one host:
// an agent collector (collector/gateway.yaml) load-balancing by trace ID to two gateways
// (collector/config.yaml + collector/scale-out.yaml, each exporting to Jaeger, the `mcp-audit sink`
// evidence log and the audit file), which remote-write to a sharded Thanos store (two receivers
// in one hashring, replication factor 1; a querier; `thanos rule` evaluating
// collector/rules/mcp-audit-alerts.yml through the querier every --interval seconds).
//
// The load, the seed calls and the process figures are scripts/soak-sessions.ts's (imported). It
// prints a line a minute and, at the end, the figures docs/scale.md reports for this topology:
// series held by each receiver, the rule group's evaluation time and missed iterations, memory and
// CPU of each component, push health (points sent, failed, queued; spans accepted and refused at
// each collector), sessions visible through the querier, and the time from two offending calls,
// made at load, to their alerts firing in the ruler. The gateways' limits are raised through the
// config's own settings (--memory-mib, --max-streams). A run that breaks (a component exits, the
// host runs short of memory) stops there and still reports, with the reason.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '../test/support/proc.js';
import { startStack, waitFor, type Stack } from '../test/support/stack.js';
import { rulerAlerts, startThanos, type ThanosStore } from '../test/support/thanos.js';
import {
  fmt,
  git,
  max,
  median,
  MiB,
  procFigures,
  SEEDS,
  sleep,
  startAgent,
  startSink,
  stopAgent,
  UsageError,
  wholeNumber,
  type Agent,
  type SeedEvent,
} from './soak-sessions.js';

const USAGE = `Usage: npm run soak:scale-out -- --sessions N [--minutes M] [--period S] [--agents A] [--interval S] [--warm S] [--memory-mib M] [--max-streams K]
  --sessions N     live sessions (whole number > 0)
  --minutes M      how long the load runs (default 9)
  --period S       seconds between two calls of one session, i.e. the ramp (default 180)
  --agents A       instrumented load processes (default one per 10,000 sessions)
  --interval S     thanos rule evaluation interval in seconds (default 5, as docker/prometheus.yml)
  --warm S         when the steady window starts and the seed calls are made (default max(period, 300))
  --memory-mib M   each collector's memory limit, MCP_AUDIT_MEMORY_LIMIT_MIB (default 2048; spike a quarter)
  --max-streams K  each gateway's delta_to_cumulative cap, MCP_AUDIT_METRICS_MAX_STREAMS (default max(100000, 5 × sessions))`;

interface ScaleOptions {
  sessions: number;
  minutes: number;
  periodS: number;
  agents: number;
  intervalS: number;
  warmS: number;
  memoryMiB: number;
  maxStreams: number;
}

function parseOptions(argv: string[]): ScaleOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(
        ['sessions', 'minutes', 'period', 'agents', 'interval', 'warm', 'memory-mib', 'max-streams'].map(
          (name) => [name, { type: 'string' as const }],
        ),
      ),
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const sessions = wholeNumber('sessions', values.sessions as string | undefined);
  const minutesRaw = (values.minutes as string | undefined) ?? '9';
  if (!/^\d+(\.\d+)?$/.test(minutesRaw) || Number(minutesRaw) <= 0)
    throw new UsageError(`--minutes must be a number above 0, got ${JSON.stringify(minutesRaw)}`);
  const minutes = Number(minutesRaw);
  const periodS = wholeNumber('period', values.period as string | undefined, 180);
  const agents = wholeNumber('agents', values.agents as string | undefined, Math.ceil(sessions / 10_000));
  if (agents > sessions) throw new UsageError(`--agents ${agents} is more than --sessions ${sessions}`);
  const intervalS = wholeNumber('interval', values.interval as string | undefined, 5);
  const warmS = wholeNumber('warm', values.warm as string | undefined, Math.max(periodS, 300));
  if (warmS < periodS)
    throw new UsageError(
      `--warm ${warmS} is before the ramp ends (--period ${periodS}): not every session is live yet`,
    );
  if (minutes * 60 < warmS + 90)
    throw new UsageError(
      `--minutes ${minutes} is too short: the steady window starts at ${warmS} s and the seed alerts need 90 s after it (at least ${Math.ceil((warmS + 90) / 6) / 10} min)`,
    );
  const memoryMiB = wholeNumber('memory-mib', values['memory-mib'] as string | undefined, 2048);
  const maxStreams = wholeNumber(
    'max-streams',
    values['max-streams'] as string | undefined,
    Math.max(100_000, 5 * sessions),
  );
  return { sessions, minutes, periodS, agents, intervalS, warmS, memoryMiB, maxStreams };
}

// ---- reads of the components' own metrics pages -------------------------------------------------

async function metricsText(url: string, timeoutMs = 20_000): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`GET ${url} → ${response.status}`);
  return response.text();
}

/** Sum of every sample of `name` (any labels) in a Prometheus exposition; NaN when absent. */
function sumOf(text: string, name: string): number {
  let total = NaN;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm')))
    total = (Number.isNaN(total) ? 0 : total) + Number(m[1]);
  return total;
}

/** Per rule group (`file;group` → group), one gauge or counter of the rules manager. */
function perGroup(text: string, name: string): Record<string, number> {
  return Object.fromEntries(
    [...text.matchAll(new RegExp(`^${name}\\{[^}]*rule_group="[^";]*;([^"]+)"[^}]*\\} (\\S+)$`, 'gm'))].map(
      (m) => [m[1]!, Number(m[2])],
    ),
  );
}

// A collector's own telemetry: spans in and refused, what each exporter sent, failed and queued.
const PIPELINE =
  /^(otelcol_(?:receiver_(?:accepted|refused)_(?:spans|metric_points)|processor_[a-z_]*refused[a-z_]*|exporter_(?:sent|send_failed|enqueue_failed)_(?:spans|metric_points)|exporter_queue_(?:size|capacity)|exporter_prometheusremotewrite_[a-z_]+|deltatocumulative_[a-z_]+))(?:_total)?(?:\{([^}]*)\})? (\S+)$/gm;

/** Pipeline counters of one collector, summed by name and component (`exporter=...` etc.). */
function pipelineFigures(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(PIPELINE)) {
    const component = /(?:^|,)(exporter|receiver|processor)="([^"]+)"/.exec(m[2] ?? '');
    const key = component ? `${m[1]}{${component[2]}}` : m[1]!;
    out[key] = (out[key] ?? 0) + Number(m[3]);
  }
  return out;
}

/** The telemetry port a collector was started with (the stack sets it per collector). */
function telemetryUrl(pid: number): string {
  const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  const port = environ.find((e) => e.startsWith('MCP_AUDIT_COLLECTOR_TELEMETRY_PORT='))?.split('=')[1];
  if (!port) throw new Error(`collector ${pid} has no MCP_AUDIT_COLLECTOR_TELEMETRY_PORT`);
  return `http://127.0.0.1:${port}/metrics`;
}

function memAvailableMiB(): number {
  return Number(/MemAvailable:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024;
}

/** Instant query at the querier with a generous timeout (a count over every session is heavy). */
async function queryScalar(queryUrl: string, expr: string, timeoutMs = 120_000): Promise<number | string> {
  const url = new URL('/api/v1/query', queryUrl);
  url.searchParams.set('query', expr);
  url.searchParams.set('dedup', 'true');
  try {
    const body = (await (await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })).json()) as {
      status: string;
      error?: string;
      data?: { result: Array<{ value: [number, string] }> };
    };
    if (body.status !== 'success') return `error: ${body.error}`;
    return body.data!.result.length ? Number(body.data!.result[0]!.value[1]) : 0;
  } catch (error) {
    return `error: ${String(error)}`;
  }
}

// ---- the run ------------------------------------------------------------------------------------

/** Component name → the prefix its pids carry in `pids`. */
const COMPONENTS = [
  'agent-collector',
  'gateway',
  'receive',
  'query',
  'rule',
  'jaeger',
  'sink',
  'load',
] as const;

interface Sample {
  t: number;
  procs: Record<string, { cpuS: number; rss: number } | undefined>;
  headSeries: Record<string, number>;
  rule?: {
    lastDurationS: Record<string, number>;
    lastEvaluation: Record<string, number>;
    missed: number;
  };
  pipeline: Record<string, Record<string, number>>;
  load: number;
  memAvailableMiB: number;
}

export async function soakScaleOut(argv: string[]): Promise<number> {
  let opts: ScaleOptions;
  try {
    opts = parseOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`soak:scale-out: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  const t0 = Date.now();
  const elapsed = (): string => {
    const s = Math.round((Date.now() - t0) / 1000);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  };
  const say = (line: string): void => void process.stdout.write(`[scale-out ${elapsed()}] ${line}\n`);

  const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-soak-scale-'));
  let stack: Stack | undefined;
  let store: ThanosStore | undefined;
  const pids: Record<string, number> = {};
  // However this process ends (SIGINT included: the reaper then SIGKILLs every tracked pid), every
  // pid it started is killed and the temporary directories go.
  process.on('exit', () => {
    for (const pid of Object.values(pids)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (!process.env.MCP_AUDIT_KEEP_STACK_DIR) {
      rmSync(dir, { recursive: true, force: true });
      if (stack) rmSync(stack.dir, { recursive: true, force: true });
    }
  });

  const commit = git(['rev-parse', '--short', 'HEAD']);
  const dirty = git(['status', '--porcelain', '--', 'collector/']);
  say(
    `${fmt(opts.sessions)} sessions, ${opts.agents} load process(es), a call per session every ${opts.periodS} s, ` +
      `${opts.minutes} min; rule evaluation every ${opts.intervalS} s; steady window from ${opts.warmS} s; ` +
      `collectors' memory limit ${opts.memoryMiB} MiB, gateways' max streams ${fmt(opts.maxStreams)}`,
  );
  say(`HEAD ${commit}${dirty ? `; uncommitted in collector/: ${dirty.replace(/\n/g, ', ')}` : ''}`);

  const agents: Agent[] = [];
  const seeds = new Map<string, SeedEvent>();
  let stoppedBecause: string | undefined;
  try {
    const sink = await startSink(dir);
    pids.sink = sink.child.pid!;
    store = await startThanos({
      rulesFile: join(ROOT, 'collector', 'rules', 'mcp-audit-alerts.yml'),
      receivers: 2,
      evalInterval: `${opts.intervalS}s`,
    });
    for (const [name, pid] of Object.entries(store.pids)) pids[name] = pid;
    stack = await startStack({
      topology: 'gateways',
      withPrometheus: false,
      extraCollectorConfigs: ['collector/scale-out.yaml'],
      sinkEndpoint: sink.url,
      readyTimeoutMs: 120_000,
      collectorEnv: {
        MCP_AUDIT_REMOTE_WRITE_ENDPOINT: store.remoteWriteUrl,
        MCP_AUDIT_MEMORY_LIMIT_MIB: String(opts.memoryMiB),
        MCP_AUDIT_MEMORY_SPIKE_MIB: String(Math.round(opts.memoryMiB / 4)),
        MCP_AUDIT_METRICS_MAX_STREAMS: String(opts.maxStreams),
      },
    });
    pids['agent-collector'] = stack.pids.agent!;
    pids['gateway-1'] = stack.pids['collector-1']!;
    pids['gateway-2'] = stack.pids['collector-2']!;
    pids.jaeger = stack.pids.jaeger!;
    const telemetry = Object.fromEntries(
      ['agent-collector', 'gateway-1', 'gateway-2'].map((n) => [n, telemetryUrl(pids[n]!)]),
    );
    const receiverMetrics = Object.keys(store.pids)
      .filter((n) => n.startsWith('receive-'))
      .map((n) => [n, `http://127.0.0.1:${receiverHttpPort(store!, n)}/metrics`] as const);
    say(
      `stack up: ${Object.entries(pids)
        .map(([n, p]) => `${n} ${p}`)
        .join(', ')}`,
    );

    const run = `scale${t0.toString(36)}`;
    const share = Math.ceil(opts.sessions / opts.agents);
    for (let i = 0, first = 0; first < opts.sessions; i++, first += share) {
      const agent = startAgent(i, first, Math.min(share, opts.sessions - first), opts, stack, dir, run, (e) =>
        seeds.set(e.kind, e),
      );
      agents.push(agent);
      pids[`load-${i}`] = agent.child.pid!;
    }
    say(`${agents.length} load process(es) started, session ids ${run}-0 … ${run}-${opts.sessions - 1}`);

    const samples: Sample[] = [];
    const sample = async (): Promise<Sample> => {
      const procs: Sample['procs'] = {};
      for (const [name, pid] of Object.entries(pids)) procs[name] = procFigures(pid);
      const s: Sample = {
        t: Date.now(),
        procs,
        headSeries: {},
        pipeline: {},
        load: loadavg()[0]!,
        memAvailableMiB: Math.round(memAvailableMiB()),
      };
      await Promise.allSettled([
        ...receiverMetrics.map(async ([name, url]) => {
          s.headSeries[name] = sumOf(await metricsText(url), 'prometheus_tsdb_head_series');
        }),
        (async () => {
          const text = await metricsText(`${store!.ruleUrl}/metrics`);
          s.rule = {
            lastDurationS: perGroup(text, 'prometheus_rule_group_last_duration_seconds'),
            lastEvaluation: perGroup(text, 'prometheus_rule_group_last_evaluation_timestamp_seconds'),
            missed: Object.values(perGroup(text, 'prometheus_rule_group_iterations_missed_total')).reduce(
              (a, b) => a + b,
              0,
            ),
          };
        })(),
        ...Object.entries(telemetry).map(async ([name, url]) => {
          s.pipeline[name] = pipelineFigures(await metricsText(url));
        }),
      ]);
      samples.push(s);
      return s;
    };
    const sumProcs = (s: Sample, prefix: string): { cpuS: number; rss: number } => {
      let cpuS = 0;
      let rss = 0;
      for (const [name, f] of Object.entries(s.procs))
        if (name.startsWith(prefix) && f) {
          cpuS += f.cpuS;
          rss += f.rss;
        }
      return { cpuS, rss };
    };
    const cpuPct = (a: Sample, b: Sample, prefix: string): number =>
      Math.round((100 * (sumProcs(b, prefix).cpuS - sumProcs(a, prefix).cpuS)) / ((b.t - a.t) / 1000));
    const pipe = (s: Sample, key: string): number =>
      Object.values(s.pipeline).reduce((n, p) => n + (p[key] ?? 0), 0);
    // NaN when a receiver did not answer that sample.
    const series = (s: Sample): number =>
      Object.keys(s.headSeries).length === receiverMetrics.length
        ? Object.values(s.headSeries).reduce((a, b) => a + b, 0)
        : NaN;

    const loadStart = Date.now();
    const endAt = loadStart + opts.minutes * 60_000;
    const warmAt = loadStart + opts.warmS * 1000;
    let lastMinute = await sample();
    let nextMinute = Date.now() + 60_000;
    let seeding: ReturnType<typeof injectSeeds> | undefined;

    while (Date.now() < endAt) {
      await sleep(5000);
      const deadLoad = agents.find((a) => a.exited);
      const deadComponent = Object.entries(pids).find(
        ([name, pid]) => !name.startsWith('load-') && procFigures(pid) === undefined,
      );
      const s = await sample();
      if (deadLoad) stoppedBecause = `load process ${deadLoad.child.pid} exited; its log is in ${dir}`;
      else if (deadComponent) stoppedBecause = `${deadComponent[0]} (pid ${deadComponent[1]}) exited`;
      else if (s.memAvailableMiB < 1536)
        stoppedBecause = `the host's available memory fell to ${s.memAvailableMiB} MiB`;
      if (stoppedBecause) {
        say(`stopping early: ${stoppedBecause}`);
        break;
      }
      if (!seeding && Date.now() >= warmAt) {
        say(`steady window starts; seed calls: ${SEEDS.map((x) => `${x.kind} → ${x.alert}`).join(', ')}`);
        seeding = injectSeeds(agents[0]!, run, store.ruleUrl, seeds, say);
      }
      if (Date.now() >= nextMinute) {
        const calls = agents.reduce((n, a) => n + a.calls, 0);
        const groups = s.rule?.lastDurationS ?? {};
        say(
          [
            `calls ${fmt(calls)}`,
            `series ${Object.entries(s.headSeries)
              .map(([n, v]) => `${n} ${fmt(v)}`)
              .join(', ')}`,
            `rule group ${Object.entries(groups)
              .map(([n, v]) => `${n} ${v.toFixed(3)} s`)
              .join(', ')} (missed ${s.rule?.missed ?? '?'})`,
            `spans accepted ${fmt(pipe(s, 'otelcol_receiver_accepted_spans{otlp}'))} refused ${fmt(pipe(s, 'otelcol_receiver_refused_spans{otlp}'))}`,
            `pushed ${fmt(pipe(s, 'otelcol_exporter_sent_metric_points{prometheus_remote_write}'))} points, failed ${fmt(pipe(s, 'otelcol_exporter_send_failed_metric_points{prometheus_remote_write}'))}`,
            ...COMPONENTS.map((c) => `${c} ${MiB(sumProcs(s, c).rss)} MiB ${cpuPct(lastMinute, s, c)} %`),
            `lag ≤ ${max(agents.map((a) => a.maxLagMs))} ms`,
            `load ${s.load.toFixed(1)}`,
            `free ${fmt(s.memAvailableMiB)} MiB`,
          ].join(' · '),
        );
        for (const a of agents) a.maxLagMs = 0;
        lastMinute = s;
        nextMinute += 60_000;
      }
    }
    const alerts = seeding ? await seeding : [];

    // Figures over the steady window (or what there was of it).
    const steady = samples.filter((s) => s.t >= warmAt);
    const window = steady.length >= 2 ? steady : samples;
    const first = window[0]!;
    const last = samples[samples.length - 1]!;
    // One entry per evaluation: a group sampled twice between two evaluations counts once.
    const evaluations = new Map<string, { group: string; s: number }>();
    for (const s of window)
      for (const [group, at] of Object.entries(s.rule?.lastEvaluation ?? {}))
        if (at > 0) evaluations.set(`${group} ${at}`, { group, s: s.rule!.lastDurationS[group]! });
    const ruleGroups = Object.fromEntries(
      [...new Set([...evaluations.values()].map((e) => e.group))].map((group) => {
        const xs = [...evaluations.values()].filter((e) => e.group === group).map((e) => e.s);
        return [group, { medianS: median(xs), maxS: max(xs), evaluationsSampled: xs.length }];
      }),
    );
    const costliestRules = await rulerRuleCosts(store.ruleUrl);
    const ours = `session_id=~"${run}-[0-9]+"`;
    const sessionsSeen = await queryScalar(
      store.queryUrl,
      `count(count by (session_id) (mcp_audit_tool_calls_total{${ours}}))`,
    );
    const callsCounted = await queryScalar(store.queryUrl, `sum(mcp_audit_tool_calls_total{${ours}})`);
    const sdkDropped = await queryScalar(
      store.queryUrl,
      'sum(max_over_time(mcp_audit_dropped_spans_total[1h])) or vector(0)',
    );
    const calls = agents.reduce((n, a) => n + a.calls, 0);
    const pipelineDelta = (name: string): Record<string, number> =>
      Object.fromEntries(
        Object.keys(last.pipeline[name] ?? {}).map((k) => [
          k,
          k.includes('queue_') || k.startsWith('otelcol_deltatocumulative')
            ? last.pipeline[name]![k]!
            : last.pipeline[name]![k]! - (samples[0]!.pipeline[name]?.[k] ?? 0),
        ]),
      );
    const figures = {
      topology:
        'agent collector → 2 gateways (remote write) → thanos receive ×2 (hashring, RF 1) ← thanos query ← thanos rule',
      sessions: opts.sessions,
      loadProcesses: opts.agents,
      periodS: opts.periodS,
      minutes: opts.minutes,
      intervalS: opts.intervalS,
      memoryLimitMiB: opts.memoryMiB,
      maxStreams: opts.maxStreams,
      commit,
      stoppedBecause,
      ranS: Math.round((last.t - loadStart) / 1000),
      steadyWindowS: steady.length >= 2 ? Math.round((last.t - steady[0]!.t) / 1000) : 0,
      calls,
      callFailures: agents.reduce((n, a) => n + a.failures, 0),
      callsCountedInStore: callsCounted,
      sessionsInStore: sessionsSeen,
      headSeries: { ...last.headSeries, total: series(last) },
      headSeriesPeak: max(samples.map(series).filter((n) => !Number.isNaN(n))),
      ruleGroups,
      costliestRules,
      missedIterations: {
        total: last.rule?.missed,
        inSteadyWindow: (last.rule?.missed ?? 0) - (first.rule?.missed ?? 0),
      },
      memoryMiB: Object.fromEntries(
        COMPONENTS.map((c) => [
          c,
          { peak: max(samples.map((s) => MiB(sumProcs(s, c).rss))), end: MiB(sumProcs(last, c).rss) },
        ]),
      ),
      cpuPercentOfOneCore: Object.fromEntries(COMPONENTS.map((c) => [c, cpuPct(first, last, c)])),
      spansProduced: 2 * (calls + SEEDS.length),
      pipeline: Object.fromEntries(Object.keys(telemetry).map((n) => [n, pipelineDelta(n)])),
      sdkDroppedSpans: sdkDropped,
      alerts,
      loadAverage1m: {
        start: samples[0]!.load,
        min: Math.min(...samples.map((s) => s.load)),
        max: max(samples.map((s) => s.load)),
        end: last.load,
      },
      hostMemAvailableMiBMin: Math.min(...samples.map((s) => s.memAvailableMiB)),
    };
    process.stdout.write(JSON.stringify(figures, null, 2) + '\n');
    const slowest = Math.max(...Object.values(ruleGroups).map((g) => g.medianS));
    say(
      [
        `slowest rule group median ${slowest.toFixed(3)} s (target < 1 s)`,
        `missed in window ${figures.missedIterations.inSteadyWindow} (target 0)`,
        ...alerts.map(
          (a) =>
            `${a.alert} ${a.latencyS === undefined ? 'did not fire' : `${a.latencyS.toFixed(1)} s`} (target ≤ 30 s)`,
        ),
        `sessions in the store ${typeof sessionsSeen === 'number' ? fmt(sessionsSeen) : sessionsSeen} of ${fmt(opts.sessions)}`,
        ...(stoppedBecause ? [`stopped early: ${stoppedBecause}`] : []),
      ].join(' · '),
    );
    return alerts.some((a) => a.error) || stoppedBecause ? 1 : 0;
  } finally {
    say('stopping');
    await Promise.all(agents.map(stopAgent));
    await stack?.stop();
    await store?.stop();
    const sinkPid = pids.sink;
    if (sinkPid !== undefined) {
      try {
        process.kill(sinkPid, 'SIGTERM');
        await waitFor(() => procFigures(sinkPid) === undefined, { timeoutMs: 10_000 }).catch(() =>
          process.kill(sinkPid, 'SIGKILL'),
        );
      } catch {
        // already gone
      }
    }
    for (const key of Object.keys(pids)) delete pids[key];
  }
}

/** A receiver's HTTP port, from the arguments it was started with (/proc/<pid>/cmdline). */
function receiverHttpPort(store: ThanosStore, name: string): string {
  const args = readFileSync(`/proc/${store.pids[name]}/cmdline`, 'utf8').split('\0');
  const address = args.find((a) => a.startsWith('--http-address='));
  if (!address) throw new Error(`${name} has no --http-address`);
  return address.slice(address.lastIndexOf(':') + 1);
}

/** The six costliest rules of the ruler's last evaluation (/api/v1/rules), or why not. */
async function rulerRuleCosts(ruleUrl: string): Promise<Array<{ name: string; s: number }> | string> {
  try {
    const body = (await (
      await fetch(`${ruleUrl}/api/v1/rules`, { signal: AbortSignal.timeout(20_000) })
    ).json()) as { data?: Record<string, unknown> };
    const groups = (body.data?.groups ?? body.data?.Groups ?? []) as Array<{
      rules?: Array<Record<string, unknown>>;
    }>;
    return groups
      .flatMap((g) => g.rules ?? [])
      .map((r) => ({
        name: String(r.name ?? '?'),
        s: Number(r.evaluationTime ?? r.evaluation_time ?? NaN),
      }))
      .sort((a, b) => b.s - a.s)
      .slice(0, 6);
  } catch (error) {
    return `not read: ${String(error)}`;
  }
}

/** Makes each seed call through load process 0 and polls the ruler's alerts every second. */
async function injectSeeds(
  agent: Agent,
  run: string,
  ruleUrl: string,
  seeds: Map<string, SeedEvent>,
  say: (line: string) => void,
): Promise<Array<{ kind: string; alert: string; session: string; latencyS?: number; error?: string }>> {
  for (const { kind } of SEEDS)
    agent.child.stdin!.write(JSON.stringify({ kind, session: `${run}-seed-${kind}` }) + '\n');
  const deadline = Date.now() + 150_000;
  const results = new Map<string, number>();
  while (results.size < SEEDS.length && Date.now() < deadline) {
    await sleep(1000);
    const alerts = await rulerAlerts(ruleUrl).catch(() => undefined);
    if (!alerts) continue;
    for (const { kind, alert } of SEEDS) {
      const call = seeds.get(kind);
      if (!call || results.has(kind)) continue;
      const firing = alerts.find(
        (a) => a.labels.alertname === alert && a.labels.session_id === call.session && a.state === 'firing',
      );
      if (firing) {
        const latencyS = (Date.now() - call.startedAt) / 1000;
        results.set(kind, latencyS);
        say(`${alert} firing in the ruler for ${call.session} ${latencyS.toFixed(1)} s after the call`);
      }
    }
  }
  return SEEDS.map(({ kind, alert }) => {
    const call = seeds.get(kind);
    const latencyS = results.get(kind);
    if (latencyS === undefined) say(`${alert} did not fire within 150 s of the ${kind} call`);
    return {
      kind,
      alert,
      session: `${run}-seed-${kind}`,
      ...(latencyS === undefined ? {} : { latencyS }),
      ...(call?.error ? { error: call.error } : !call ? { error: 'the seed call never returned' } : {}),
    };
  });
}

process.exit(
  await soakScaleOut(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(
      `soak:scale-out: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }),
);
