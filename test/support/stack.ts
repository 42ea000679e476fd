// The real backend stack for end-to-end tests: otelcol-mcp, Jaeger v2 and (optionally)
// Prometheus, started from the binaries that scripts/build.sh caches, on free loopback
// ports, with per-test temporary configs and data. No Docker, no mocks.
//
//   const stack = await startStack({ withPrometheus: true });
//   after(() => stack.stop());
//   // send OTLP/HTTP to stack.otlpHttpEndpoint, then read Jaeger, the audit file, Prometheus
//
// stop() ends exactly the processes this module spawned (SIGTERM, then SIGKILL) and
// removes the temporary directory. The reaper (./reaper.ts) kills any that a crashed or
// interrupted test left behind, on exit and on SIGINT/SIGTERM/SIGHUP.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { trackChild } from './reaper.js';
import { parseAuditText } from '../../src/evidence/collector-audit-file.js';

/** Repository root (this file is test/support/stack.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface StackOptions {
  /** Start Prometheus (scraping the collector, loading rules). @default true */
  withPrometheus?: boolean;
  /** Directory whose `*.yml` files Prometheus loads as rule files. @default `collector/rules` */
  rulesDir?: string;
  /** Prometheus rule evaluation interval. @default '1s' */
  evalInterval?: string;
  /** Prometheus scrape interval for the collector. @default '1s' */
  scrapeInterval?: string;
  /** Endpoint of the `mcp-audit sink` evidence log (MCP_AUDIT_SINK_ENDPOINT), e.g. `http://127.0.0.1:4320`.
   * @default a free loopback port where nothing listens (the collector retries in the background). */
  sinkEndpoint?: string;
  /** Extra collector config files merged after `collector/config.yaml` (e.g. `collector/siem.yaml`). @default [] */
  extraCollectorConfigs?: string[];
  /** Extra environment for the collector (overrides the generated one). @default {} */
  collectorEnv?: Record<string, string>;
  /** How long to wait for each component's readiness. @default 60000 */
  readyTimeoutMs?: number;
  /**
   * `single`: one collector (collector/config.yaml). `gateways`: the scale-out topology — an
   * agent (collector/gateway.yaml) that load-balances by trace ID to two gateways (each
   * collector/config.yaml), so that one session's spans always reach the same gateway's
   * metrics; Prometheus scrapes both gateways.
   * @default 'single'
   */
  topology?: 'single' | 'gateways';
  /**
   * How the session metrics reach Prometheus. `scrape`: Prometheus scrapes the collector's
   * exporter page. `push`: the collector remote-writes them (collector/push.yaml) to Prometheus
   * started with its remote-write receiver and a 60m lookback, and the page is not scraped.
   * Only with `single`. @default 'scrape'
   */
  metricsPath?: 'scrape' | 'push';
}

export interface Stack {
  /** Base URL of the collector's OTLP/HTTP receiver; POST to `${otlpHttpEndpoint}/v1/traces`. */
  otlpHttpEndpoint: string;
  /** host:port of the collector's OTLP/gRPC receiver. */
  otlpGrpcEndpoint: string;
  /** Base URL of Jaeger's query API (`/api/services`, `/api/traces`). */
  jaegerUrl: string;
  /** Base URL of Prometheus; undefined when started without it. */
  prometheusUrl: string | undefined;
  /** The collector's append-only audit file (OTLP/JSON, one TracesData per line); the first gateway's in `gateways`. */
  auditFilePath: string;
  /** Every audit file (one per gateway in `gateways`). */
  auditFilePaths: string[];
  /** The collector's Prometheus exporter page (session metrics), `.../metrics`; the first gateway's in `gateways`. */
  collectorMetricsUrl: string;
  /** Every session-metrics page (one per gateway in `gateways`). */
  collectorMetricsUrls: string[];
  /** Health check URL of the collector that receives OTLP (the agent in `gateways`). */
  collectorHealthUrl: string;
  /** The evidence-log sink endpoint the collector exports to. */
  sinkEndpoint: string;
  /** Temporary directory holding configs, data and logs (removed by stop()). */
  dir: string;
  /** Log files of each spawned process. */
  logs: Record<string, string>;
  /** Pids of the spawned processes, by name. */
  pids: Record<string, number>;
  /** Stops every spawned process (SIGTERM, SIGKILL after 5 s) and removes `dir`. Idempotent. */
  stop(): Promise<void>;
  /**
   * Stops one component (`jaeger`, `collector`, ...) — SIGTERM, or SIGKILL to simulate a crash —
   * runs `whileDown`, then starts it again with the same ports, config and data, and waits until
   * it is ready. `pids` is updated.
   */
  restart(
    name: string,
    options?: { signal?: 'SIGTERM' | 'SIGKILL'; whileDown?: () => Promise<void> },
  ): Promise<void>;
}

export interface Binaries {
  otelcol: string;
  jaeger: string;
  prometheus: string | undefined;
}

let binaries: Promise<Binaries> | undefined;

/** Paths of the cached binaries; runs scripts/build.sh (instant when cached, minutes when cold). */
export function locateBinaries(): Promise<Binaries> {
  binaries ??= new Promise<Binaries>((resolvePaths, reject) => {
    execFile(
      'bash',
      [join(REPO_ROOT, 'scripts', 'build.sh')],
      { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 30 * 60 * 1000 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`scripts/build.sh failed: ${error.message}\n${stderr}`));
          return;
        }
        const paths = new Map<string, string>();
        for (const line of stdout.split('\n')) {
          const eq = line.indexOf('=');
          if (eq > 0) paths.set(line.slice(0, eq), line.slice(eq + 1).trim());
        }
        const otelcol = paths.get('otelcol-mcp');
        const jaeger = paths.get('jaeger');
        if (!otelcol || !jaeger) {
          reject(new Error(`scripts/build.sh printed no binary paths:\n${stdout}\n${stderr}`));
          return;
        }
        resolvePaths({ otelcol, jaeger, prometheus: paths.get('prometheus') });
      },
    );
  });
  return binaries;
}

/**
 * Free TCP ports on 127.0.0.1, all distinct (held open together, then released).
 * Only for components that cannot listen on :0 and report the port they got (the collector,
 * Jaeger and Prometheus read fixed addresses from their configs). Between the release and the
 * component's bind another process may take a port: startStack() therefore retries with fresh
 * ports when a component fails to bind.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((ok, fail) => {
          const server = createServer();
          server.once('error', fail);
          server.listen(0, '127.0.0.1', () => ok(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((ok) => s.close(() => ok()))));
  return ports;
}

export interface WaitOptions {
  /** Give up after this long. @default 30000 */
  timeoutMs?: number;
  /** Pause between attempts. @default 250 */
  intervalMs?: number;
  /** Prefix of the timeout error. */
  message?: string;
  /** Stops waiting (rejects) once aborted. */
  signal?: AbortSignal;
}

/**
 * Calls `fn` until it returns a value other than undefined, null or false, and returns that value.
 * Errors thrown by `fn` count as "not yet"; the last one is reported on timeout.
 */
export async function waitFor<T>(
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  { timeoutMs = 30_000, intervalMs = 250, message = 'waitFor timed out', signal }: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (signal?.aborted) throw new Error(`${message}: aborted`);
    try {
      const value = await fn();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail =
        lastError instanceof Error ? `: ${lastError.message}` : lastError ? `: ${String(lastError)}` : '';
      throw new Error(`${message} after ${timeoutMs} ms${detail}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A span in Jaeger's /api/traces answer (the fields the tests read). */
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  tags: Array<{ key: string; type: string; value: unknown }>;
  logs: Array<{ timestamp: number; fields: Array<{ key: string; type: string; value: unknown }> }>;
  processID: string;
  [key: string]: unknown;
}
export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<
    string,
    { serviceName: string; tags: Array<{ key: string; type: string; value: unknown }> }
  >;
}

/** Traces of `service` from Jaeger's query API, optionally filtered by span tags (exact match). */
export async function jaegerTraces(
  jaegerUrl: string,
  service: string,
  tags?: Record<string, string>,
  { limit = 100, lookback = '1h' }: { limit?: number; lookback?: string } = {},
): Promise<JaegerTrace[]> {
  const url = new URL('/api/traces', jaegerUrl);
  url.searchParams.set('service', service);
  url.searchParams.set('limit', String(limit));
  url.searchParams.set('lookback', lookback);
  if (tags && Object.keys(tags).length > 0) url.searchParams.set('tags', JSON.stringify(tags));
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url} → ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as { data: JaegerTrace[] | null };
  return body.data ?? [];
}

/** One sample of a Prometheus instant query. */
export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** Instant query against Prometheus' HTTP API; throws unless the status is success. */
export async function promQuery(prometheusUrl: string, expr: string): Promise<PromSample[]> {
  const url = new URL('/api/v1/query', prometheusUrl);
  url.searchParams.set('query', expr);
  const response = await fetch(url);
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: PromSample[] };
  };
  if (body.status !== 'success' || !body.data)
    throw new Error(`query ${expr}: ${body.error ?? response.status}`);
  return body.data.result;
}

/** Label sets of every series matching `match` (Prometheus /api/v1/series). */
export async function promSeries(
  prometheusUrl: string,
  match: string,
): Promise<Array<Record<string, string>>> {
  const url = new URL('/api/v1/series', prometheusUrl);
  url.searchParams.append('match[]', match);
  const response = await fetch(url);
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data?: Array<Record<string, string>>;
  };
  if (body.status !== 'success' || !body.data)
    throw new Error(`series ${match}: ${body.error ?? response.status}`);
  return body.data;
}

/**
 * Every object of the audit file ([] while it does not exist yet), read with the tolerant reader.
 * A torn line fails the read (these tests never crash the collector); a last line the collector
 * is still writing gives the spans written whole so far (the next read sees the rest).
 */
export function readAuditFile(path: string): unknown[] {
  if (!existsSync(path)) return [];
  const records: unknown[] = [];
  const summary = parseAuditText(readFileSync(path, 'utf8'), (data) => records.push(data));
  const torn = summary.tears.filter((t) => !t.atEnd);
  if (torn.length) throw new Error(`${path}: torn line(s) ${torn.map((t) => t.line).join(', ')}`);
  return records;
}

// ---- process handling -------------------------------------------------------------------------

function spawnLogged(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  logPath: string,
): ChildProcess {
  const fd = openSync(logPath, 'a');
  try {
    const child = spawn(command, args, { env, stdio: ['ignore', fd, fd], cwd: REPO_ROOT });
    // Killed by the reaper when this test process ends in any way, stop() or not.
    trackChild(child);
    if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
    return child;
  } finally {
    closeSync(fd);
  }
}

async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

function tail(path: string, lines = 30): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

async function waitReady(
  name: string,
  url: string,
  child: ChildProcess,
  logPath: string,
  timeoutMs: number,
): Promise<void> {
  // A component that exits (a port taken, a bad config) fails the start at once, not at the deadline.
  let onExit: (() => void) | undefined;
  const exited = new Promise<never>((_, reject) => {
    onExit = () => reject(new Error(`${name} exited (${child.exitCode ?? child.signalCode})`));
    if (child.exitCode !== null || child.signalCode !== null) onExit();
    else child.once('exit', onExit);
  });
  const stopWaiting = new AbortController();
  const ready = waitFor(
    async () => {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      return response.ok;
    },
    { timeoutMs, intervalMs: 200, message: `${name} not ready at ${url}`, signal: stopWaiting.signal },
  );
  try {
    await Promise.race([ready, exited]);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- ${name} log (${logPath}) ---\n${tail(logPath)}`);
  } finally {
    child.off('exit', onExit!);
    stopWaiting.abort();
    ready.catch(() => undefined);
    exited.catch(() => undefined);
  }
}

/** The Prometheus config without the scrape job `job` (the YAML of scripts/prometheus.yml). */
function withoutScrapeJob(config: string, job: string): string {
  const doc = parseYaml(config) as { scrape_configs?: Array<{ job_name?: string }> };
  doc.scrape_configs = (doc.scrape_configs ?? []).filter((c) => c.job_name !== job);
  return stringifyYaml(doc);
}

/** A component's log line when its fixed port was taken between freePorts() and its bind. */
const BIND_FAILURE = /address already in use|bind: |listen tcp .*: bind|EADDRINUSE/i;
const START_ATTEMPTS = 3;

/**
 * Starts collector + Jaeger (+ Prometheus) on free loopback ports and waits until each is ready.
 * When a component fails because a reserved port was taken meanwhile, everything started is
 * stopped and the stack starts again on fresh ports (up to 3 attempts).
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startStackOnce(options);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (attempt >= START_ATTEMPTS || !BIND_FAILURE.test(message)) throw error;
      process.stderr.write(
        `startStack: a port was taken before its component bound it; retrying\n${message}\n`,
      );
    }
  }
}

async function startStackOnce(options: StackOptions): Promise<Stack> {
  const {
    withPrometheus = true,
    rulesDir = join(REPO_ROOT, 'collector', 'rules'),
    evalInterval = '1s',
    scrapeInterval = '1s',
    extraCollectorConfigs = [],
    collectorEnv = {},
    readyTimeoutMs = 60_000,
  } = options;
  const bins = await locateBinaries();
  if (withPrometheus && !bins.prometheus)
    throw new Error('Prometheus requested but /usr/bin/prometheus is missing');

  const topology = options.topology ?? 'single';
  const push = options.metricsPath === 'push';
  if (push && (topology !== 'single' || !withPrometheus))
    throw new Error("metricsPath 'push' needs topology 'single' and Prometheus");
  const gatewayCount = topology === 'gateways' ? 2 : 1;
  const ports = await freePorts(7 + 5 * gatewayCount + (topology === 'gateways' ? 4 : 0));
  const next = (): number => ports.shift()!;
  const [jOtlpGrpc, jOtlpHttp, jQueryHttp, jQueryGrpc, jHealth, prom, sink] = [
    next(),
    next(),
    next(),
    next(),
    next(),
    next(),
    next(),
  ];
  const host = '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-stack-'));
  const sinkEndpoint = options.sinkEndpoint ?? `http://${host}:${sink}`;
  const logs: Record<string, string> = { jaeger: join(dir, 'jaeger.log') };
  const children: Record<string, ChildProcess> = {};
  // How each restartable component was started (restart() starts it the same way).
  const specs: Record<string, { command: string; args: string[]; env: NodeJS.ProcessEnv; readyUrl: string }> =
    {};
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Collectors first (agent before gateways) so they can flush; then the rest.
    const order = [
      'agent',
      ...Object.keys(children).filter((n) => n.startsWith('collector')),
      'prometheus',
      'jaeger',
    ];
    for (const name of order) {
      const child = children[name];
      if (child) await stopChild(child);
    }
    if (!process.env.MCP_AUDIT_KEEP_STACK_DIR) rmSync(dir, { recursive: true, force: true });
  };

  try {
    const jaegerEnv: NodeJS.ProcessEnv = {
      ...process.env,
      JAEGER_OTLP_GRPC_ENDPOINT: `${host}:${jOtlpGrpc}`,
      JAEGER_OTLP_HTTP_ENDPOINT: `${host}:${jOtlpHttp}`,
      JAEGER_QUERY_HTTP_ENDPOINT: `${host}:${jQueryHttp}`,
      JAEGER_QUERY_GRPC_ENDPOINT: `${host}:${jQueryGrpc}`,
      JAEGER_HEALTH_ENDPOINT: `${host}:${jHealth}`,
      // Badger locks its directory: one per stack, kept across a Jaeger restart within the test.
      JAEGER_BADGER_DIR: join(dir, 'jaeger-data'),
    };
    const jaegerUrl = `http://${host}:${jQueryHttp}`;
    children.jaeger = spawnLogged(
      'jaeger',
      bins.jaeger,
      ['--config', join(REPO_ROOT, 'jaeger', 'config.yaml')],
      jaegerEnv,
      logs.jaeger!,
    );
    specs.jaeger = {
      command: bins.jaeger,
      args: ['--config', join(REPO_ROOT, 'jaeger', 'config.yaml')],
      env: jaegerEnv,
      readyUrl: `${jaegerUrl}/api/services`,
    };
    const ready: Array<Promise<void>> = [
      waitReady('jaeger', `${jaegerUrl}/api/services`, children.jaeger, logs.jaeger!, readyTimeoutMs),
    ];

    // The collector(s) running collector/config.yaml: one, or the two gateways.
    const configArgs = [
      join(REPO_ROOT, 'collector', 'config.yaml'),
      ...(push ? [join(REPO_ROOT, 'collector', 'push.yaml')] : []),
      ...extraCollectorConfigs,
    ].flatMap((c) => ['--config', resolve(REPO_ROOT, c)]);
    const collectors: Array<{
      grpc: string;
      http: string;
      metrics: string;
      telemetry: string;
      health: string;
      audit: string;
    }> = [];
    for (let i = 0; i < gatewayCount; i++) {
      const [grpc, http, exporter, health, telemetry] = [next(), next(), next(), next(), next()];
      const name = gatewayCount === 1 ? 'collector' : `collector-${i + 1}`;
      const audit = join(
        dir,
        'audit',
        gatewayCount === 1 ? 'collector-audit.jsonl' : `gateway-${i + 1}-audit.jsonl`,
      );
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        MCP_AUDIT_OTLP_GRPC_ENDPOINT: `${host}:${grpc}`,
        MCP_AUDIT_OTLP_HTTP_ENDPOINT: `${host}:${http}`,
        MCP_AUDIT_PROMETHEUS_ENDPOINT: `${host}:${exporter}`,
        MCP_AUDIT_HEALTH_ENDPOINT: `${host}:${health}`,
        MCP_AUDIT_COLLECTOR_TELEMETRY_PORT: String(telemetry),
        MCP_AUDIT_JAEGER_OTLP_ENDPOINT: `${host}:${jOtlpGrpc}`,
        MCP_AUDIT_SINK_ENDPOINT: sinkEndpoint,
        MCP_AUDIT_AUDIT_FILE: audit,
        MCP_AUDIT_STORAGE_DIR: join(dir, `${name}-queue`),
        // The `gateway` label of the remote-write overlay (collector/scale-out.yaml).
        MCP_AUDIT_GATEWAY_NAME: gatewayCount === 1 ? 'gateway-1' : `gateway-${i + 1}`,
        // Prometheus' remote-write receiver (collector/push.yaml).
        ...(push ? { MCP_AUDIT_REMOTE_WRITE_ENDPOINT: `http://${host}:${prom}/api/v1/write` } : {}),
        ...collectorEnv,
      };
      logs[name] = join(dir, `${name}.log`);
      children[name] = spawnLogged(name, bins.otelcol, configArgs, env, logs[name]!);
      const healthUrl = `http://${host}:${health}/`;
      specs[name] = { command: bins.otelcol, args: configArgs, env, readyUrl: healthUrl };
      ready.push(waitReady(name, healthUrl, children[name]!, logs[name]!, readyTimeoutMs));
      collectors.push({
        grpc: `${host}:${grpc}`,
        http: `http://${host}:${http}`,
        metrics: `${host}:${exporter}`,
        telemetry: `${host}:${telemetry}`,
        health: healthUrl,
        audit,
      });
    }

    // The agent in front of the gateways (collector/gateway.yaml).
    let entry = collectors[0]!;
    if (topology === 'gateways') {
      const [grpc, http, health, telemetry] = [next(), next(), next(), next()];
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        MCP_AUDIT_OTLP_GRPC_ENDPOINT: `${host}:${grpc}`,
        MCP_AUDIT_OTLP_HTTP_ENDPOINT: `${host}:${http}`,
        MCP_AUDIT_HEALTH_ENDPOINT: `${host}:${health}`,
        MCP_AUDIT_COLLECTOR_TELEMETRY_PORT: String(telemetry),
        MCP_AUDIT_GATEWAY_1: collectors[0]!.grpc,
        MCP_AUDIT_GATEWAY_2: collectors[1]!.grpc,
        ...collectorEnv,
      };
      logs.agent = join(dir, 'agent.log');
      children.agent = spawnLogged(
        'agent',
        bins.otelcol,
        ['--config', join(REPO_ROOT, 'collector', 'gateway.yaml')],
        env,
        logs.agent,
      );
      const healthUrl = `http://${host}:${health}/`;
      ready.push(waitReady('agent', healthUrl, children.agent, logs.agent, readyTimeoutMs));
      entry = { ...entry, grpc: `${host}:${grpc}`, http: `http://${host}:${http}`, health: healthUrl };
    }

    let prometheusUrl: string | undefined;
    if (withPrometheus) {
      logs.prometheus = join(dir, 'prometheus.log');
      const template = readFileSync(join(REPO_ROOT, 'scripts', 'prometheus.yml'), 'utf8');
      const config = template
        .replaceAll('@SCRAPE_INTERVAL@', scrapeInterval)
        .replaceAll('@EVAL_INTERVAL@', evalInterval)
        // one target per collector: 'a', 'b' inside the template's ['@COLLECTOR_METRICS@']
        .replaceAll('@COLLECTOR_METRICS@', collectors.map((c) => c.metrics).join("', '"))
        .replaceAll('@COLLECTOR_TELEMETRY@', collectors.map((c) => c.telemetry).join("', '"))
        .replaceAll('@RULES_GLOB@', join(resolve(rulesDir), '*.yml'));
      const configPath = join(dir, 'prometheus.yml');
      writeFileSync(configPath, push ? withoutScrapeJob(config, 'otelcol-mcp') : config);
      prometheusUrl = `http://${host}:${prom}`;
      children.prometheus = spawnLogged(
        'prometheus',
        bins.prometheus!,
        [
          `--config.file=${configPath}`,
          `--storage.tsdb.path=${join(dir, 'prometheus-data')}`,
          `--web.listen-address=${host}:${prom}`,
          '--storage.tsdb.retention.time=30d',
          '--web.enable-lifecycle',
          // The push path (collector/push.yaml): a pushed series gets a sample only when it
          // changes, so instant reads look back as far as a scraped series lives (60m).
          ...(push ? ['--web.enable-remote-write-receiver', '--query.lookback-delta=60m'] : []),
        ],
        { ...process.env },
        logs.prometheus,
      );
      ready.push(
        waitReady(
          'prometheus',
          `${prometheusUrl}/-/ready`,
          children.prometheus,
          logs.prometheus,
          readyTimeoutMs,
        ),
      );
    }

    await Promise.all(ready);

    const pids: Record<string, number> = {};
    for (const [name, child] of Object.entries(children)) pids[name] = child.pid!;
    return {
      otlpHttpEndpoint: entry.http,
      otlpGrpcEndpoint: entry.grpc,
      jaegerUrl,
      prometheusUrl,
      auditFilePath: collectors[0]!.audit,
      auditFilePaths: collectors.map((c) => c.audit),
      collectorMetricsUrl: `http://${collectors[0]!.metrics}/metrics`,
      collectorMetricsUrls: collectors.map((c) => `http://${c.metrics}/metrics`),
      collectorHealthUrl: entry.health,
      sinkEndpoint,
      dir,
      logs,
      pids,
      stop,
      async restart(name, { signal = 'SIGTERM', whileDown } = {}) {
        const spec = specs[name];
        const child = children[name];
        if (!spec || !child) throw new Error(`restart: no restartable component named ${name}`);
        if (signal === 'SIGKILL') {
          if (child.exitCode === null && child.signalCode === null) {
            const exited = new Promise<void>((r) => child.once('exit', () => r()));
            child.kill('SIGKILL');
            await exited;
          }
        } else {
          await stopChild(child);
        }
        await whileDown?.();
        const next = spawnLogged(name, spec.command, spec.args, spec.env, logs[name]!);
        children[name] = next;
        pids[name] = next.pid!;
        await waitReady(name, spec.readyUrl, next, logs[name]!, readyTimeoutMs);
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
