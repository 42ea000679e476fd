// `npm run soak -- --sessions N [--minutes M]`: N live agent sessions through the real
// instrumentation into the real stack (otelcol-mcp with collector/config.yaml, Jaeger, Prometheus
// with collector/rules/*.yml at the shipped 5 s scrape and evaluation interval, and the
// `mcp-audit sink` evidence log), on one machine. Prints a line a minute and, at the end, what
// docs/scale.md reports: head series, the rule group's evaluation time and missed iterations,
// Prometheus, collector, Jaeger and sink memory and CPU, the collector target's scrape duration,
// sessions visible in Prometheus, and the time from two offending calls, made at load, to their
// alerts firing (McpSensitiveToolWithoutCaller, McpBulkExtraction; /api/v1/alerts polled every 1 s).
// With --push the collector remote-writes its metrics to Prometheus (collector/push.yaml) instead
// of being scraped; the scrape figures then give way to the exporter's sent and failed points.
//
// Load: --agents processes (test/fixtures/apps/soak-agent.mjs, each a real SDK client and server
// under `--import mcp-audit/register`), each cycling through its share of the session ids: one call
// per session every --period seconds, so the first period is the ramp. Figures are taken over the
// steady window, from --warm seconds (default: the ramp, and at least the rules' 5 min window) to
// the end; the seed calls are made at its start.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { trackChild } from '../test/support/reaper.js';
import { FIXTURES, REGISTER_ESM, ROOT } from '../test/support/proc.js';
import { promQuery, startStack, waitFor, type Stack } from '../test/support/stack.js';

const USAGE = `Usage: npm run soak -- --sessions N [--minutes M] [--period S] [--agents A] [--interval S] [--warm S] [--push] [--rules DIR]
  --sessions N   live sessions (whole number > 0)
  --minutes M    how long the load runs (default 8)
  --period S     seconds between two calls of one session, i.e. the ramp (default 180)
  --agents A     instrumented load processes (default one per 10,000 sessions)
  --interval S   Prometheus scrape and rule evaluation interval in seconds (default 5, as shipped)
  --warm S       when the steady window starts and the seed calls are made (default max(period, 300))
  --push         the collector remote-writes its metrics to Prometheus (collector/push.yaml)
                 instead of being scraped
  --rules DIR    the directory whose *.yml Prometheus loads as rules (default collector/rules),
                 e.g. an older rules file to compare against
The collector's limits come from the environment as for otelcol-mcp (MCP_AUDIT_MEMORY_LIMIT_MIB,
MCP_AUDIT_MEMORY_SPIKE_MIB, MCP_AUDIT_METRICS_MAX_STREAMS).
Without arguments: the span-delivery soak (SOAK_* variables, see scripts/soak.ts).`;

export class UsageError extends Error {}

export interface Options {
  sessions: number;
  minutes: number;
  periodS: number;
  agents: number;
  intervalS: number;
  warmS: number;
  push: boolean;
  rulesDir?: string;
}

export function wholeNumber(name: string, raw: string | undefined, fallback?: number): number {
  if (raw === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required`);
    return fallback;
  }
  if (!/^\d+$/.test(raw) || Number(raw) <= 0)
    throw new UsageError(`--${name} must be a whole number above 0, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function parseOptions(argv: string[]): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        sessions: { type: 'string' },
        minutes: { type: 'string' },
        period: { type: 'string' },
        agents: { type: 'string' },
        interval: { type: 'string' },
        warm: { type: 'string' },
        push: { type: 'boolean' },
        rules: { type: 'string' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const sessions = wholeNumber('sessions', values.sessions);
  const minutesRaw = values.minutes ?? '8';
  if (!/^\d+(\.\d+)?$/.test(minutesRaw) || Number(minutesRaw) <= 0)
    throw new UsageError(`--minutes must be a number above 0, got ${JSON.stringify(minutesRaw)}`);
  const minutes = Number(minutesRaw);
  const periodS = wholeNumber('period', values.period, 180);
  const agents = wholeNumber('agents', values.agents, Math.ceil(sessions / 10_000));
  if (agents > sessions) throw new UsageError(`--agents ${agents} is more than --sessions ${sessions}`);
  const intervalS = wholeNumber('interval', values.interval, 5);
  const warmS = wholeNumber('warm', values.warm, Math.max(periodS, 300));
  if (warmS < periodS)
    throw new UsageError(
      `--warm ${warmS} is before the ramp ends (--period ${periodS}): not every session is live yet`,
    );
  if (minutes * 60 < warmS + 90)
    throw new UsageError(
      `--minutes ${minutes} is too short: the steady window starts at ${warmS} s and the seed alerts need 90 s after it (at least ${Math.ceil((warmS + 90) / 6) / 10} min)`,
    );
  return {
    sessions,
    minutes,
    periodS,
    agents,
    intervalS,
    warmS,
    push: values.push === true,
    rulesDir: values.rules,
  };
}

// ---- process figures from /proc ----------------------------------------------------------------

export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU seconds (user + system) and resident memory (bytes) of a pid, or undefined once it is gone. */
export function procFigures(pid: number): { cpuS: number; rss: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuS = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    const rss = 1024 * Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    return { cpuS, rss };
  } catch {
    return undefined;
  }
}

export const MiB = (bytes: number): number => Math.round(bytes / 2 ** 20);
export const fmt = (n: number): string => n.toLocaleString('en-US');
export const median = (xs: number[]): number =>
  xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : NaN;
export const max = (xs: number[]): number => (xs.length ? Math.max(...xs) : NaN);
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- Prometheus reads ---------------------------------------------------------------------------

interface RuleGroup {
  name: string;
  evaluationTime: number;
  lastEvaluation: string;
  rules: Array<{ name: string; evaluationTime: number }>;
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(20_000) });
  if (!response.ok) throw new Error(`GET ${url} → ${response.status}`);
  return ((await response.json()) as { data: T }).data;
}

/** Prometheus' own metrics from its /metrics page (it does not scrape itself in this stack). */
async function promSelf(url: string): Promise<PromSelf> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(20_000) })).text();
  // Every group of every rule file: their missed iterations add up; the last duration is per group.
  const perGroup = (name: string): Record<string, number> =>
    Object.fromEntries(
      [...text.matchAll(new RegExp(`^${name}\\{[^}]*rule_group="[^";]*;([^"]+)"[^}]*\\} (\\S+)$`, 'gm'))].map(
        (m) => [m[1]!, Number(m[2])],
      ),
    );
  return {
    headSeries: Number(/^prometheus_tsdb_head_series (\S+)$/m.exec(text)?.[1] ?? NaN),
    missed: Object.values(perGroup('prometheus_rule_group_iterations_missed_total')).reduce(
      (a, b) => a + b,
      0,
    ),
    lastDurationS: perGroup('prometheus_rule_group_last_duration_seconds'),
    // Pushed samples refused for arriving behind their series' newest (the push path).
    outOfOrder: [
      ...text.matchAll(/^prometheus_tsdb_out_of_order_samples_total(?:\{[^}]*\})? (\S+)$/gm),
    ].reduce((n, m) => n + Number(m[1]), 0),
  };
}

interface PromSelf {
  headSeries: number;
  /** Missed iterations, summed over every rule group. */
  missed: number;
  /** prometheus_rule_group_last_duration_seconds by group. */
  lastDurationS: Record<string, number>;
  outOfOrder: number;
}

interface Target {
  labels: Record<string, string>;
  health: string;
  lastError: string;
  lastScrapeDuration: number;
}

async function scalar(url: string, expr: string): Promise<number> {
  const result = await promQuery(url, expr);
  return result.length ? Number(result[0]!.value[1]) : 0;
}

// ---- the run ------------------------------------------------------------------------------------

interface Sample {
  t: number;
  procs: Record<string, { cpuS: number; rss: number } | undefined>;
  groups: RuleGroup[];
  self?: PromSelf;
  scrape?: Target;
  load: number;
}

export interface SeedEvent {
  kind: 'no-caller' | 'bulk';
  session: string;
  startedAt: number;
  endedAt: number;
  error?: string;
}

export interface Agent {
  child: ChildProcess;
  calls: number;
  failures: number;
  maxLagMs: number;
  exited: boolean;
}

/** The collector's limit settings (collector/config.yaml), passed through from the environment. */
const LIMIT_SETTINGS = [
  'MCP_AUDIT_MEMORY_LIMIT_MIB',
  'MCP_AUDIT_MEMORY_SPIKE_MIB',
  'MCP_AUDIT_METRICS_MAX_STREAMS',
];

export const SEEDS: Array<{ kind: SeedEvent['kind']; alert: string }> = [
  { kind: 'no-caller', alert: 'McpSensitiveToolWithoutCaller' },
  { kind: 'bulk', alert: 'McpBulkExtraction' },
];

export function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

export async function startSink(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [`${ROOT}bin/mcp-audit.cjs`, 'sink', '--listen', '127.0.0.1:0', '--file', join(dir, 'evidence.jsonl')],
    { cwd: ROOT, stdio: ['ignore', 'pipe', openSync(join(dir, 'sink.log'), 'a')] },
  );
  trackChild(child);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/[^/\s]+)\/v1\/traces/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) =>
      reject(new Error(`mcp-audit sink exited with ${code} before listening: ${out}`)),
    );
  });
  return { child, url };
}

export function startAgent(
  index: number,
  first: number,
  count: number,
  opts: Pick<Options, 'periodS'>,
  stack: Pick<Stack, 'otlpHttpEndpoint'>,
  dir: string,
  run: string,
  onSeed: (e: SeedEvent) => void,
): Agent {
  const child = spawn(process.execPath, ['--import', REGISTER_ESM, `${FIXTURES}soak-agent.mjs`], {
    cwd: ROOT,
    env: {
      ...process.env,
      OTEL_EXPORTER_OTLP_ENDPOINT: stack.otlpHttpEndpoint,
      OTEL_SERVICE_NAME: 'soak-agent',
      MCP_AUDIT_FILE: 'off',
      FIRST: String(first),
      COUNT: String(count),
      PERIOD_MS: String(opts.periodS * 1000),
      RUN: run,
    },
    stdio: ['pipe', 'pipe', openSync(join(dir, `agent-${index}.log`), 'a')],
  });
  trackChild(child);
  const agent: Agent = { child, calls: 0, failures: 0, maxLagMs: 0, exited: false };
  let buffer = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffer += d;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const event = JSON.parse(line) as { event: string } & Record<string, unknown>;
      if (event.event === 'stats') {
        agent.calls = event.calls as number;
        agent.failures = event.failures as number;
        agent.maxLagMs = Math.max(agent.maxLagMs, event.maxLagMs as number);
      } else if (event.event === 'seed') onSeed(event as unknown as SeedEvent);
    }
  });
  child.once('exit', () => (agent.exited = true));
  return agent;
}

export async function stopAgent(agent: Agent): Promise<void> {
  if (agent.exited) return;
  const exited = new Promise<void>((r) => agent.child.once('exit', () => r()));
  agent.child.stdin!.end();
  const timer = setTimeout(() => agent.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

export async function soakSessions(argv: string[]): Promise<number> {
  let opts: Options;
  try {
    opts = parseOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`soak: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  const t0 = Date.now();
  const elapsed = (): string => {
    const s = Math.round((Date.now() - t0) / 1000);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  };
  const say = (line: string): void => void process.stdout.write(`[soak ${elapsed()}] ${line}\n`);

  const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-soak-'));
  let stack: Stack | undefined;
  const pids: Record<string, number> = {};
  // Whatever way this process ends (SIGINT included: the reaper then SIGKILLs every tracked pid and
  // exits), the temporary directories go. Kill by pid first so nothing writes into them again.
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
  const rulesCommit = git(['log', '-1', '--format=%h %cI', '--', 'collector/rules/mcp-audit-alerts.yml']);
  const rulesDirty = git([
    'status',
    '--porcelain',
    '--',
    'collector/rules/mcp-audit-alerts.yml',
    'collector/config.yaml',
    'collector/push.yaml',
  ]);
  say(
    `${fmt(opts.sessions)} sessions, ${opts.agents} agent process(es), a call per session every ${opts.periodS} s, ` +
      `${opts.minutes} min; ${opts.push ? 'metrics pushed (collector/push.yaml), evaluation' : 'scrape and evaluation'} every ${opts.intervalS} s; steady window from ${opts.warmS} s`,
  );
  say(
    `HEAD ${commit}; rules file last changed in ${rulesCommit}${rulesDirty ? `; uncommitted: ${rulesDirty.replace(/\n/g, ', ')}` : ''}`,
  );
  const limits = Object.fromEntries(
    LIMIT_SETTINGS.map((name) => [name, process.env[name] ?? 'default (collector/config.yaml)']),
  );
  say(
    `collector limits: ${Object.entries(limits)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
  );

  const agents: Agent[] = [];
  const seeds = new Map<string, SeedEvent>();
  try {
    const sink = await startSink(dir);
    pids.sink = sink.child.pid!;
    stack = await startStack({
      withPrometheus: true,
      scrapeInterval: `${opts.intervalS}s`,
      evalInterval: `${opts.intervalS}s`,
      sinkEndpoint: sink.url,
      readyTimeoutMs: 120_000,
      metricsPath: opts.push ? 'push' : 'scrape',
      ...(opts.rulesDir ? { rulesDir: opts.rulesDir } : {}),
    });
    Object.assign(pids, stack.pids);
    const prom = stack.prometheusUrl!;
    say(
      `stack up: ${Object.entries(pids)
        .map(([n, p]) => `${n} ${p}`)
        .join(', ')}`,
    );

    const run = `soak${t0.toString(36)}`;
    const share = Math.ceil(opts.sessions / opts.agents);
    for (let i = 0, first = 0; first < opts.sessions; i++, first += share) {
      const agent = startAgent(i, first, Math.min(share, opts.sessions - first), opts, stack, dir, run, (e) =>
        seeds.set(e.kind, e),
      );
      agents.push(agent);
      pids[`agent-${i}`] = agent.child.pid!;
    }
    say(`${agents.length} agent(s) started, session ids ${run}-0 … ${run}-${opts.sessions - 1}`);

    const samples: Sample[] = [];
    const sample = async (): Promise<Sample> => {
      const procs: Sample['procs'] = {};
      for (const [name, pid] of Object.entries(pids)) procs[name] = procFigures(pid);
      const s: Sample = { t: Date.now(), procs, groups: [], load: loadavg()[0]! };
      const [groups, self, targets] = await Promise.allSettled([
        getJson<{ groups: RuleGroup[] }>(`${prom}/api/v1/rules`),
        promSelf(prom),
        getJson<{ activeTargets: Target[] }>(`${prom}/api/v1/targets?state=active`),
      ]);
      if (groups.status === 'fulfilled') s.groups = groups.value.groups;
      if (self.status === 'fulfilled') s.self = self.value;
      if (targets.status === 'fulfilled')
        s.scrape = targets.value.activeTargets.find((t) => t.labels.job === 'otelcol-mcp');
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

    const loadStart = Date.now();
    const endAt = loadStart + opts.minutes * 60_000;
    const warmAt = loadStart + opts.warmS * 1000;
    let lastMinute = await sample();
    let nextMinute = Date.now() + 60_000;
    let seeding:
      | Promise<
          Array<{ kind: string; alert: string; latencyS?: number; activeAfterS?: number; error?: string }>
        >
      | undefined;

    while (Date.now() < endAt) {
      await sleep(5000);
      const dead = agents.find((a) => a.exited);
      if (dead)
        throw new Error(
          `agent ${dead.child.pid} exited (${dead.child.exitCode ?? dead.child.signalCode}); its log: ${dir}`,
        );
      const s = await sample();
      if (!seeding && Date.now() >= warmAt) {
        say(`steady window starts; seed calls: ${SEEDS.map((x) => `${x.kind} → ${x.alert}`).join(', ')}`);
        seeding = injectSeeds(agents[0]!, run, prom, seeds, say);
      }
      if (Date.now() >= nextMinute) {
        const calls = agents.reduce((n, a) => n + a.calls, 0);
        say(
          [
            `calls ${fmt(calls)}`,
            `head series ${fmt(s.self?.headSeries ?? NaN)}`,
            `rule groups ${s.groups.map((g) => `${g.name} ${g.evaluationTime.toFixed(3)} s`).join(', ') || '?'} (missed ${s.self?.missed ?? '?'})`,
            opts.push
              ? `pushed (out-of-order samples ${s.self?.outOfOrder ?? '?'})`
              : `scrape ${s.scrape?.lastScrapeDuration.toFixed(2) ?? '?'} s${s.scrape?.lastError ? ` (${s.scrape.lastError})` : ''}`,
            `Prometheus ${MiB(sumProcs(s, 'prometheus').rss)} MiB ${cpuPct(lastMinute, s, 'prometheus')} %`,
            `collector ${MiB(sumProcs(s, 'collector').rss)} MiB ${cpuPct(lastMinute, s, 'collector')} %`,
            `agents ${MiB(sumProcs(s, 'agent').rss)} MiB ${cpuPct(lastMinute, s, 'agent')} % (lag ≤ ${max(agents.map((a) => a.maxLagMs))} ms)`,
            `load ${s.load.toFixed(1)}`,
          ].join(' · '),
        );
        for (const a of agents) a.maxLagMs = 0;
        lastMinute = s;
        nextMinute += 60_000;
      }
    }
    const alerts = seeding ? await seeding : [];

    // Figures over the steady window.
    const steady = samples.filter((s) => s.t >= warmAt);
    const first = steady[0] ?? samples[0]!;
    const last = samples[samples.length - 1]!;
    // One entry per evaluation (a group sampled twice between two evaluations counts once).
    const evaluations = new Map<string, RuleGroup>();
    for (const s of steady) for (const g of s.groups) evaluations.set(`${g.name} ${g.lastEvaluation}`, g);
    const groupNames = [...new Set([...evaluations.values()].map((g) => g.name))];
    const ruleGroups = Object.fromEntries(
      groupNames.map((name) => {
        const xs = [...evaluations.values()].filter((g) => g.name === name).map((g) => g.evaluationTime);
        return [name, { medianS: median(xs), maxS: max(xs), evaluationsSampled: xs.length }];
      }),
    );
    const ruleCost = new Map<string, number[]>();
    for (const g of evaluations.values())
      for (const r of g.rules) {
        const key = `${g.name}/${r.name}`;
        ruleCost.set(key, [...(ruleCost.get(key) ?? []), r.evaluationTime]);
      }
    const slowestGroup = Math.max(...Object.values(ruleGroups).map((g) => g.medianS));
    const scrapes = steady.flatMap((s) => (s.scrape ? [s.scrape] : []));
    // One GET of the collector's exposition, as Prometheus scrapes it: its size and time (no page
    // on the push path).
    const exposition = await (async () => {
      if (opts.push) return { pushed: true };
      const started = Date.now();
      try {
        const body = await (
          await fetch(stack.collectorMetricsUrl, { signal: AbortSignal.timeout(120_000) })
        ).text();
        return {
          mb: Math.round(Buffer.byteLength(body) / 1e5) / 10,
          lines: body.split('\n').length,
          s: (Date.now() - started) / 1000,
        };
      } catch (error) {
        return { error: String(error), s: (Date.now() - started) / 1000 };
      }
    })();
    const sessionsSeen = await scalar(
      prom,
      `count(count by (session_id) (mcp_audit_tool_calls_total{session_id=~"${run}-[0-9]+"}))`,
    );
    // The pipeline's own counters (names as src/detection/pipeline-metrics.ts reads them): spans
    // the collector took, refused (its memory limiter among the reasons), and the SDK's losses.
    const pipeline = Object.fromEntries(
      await Promise.all(
        Object.entries({
          acceptedSpans: 'otelcol_receiver_accepted_spans',
          refusedSpans: 'otelcol_receiver_refused_spans',
          memoryLimiterRefusedSpans: 'otelcol_processor_memory_limiter_refused_spans',
          sdkDroppedSpans: 'mcp_audit_dropped_spans_total',
          // The push path: metric points the remote-write exporter sent and failed to send.
          sentMetricPoints: 'otelcol_exporter_sent_metric_points',
          failedMetricPoints: 'otelcol_exporter_send_failed_metric_points',
        }).map(async ([key, name]) => [
          key,
          await scalar(prom, `sum(max_over_time(${name}[1h])) or vector(0)`),
        ]),
      ),
    );
    // The cardinality cap of delta_to_cumulative (max_streams) and its other outcomes, as the
    // collector counts them in its own telemetry.
    const streams = (await promQuery(prom, '{__name__=~"otelcol_deltatocumulative.*"}').catch(() => [])).map(
      (x) =>
        `${x.metric.__name__}{${Object.entries(x.metric)
          .filter(
            ([k]) =>
              ![
                '__name__',
                'instance',
                'job',
                'service_instance_id',
                'service_name',
                'service_version',
              ].includes(k),
          )
          .map(([k, v]) => `${k}=${v}`)
          .join(',')}} ${x.value[1]}`,
    );
    const collectorLog = readFileSync(stack.logs.collector!, 'utf8');
    const limitLines = collectorLog
      .split('\n')
      .filter((l) => /max_streams|limit|memory|refus/i.test(l) && /warn|error/i.test(l));
    const calls = agents.reduce((n, a) => n + a.calls, 0);
    const figures = {
      sessions: opts.sessions,
      agents: opts.agents,
      periodS: opts.periodS,
      minutes: opts.minutes,
      intervalS: opts.intervalS,
      metricsPath: opts.push ? 'push' : 'scrape',
      rulesDir: opts.rulesDir ?? 'collector/rules',
      collectorLimits: limits,
      commit,
      rulesCommit,
      steadyWindowS: Math.round((last.t - first.t) / 1000),
      calls,
      callFailures: agents.reduce((n, a) => n + a.failures, 0),
      sessionsInPrometheus: sessionsSeen,
      headSeries: last.self?.headSeries,
      ruleGroups,
      costliestRules: [...ruleCost.entries()]
        .map(([name, xs]) => ({ name, medianS: median(xs) }))
        .sort((a, b) => b.medianS - a.medianS)
        .slice(0, 6),
      missedIterations: {
        total: last.self?.missed,
        inSteadyWindow: (last.self?.missed ?? 0) - (first.self?.missed ?? 0),
      },
      lastGroupDurationS: last.self?.lastDurationS,
      outOfOrderSamples: last.self?.outOfOrder,
      scrapeS: {
        median: median(scrapes.map((x) => x.lastScrapeDuration)),
        max: max(scrapes.map((x) => x.lastScrapeDuration)),
      },
      collectorExpositionAtEnd: exposition,
      scrapeErrors: [...new Set(scrapes.map((x) => x.lastError).filter(Boolean))],
      memoryMiB: Object.fromEntries(
        ['prometheus', 'collector', 'jaeger', 'sink', 'agent'].map((p) => [
          p,
          { peak: max(steady.map((s) => MiB(sumProcs(s, p).rss))), end: MiB(sumProcs(last, p).rss) },
        ]),
      ),
      cpuPercentOfOneCore: Object.fromEntries(
        ['prometheus', 'collector', 'jaeger', 'sink', 'agent'].map((p) => [p, cpuPct(first, last, p)]),
      ),
      spansProduced: 2 * (calls + SEEDS.length),
      pipeline,
      deltaToCumulative: streams.slice(0, 12),
      collectorLimitLogLines: limitLines.length,
      collectorLimitLogSample: limitLines.slice(0, 2).map((l) => l.slice(0, 300)),
      alerts,
      loadAverage1m: {
        start: samples[0]!.load,
        min: Math.min(...samples.map((s) => s.load)),
        max: max(samples.map((s) => s.load)),
        end: last.load,
      },
    };
    process.stdout.write(JSON.stringify(figures, null, 2) + '\n');
    const targetLine = [
      `slowest rule group median ${slowestGroup.toFixed(3)} s (target < 1 s)`,
      `Prometheus peak ${figures.memoryMiB.prometheus!.peak} MiB (target < 1024)`,
      `missed in window ${figures.missedIterations.inSteadyWindow} (target 0)`,
      ...alerts.map(
        (a) =>
          `${a.alert} ${a.latencyS === undefined ? 'did not fire' : `${a.latencyS.toFixed(1)} s`} (target ≤ 30 s)`,
      ),
      `sessions in Prometheus ${fmt(sessionsSeen)} of ${fmt(opts.sessions)}`,
    ];
    say(targetLine.join(' · '));
    const broken = alerts.some((a) => a.error);
    return broken ? 1 : 0;
  } finally {
    say('stopping');
    await Promise.all(agents.map(stopAgent));
    await stack?.stop();
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

/** Makes each seed call through agent 0 and polls /api/v1/alerts every second until its alert fires. */
async function injectSeeds(
  agent: Agent,
  run: string,
  prom: string,
  seeds: Map<string, SeedEvent>,
  say: (line: string) => void,
): Promise<
  Array<{
    kind: string;
    alert: string;
    session: string;
    latencyS?: number;
    activeAfterS?: number;
    error?: string;
  }>
> {
  for (const { kind } of SEEDS)
    agent.child.stdin!.write(JSON.stringify({ kind, session: `${run}-seed-${kind}` }) + '\n');
  const deadline = Date.now() + 150_000;
  const results = new Map<string, { latencyS?: number; activeAfterS?: number }>();
  while (results.size < SEEDS.length && Date.now() < deadline) {
    await sleep(1000);
    let alerts: Array<{ labels: Record<string, string>; state: string; activeAt: string }>;
    try {
      alerts = (await getJson<{ alerts: typeof alerts }>(`${prom}/api/v1/alerts`)).alerts;
    } catch {
      continue;
    }
    for (const { kind, alert } of SEEDS) {
      const call = seeds.get(kind);
      if (!call || results.has(kind)) continue;
      const firing = alerts.find(
        (a) => a.labels.alertname === alert && a.labels.session_id === call.session && a.state === 'firing',
      );
      if (firing) {
        const latencyS = (Date.now() - call.startedAt) / 1000;
        const activeAfterS = (Date.parse(firing.activeAt) - call.startedAt) / 1000;
        results.set(kind, { latencyS, activeAfterS });
        say(
          `${alert} firing for ${call.session} ${latencyS.toFixed(1)} s after the call (active in Prometheus after ${activeAfterS.toFixed(1)} s)`,
        );
      }
    }
  }
  return SEEDS.map(({ kind, alert }) => {
    const call = seeds.get(kind);
    const result = results.get(kind);
    if (!result) say(`${alert} did not fire within 150 s of the ${kind} call`);
    return {
      kind,
      alert,
      session: `${run}-seed-${kind}`,
      ...result,
      ...(call?.error ? { error: call.error } : !call ? { error: 'the seed call never returned' } : {}),
    };
  });
}
