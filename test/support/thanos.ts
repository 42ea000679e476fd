// The sharded scale-out store for end-to-end tests: Thanos v0.41.0 built by scripts/build.sh
// (scale/thanos), on free loopback ports, with its data in a temporary directory.
//
//   receivers   `thanos receive` ×N in one hashring, replication factor 1: each series is written
//               to exactly one receiver (the hash of its labels picks it), whichever receiver the
//               remote write reached; each its own TSDB and `receive_replica` external label
//   query       `thanos query` over every receiver's Store API and the ruler's (recording-rule
//               output lives in the ruler's TSDB), deduplicating on `receive_replica`
//   rules       `thanos rule`: the generated rule file, evaluated through the querier; no
//               Alertmanager, the test reads its /api/v1/alerts
//
//   const store = await startThanos({ rulesFile, receivers: 2 });
//   after(() => store.stop());
//
// stop() ends exactly the processes this module spawned, by pid; the reaper (./reaper.ts) kills
// them too if the test process ends otherwise.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trackChild } from './reaper.js';
import { freePorts, REPO_ROOT, waitFor, type PromSample } from './stack.js';

export interface ThanosStore {
  /** Prometheus remote-write URL of the first receiver (it forwards other receivers' series). */
  remoteWriteUrl: string;
  /** The querier's base URL: `${queryUrl}/api/v1/query`. */
  queryUrl: string;
  /** The ruler's base URL (`/api/v1/alerts`, `/api/v1/rules`). */
  ruleUrl: string;
  /** The `receive_replica` label value of each receiver, by index. */
  receiverLabels: string[];
  pids: Record<string, number>;
  logs: Record<string, string>;
  /** Stops receiver `index` (0-based) by pid with `signal`; resolves once it has exited. */
  stopReceiver(index: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts receiver `index` again on the same ports and TSDB path; resolves once it is ready. */
  startReceiver(index: number): Promise<void>;
  /** Stops everything (ruler first, receivers last) and removes the data. Idempotent. */
  stop(): Promise<void>;
}

// On SIGTERM each component drains for its grace period (2 min by default) before it exits: a
// test's stop and restart need seconds, and the writes in flight are retried by the gateways.
const GRACE = ['--http-grace-period=1s', '--grpc-grace-period=1s'];

let binary: Promise<string> | undefined;

/** The cached thanos binary (scripts/build.sh; instant when cached). */
export function locateThanos(): Promise<string> {
  binary ??= new Promise<string>((resolveBin, reject) => {
    execFile(
      'bash',
      [join(REPO_ROOT, 'scripts', 'build.sh'), '--no-prometheus'],
      { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 30 * 60 * 1000 },
      (error, stdout, stderr) => {
        const path = /^thanos=(.+)$/m.exec(stdout)?.[1]?.trim();
        if (error || !path)
          reject(new Error(`scripts/build.sh gave no thanos: ${error?.message ?? ''}\n${stderr}`));
        else resolveBin(path);
      },
    );
  });
  return binary;
}

function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  process.kill(child.pid!, signal);
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
  }, 15_000);
  await exited;
  clearTimeout(timer);
}

export async function startThanos({
  rulesFile,
  receivers = 2,
  evalInterval = '1s',
}: {
  rulesFile: string;
  receivers?: number;
  evalInterval?: string;
}): Promise<ThanosStore> {
  const bin = await locateThanos();
  const host = '127.0.0.1';
  const ports = await freePorts(receivers * 4 + 4);
  const receiverPorts = Array.from({ length: receivers }, (_, i) => ({
    http: ports[i * 4]!,
    grpc: ports[i * 4 + 1]!,
    write: ports[i * 4 + 2]!,
    capnproto: ports[i * 4 + 3]!,
  }));
  const [queryHttp, queryGrpc, ruleHttp, ruleGrpc] = ports.slice(receivers * 4) as [
    number,
    number,
    number,
    number,
  ];
  const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-thanos-'));
  const receiverLabels = receiverPorts.map((_, i) => String(i + 1));
  const specs: Record<string, { args: string[]; readyUrl: string }> = {};
  const children: Record<string, ChildProcess> = {};
  const logs: Record<string, string> = {};
  const pids: Record<string, number> = {};

  const launch = async (name: string): Promise<void> => {
    const spec = specs[name]!;
    logs[name] ??= join(dir, `${name}.log`);
    const fd = openSync(logs[name]!, 'a');
    let child: ChildProcess;
    try {
      child = spawn(bin, spec.args, { stdio: ['ignore', fd, fd], cwd: dir });
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
    for (const name of ['rule', 'query', ...receiverPorts.map((_, i) => `receive-${i + 1}`)]) {
      const child = children[name];
      if (child) await stopChild(child);
    }
    if (!process.env.MCP_AUDIT_KEEP_STACK_DIR) rmSync(dir, { recursive: true, force: true });
  };

  try {
    const hashrings = join(dir, 'hashrings.json');
    writeFileSync(
      hashrings,
      JSON.stringify([{ hashring: 'default', endpoints: receiverPorts.map((p) => `${host}:${p.grpc}`) }]),
    );
    receiverPorts.forEach((p, i) => {
      specs[`receive-${i + 1}`] = {
        args: [
          'receive',
          `--http-address=${host}:${p.http}`,
          `--grpc-address=${host}:${p.grpc}`,
          `--remote-write.address=${host}:${p.write}`,
          // Listened on even with the protobuf replication protocol (the default).
          `--receive.capnproto-address=${host}:${p.capnproto}`,
          `--tsdb.path=${join(dir, `receive-${i + 1}`)}`,
          `--label=receive_replica="${receiverLabels[i]}"`,
          `--receive.hashrings-file=${hashrings}`,
          // Which hashring entry is this receiver: its series stay, the others' are forwarded.
          `--receive.local-endpoint=${host}:${p.grpc}`,
          // One copy of each series: sharding, not replication.
          '--receive.replication-factor=1',
          ...GRACE,
          '--log.level=warn',
        ],
        readyUrl: `http://${host}:${p.http}/-/ready`,
      };
    });
    await Promise.all(receiverPorts.map((_, i) => launch(`receive-${i + 1}`)));

    specs.rule = {
      args: [
        'rule',
        `--http-address=${host}:${ruleHttp}`,
        `--grpc-address=${host}:${ruleGrpc}`,
        `--data-dir=${join(dir, 'rule')}`,
        `--rule-file=${rulesFile}`,
        `--query=http://${host}:${queryHttp}`,
        `--eval-interval=${evalInterval}`,
        '--label=ruler="1"',
        ...GRACE,
        '--log.level=warn',
      ],
      readyUrl: `http://${host}:${ruleHttp}/-/ready`,
    };
    specs.query = {
      args: [
        'query',
        `--http-address=${host}:${queryHttp}`,
        `--grpc-address=${host}:${queryGrpc}`,
        // Strict: statically known, kept in the store set while down.
        ...receiverPorts.map((p) => `--endpoint-strict=${host}:${p.grpc}`),
        // The recording rules' output: the ordering alerts read it back through this querier.
        `--endpoint=${host}:${ruleGrpc}`,
        '--query.replica-label=receive_replica',
        // A pushed series gets a sample only when it changes: look back as long as series live
        // (the collector's metric_expiration), or an idle session's count drops out of queries.
        '--query.lookback-delta=60m',
        ...GRACE,
        '--log.level=warn',
      ],
      readyUrl: `http://${host}:${queryHttp}/-/ready`,
    };
    await launch('query');
    await launch('rule');
    // The querier finds its endpoints on its own schedule: ready once it lists every one.
    await waitFor(
      async () => {
        const body = (await (await fetch(`http://${host}:${queryHttp}/api/v1/stores`)).json()) as {
          data?: Record<string, unknown[]>;
        };
        return Object.values(body.data ?? {}).flat().length === receivers + 1;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 500,
        message: 'the querier did not list every receiver and the ruler',
      },
    );
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    remoteWriteUrl: `http://${host}:${receiverPorts[0]!.write}/api/v1/receive`,
    queryUrl: `http://${host}:${queryHttp}`,
    ruleUrl: `http://${host}:${ruleHttp}`,
    receiverLabels,
    pids,
    logs,
    async stopReceiver(index, signal = 'SIGTERM') {
      const child = children[`receive-${index + 1}`];
      if (!child) throw new Error(`no receiver ${index}`);
      await stopChild(child, signal);
    },
    startReceiver: (index) => launch(`receive-${index + 1}`),
    stop,
  };
}

/**
 * Instant query at the querier. With `dedup: false` each series keeps the external labels of the
 * store it came from (`receive_replica` of its receiver, `ruler` of the ruler): where it is held.
 * Throws unless the status is success; partial responses are off (a store that fails fails it).
 */
export async function thanosQuery(
  queryUrl: string,
  expr: string,
  { dedup = true, timeSeconds }: { dedup?: boolean; timeSeconds?: number } = {},
): Promise<PromSample[]> {
  const url = new URL('/api/v1/query', queryUrl);
  url.searchParams.set('query', expr);
  url.searchParams.set('partial_response', 'false');
  url.searchParams.set('dedup', String(dedup));
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

/** An alert as the ruler's /api/v1/alerts reports it (Prometheus's format). */
export interface RulerAlert {
  state: 'pending' | 'firing' | 'inactive';
  labels: Record<string, string>;
  value: string;
}

export async function rulerAlerts(ruleUrl: string): Promise<RulerAlert[]> {
  const response = await fetch(new URL('/api/v1/alerts', ruleUrl), { signal: AbortSignal.timeout(10_000) });
  // The ruler's handler marshals an untagged struct field: `Alerts`, not Prometheus's `alerts`.
  const body = (await response.json()) as { status: string; data?: { Alerts?: RulerAlert[] } };
  if (body.status !== 'success' || !body.data?.Alerts)
    throw new Error(`/api/v1/alerts: ${JSON.stringify(body)}`);
  return body.data.Alerts;
}
