// The scale-out store for end-to-end tests: VictoriaMetrics v1.151.0 built by scripts/build.sh,
// on free loopback ports, with its data in a temporary directory.
//
//   storage nodes   victoria-metrics ×N, each its own data directory
//   ingest          vmagent: every series to every node (replication), a disk queue per node
//                   that a node gets its backlog from once it is back
//   query           vmauth: one address for all nodes, the first live one answers
//   rules           vmalert: the generated rule file against the query address, alert state
//                   (ALERTS, ALERTS_FOR_STATE) written back through the ingest tier
//
//   const store = await startVictoriaMetrics({ rulesFile, nodes: 2 });
//   after(() => store.stop());
//
// stop() ends exactly the processes this module spawned, by pid; the reaper (./reaper.ts) kills
// them too if the test process ends otherwise.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trackChild } from './reaper.js';
import { freePorts, REPO_ROOT, waitFor, type PromSample } from './stack.js';

export interface VictoriaMetricsStore {
  /** Prometheus remote-write URL of the ingest tier (vmagent). */
  remoteWriteUrl: string;
  /** Prometheus-compatible query base URL over every node (vmauth): `${queryUrl}/api/v1/query`. */
  queryUrl: string;
  /** Query base URL of each storage node by itself. */
  nodeUrls: string[];
  /** vmalert's base URL (`/api/v1/alerts`, `/api/v1/rules`). */
  vmalertUrl: string;
  /** Pids by component name (`node-1`, `node-2`, `vmagent`, `vmauth`, `vmalert`). */
  pids: Record<string, number>;
  /** Log file of each component. */
  logs: Record<string, string>;
  /** Stops storage node `index` (0-based) by pid with `signal`; resolves once it has exited. */
  stopNode(index: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts storage node `index` again on the same port and data directory; resolves once it answers. */
  startNode(index: number): Promise<void>;
  /** Stops everything (vmalert first, storage nodes last) and removes the data. Idempotent. */
  stop(): Promise<void>;
}

let binDir: Promise<string> | undefined;

/** The directory of the cached VictoriaMetrics binaries (scripts/build.sh; instant when cached). */
export function locateVictoriaMetrics(): Promise<string> {
  binDir ??= new Promise<string>((resolveDir, reject) => {
    execFile(
      'bash',
      [join(REPO_ROOT, 'scripts', 'build.sh'), '--no-prometheus'],
      { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 30 * 60 * 1000 },
      (error, stdout, stderr) => {
        const dir = /^victoriametrics=(.+)$/m.exec(stdout)?.[1]?.trim();
        if (error || !dir)
          reject(new Error(`scripts/build.sh gave no VictoriaMetrics: ${error?.message ?? ''}\n${stderr}`));
        else resolveDir(dir);
      },
    );
  });
  return binDir;
}

interface Spec {
  command: string;
  args: string[];
  readyUrl: string;
}

function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 10_000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  process.kill(child.pid!, signal);
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

export async function startVictoriaMetrics({
  rulesFile,
  nodes = 2,
  evaluationInterval = '1s',
}: {
  rulesFile: string;
  nodes?: number;
  evaluationInterval?: string;
}): Promise<VictoriaMetricsStore> {
  const bin = await locateVictoriaMetrics();
  const host = '127.0.0.1';
  const ports = await freePorts(nodes + 3);
  const nodePorts = ports.slice(0, nodes);
  const [agentPort, authPort, alertPort] = ports.slice(nodes) as [number, number, number];
  const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-vm-'));
  const nodeUrls = nodePorts.map((p) => `http://${host}:${p}`);
  const remoteWriteUrl = `http://${host}:${agentPort}/api/v1/write`;
  const queryUrl = `http://${host}:${authPort}`;
  const vmalertUrl = `http://${host}:${alertPort}`;
  const children: Record<string, ChildProcess> = {};
  const specs: Record<string, Spec> = {};
  const logs: Record<string, string> = {};
  const pids: Record<string, number> = {};

  const launch = async (name: string): Promise<void> => {
    const spec = specs[name]!;
    logs[name] ??= join(dir, `${name}.log`);
    const fd = openSync(logs[name]!, 'a');
    let child: ChildProcess;
    try {
      child = spawn(spec.command, spec.args, { stdio: ['ignore', fd, fd], cwd: REPO_ROOT });
    } finally {
      closeSync(fd);
    }
    trackChild(child);
    if (child.pid === undefined) throw new Error(`could not start ${name}`);
    children[name] = child;
    pids[name] = child.pid;
    let exitCode: string | undefined;
    child.once('exit', (code, signal) => (exitCode = String(code ?? signal)));
    await waitFor(
      async () => {
        if (exitCode !== undefined) throw new Error(`${name} exited (${exitCode})\n${tail(logs[name]!)}`);
        return (await fetch(spec.readyUrl, { signal: AbortSignal.timeout(2000) })).ok;
      },
      { timeoutMs: 60_000, intervalMs: 200, message: `${name} not ready at ${spec.readyUrl}` },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n--- ${name} log ---\n${tail(logs[name]!)}`);
    });
  };

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const name of ['vmalert', 'vmauth', 'vmagent', ...nodePorts.map((_, i) => `node-${i + 1}`)]) {
      const child = children[name];
      if (child) await stopChild(child);
    }
    if (!process.env.MCP_AUDIT_KEEP_STACK_DIR) rmSync(dir, { recursive: true, force: true });
  };

  try {
    nodePorts.forEach((port, i) => {
      specs[`node-${i + 1}`] = {
        command: join(bin, 'victoria-metrics'),
        args: [
          `-httpListenAddr=${host}:${port}`,
          `-storageDataPath=${join(dir, `node-${i + 1}`)}`,
          // Series get a sample when they change, not every scrape: look back as long as they
          // live (the collector's metric_expiration), or an idle session drops out of queries.
          '-search.minStalenessInterval=60m',
          // Rules and tests read what was just written, not 30 s ago.
          '-search.latencyOffset=1s',
          // Counts before and after a node restart come from the data, never a cached answer.
          '-search.disableCache',
          '-loggerLevel=WARN',
        ],
        readyUrl: `http://${host}:${port}/health`,
      };
    });
    await Promise.all(nodePorts.map((_, i) => launch(`node-${i + 1}`)));

    mkdirSync(join(dir, 'vmagent-queue'));
    specs.vmagent = {
      command: join(bin, 'vmagent'),
      args: [
        `-httpListenAddr=${host}:${agentPort}`,
        // Several -remoteWrite.url: every series goes to each, each with its own disk queue.
        ...nodeUrls.map((u) => `-remoteWrite.url=${u}/api/v1/write`),
        `-remoteWrite.tmpDataPath=${join(dir, 'vmagent-queue')}`,
        '-remoteWrite.flushInterval=200ms',
        '-remoteWrite.retryMinInterval=200ms',
        '-remoteWrite.retryMaxInterval=1s',
        '-loggerLevel=WARN',
      ],
      readyUrl: `http://${host}:${agentPort}/health`,
    };
    const authConfig = join(dir, 'vmauth.yml');
    writeFileSync(
      authConfig,
      [
        'unauthorized_user:',
        '  url_prefix:',
        ...nodeUrls.map((u) => `    - ${u}/`),
        // Every query to the first node while it answers; the next one while it does not.
        '  load_balancing_policy: first_available',
        '',
      ].join('\n'),
    );
    specs.vmauth = {
      command: join(bin, 'vmauth'),
      args: [`-httpListenAddr=${host}:${authPort}`, `-auth.config=${authConfig}`, '-loggerLevel=WARN'],
      readyUrl: `http://${host}:${authPort}/health`,
    };
    await Promise.all([launch('vmagent'), launch('vmauth')]);

    specs.vmalert = {
      command: join(bin, 'vmalert'),
      args: [
        `-httpListenAddr=${host}:${alertPort}`,
        `-rule=${rulesFile}`,
        `-datasource.url=${queryUrl}`,
        `-remoteWrite.url=${remoteWriteUrl.replace(/\/api\/v1\/write$/, '')}`,
        `-evaluationInterval=${evaluationInterval}`,
        // The store holds what was written a moment ago: evaluate at now, not 30 s back.
        '-rule.evalDelay=0s',
        // No Alertmanager here: the test reads vmalert's own /api/v1/alerts.
        '-notifier.blackhole',
        '-loggerLevel=WARN',
      ],
      readyUrl: `${vmalertUrl}/health`,
    };
    await launch('vmalert');
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    remoteWriteUrl,
    queryUrl,
    nodeUrls,
    vmalertUrl,
    pids,
    logs,
    async stopNode(index, signal = 'SIGTERM') {
      const child = children[`node-${index + 1}`];
      if (!child) throw new Error(`no storage node ${index}`);
      await stopChild(child, signal);
    },
    startNode: (index) => launch(`node-${index + 1}`),
    stop,
  };
}

/**
 * Instant query at `baseUrl` (a node or vmauth), at now or at `timeSeconds` (unix; a later time
 * shows what an idle series looks like then); throws unless the status is success.
 */
export async function vmQuery(baseUrl: string, expr: string, timeSeconds?: number): Promise<PromSample[]> {
  const url = new URL('/api/v1/query', baseUrl);
  url.searchParams.set('query', expr);
  url.searchParams.set('nocache', '1');
  if (timeSeconds !== undefined) url.searchParams.set('time', String(timeSeconds));
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  let body: { status?: string; error?: string; data?: { result: PromSample[] } };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`query ${expr}: ${response.status} ${text.slice(0, 200)}`);
  }
  if (body.status !== 'success' || !body.data)
    throw new Error(`query ${expr}: ${body.error ?? response.status}`);
  return body.data.result;
}

/** An alert as vmalert's /api/v1/alerts reports it. */
export interface VmAlert {
  name: string;
  state: 'pending' | 'firing' | 'inactive';
  labels: Record<string, string>;
  value: string;
}

export async function vmalertAlerts(vmalertUrl: string): Promise<VmAlert[]> {
  const response = await fetch(new URL('/api/v1/alerts', vmalertUrl), {
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { status: string; data?: { alerts: VmAlert[] } };
  if (body.status !== 'success' || !body.data) throw new Error(`/api/v1/alerts: ${JSON.stringify(body)}`);
  return body.data.alerts;
}
