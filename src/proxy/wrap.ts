// `mcp-audit wrap`: runs an MCP stdio server as a child and relays its protocol, recording every
// request through the same SDK start-up, recorder, redaction and exporters as the in-process
// instrumentation. Only the child's bytes (and policy refusals) ever reach our stdout;
// diagnostics go to stderr. Audit trouble (an exporter or collector down) never slows the relay:
// spans are batched and exported off the relay's path.

import { diag, metrics, trace, type Attributes } from '@opentelemetry/api';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { createDurationHistograms, createRecorder } from '../instrumentation/recorder.js';
import { ENV_CALLER, ENV_SESSION } from '../env.js';
import { startMcpAudit, type McpAuditHandle } from '../sdk.js';
import {
  ATTR_NETWORK_TRANSPORT,
  ATTR_PROXY,
  ATTR_UNVERIFIED_OS_USER,
  ATTR_UNVERIFIED_PARENT_COMMAND,
  ATTR_UNVERIFIED_PARENT_PID,
  NETWORK_TRANSPORT_PIPE,
} from '../semconv.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from '../version.js';
import { exitStatus, launchFor, signalGroup, spawnChild, stopChild, type StopDeadlines } from './child.js';
import { DEFAULT_PARSE_LIMIT } from './lines.js';
import { ProxySession } from './session.js';
import { startRelay } from './stdio-relay.js';

export interface WrapOptions {
  command: string;
  args: string[];
  callerId?: string;
  sessionId?: string;
  serverName?: string;
  /** Largest line the audit parses; longer lines are relayed untouched and counted. */
  parseLimit?: number;
  /** Inject traceparent/baggage into requests that carry no trace context. @default true */
  inject?: boolean;
  deadlines?: Partial<StopDeadlines>;
  /** Longest wait for the last spans to be exported at exit. @default 2000 */
  flushTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Settings for the audit alone (OTEL_EXPORTER_OTLP_ENDPOINT, MCP_AUDIT_FILE, OTEL_SERVICE_NAME, ...):
   * applied to this process, never to the server's environment. */
  auditEnv?: Record<string, string>;
}

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const EXIT_CANNOT_START = 127;

function parentCommand(ppid: number): string | undefined {
  try {
    return readFileSync(`/proc/${ppid}/comm`, 'utf8').trim().slice(0, 64) || undefined;
  } catch {
    return undefined;
  }
}

/** What stdio can tell about who is on the other end: recorded as unverified, never as the caller. */
function unverifiedContext(): Attributes {
  const attrs: Attributes = { [ATTR_UNVERIFIED_PARENT_PID]: process.ppid };
  try {
    attrs[ATTR_UNVERIFIED_OS_USER] = userInfo().username;
  } catch {
    // no passwd entry
  }
  const command = parentCommand(process.ppid);
  if (command) attrs[ATTR_UNVERIFIED_PARENT_COMMAND] = command;
  return attrs;
}

function startAudit(): McpAuditHandle | undefined {
  try {
    return startMcpAudit({ printSummary: false });
  } catch (err) {
    process.stderr.write(`mcp-audit wrap: audit not started (${(err as Error).message}); relaying anyway\n`);
    return undefined;
  }
}

/** Runs the wrapped server until it exits; resolves with the exit status to use. */
export async function runWrap(options: WrapOptions): Promise<number> {
  // The server gets the environment exactly as we were given it, whatever the audit is set to.
  const env = { ...(options.env ?? process.env) };
  Object.assign(process.env, options.auditEnv ?? {});
  // OTEL_SDK_DISABLED=true (the standard switch) leaves a plain relay: no spans, no parsing.
  const handle = process.env.OTEL_SDK_DISABLED === 'true' ? undefined : startAudit();
  let session: ProxySession | undefined;
  if (handle) {
    const histograms = createDurationHistograms(metrics.getMeter(PACKAGE_NAME, PACKAGE_VERSION));
    session = new ProxySession({
      tracer: trace.getTracer(PACKAGE_NAME, PACKAGE_VERSION),
      recorder: createRecorder({}, diag, () => histograms),
      connection: {
        [ATTR_NETWORK_TRANSPORT]: NETWORK_TRANSPORT_PIPE,
        [ATTR_PROXY]: 'wrap',
        ...unverifiedContext(),
      },
      callerId: options.callerId ?? (env[ENV_CALLER] || undefined),
      sessionId: options.sessionId ?? (env[ENV_SESSION] || undefined),
      serverName: options.serverName,
      inject: options.inject ?? true,
    });
  }

  const child = spawnChild(launchFor(options.command, options.args), env);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const spawnFailed = new Promise<Error>((resolve) => child.once('error', resolve));

  const forward = (signal: NodeJS.Signals) => signalGroup(child, signal);
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);

  const deadlines: StopDeadlines = { graceMs: 5000, termMs: 3000, ...options.deadlines };
  let stopping: Promise<void> | undefined;
  const stop = (reason: string) => {
    if (stopping) return;
    diag.debug(`mcp-audit wrap: ${reason}; stopping the server`);
    stopping = stopChild(child, deadlines, exited);
  };

  const relay = startRelay({
    clientIn: process.stdin,
    clientOut: process.stdout,
    serverIn: child.stdin,
    serverOut: child.stdout,
    session,
    parseLimit: options.parseLimit ?? DEFAULT_PARSE_LIMIT,
    onAuditError: (err) => diag.error('mcp-audit wrap: audit error (relay unaffected)', err),
    onClientGone: stop,
  });

  // Clients that die without closing our stdin leave us re-parented: that is their death too.
  const parent = process.ppid;
  const orphanWatch = setInterval(() => {
    if (process.ppid !== parent) stop('parent process gone');
  }, 1000);
  orphanWatch.unref();

  const first = await Promise.race([exited.then((e) => ({ exit: e })), spawnFailed.then((err) => ({ err }))]);
  clearInterval(orphanWatch);
  for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
  let status: number;
  if ('err' in first) {
    process.stderr.write(`mcp-audit wrap: cannot start ${options.command}: ${first.err.message}\n`);
    status = EXIT_CANNOT_START;
  } else {
    // Everything the server wrote reaches the client before we go (bounded: a grandchild may hold
    // the pipe open).
    await Promise.race([relay.serverDone, delay(1000)]);
    status = exitStatus(first.exit.code, first.exit.signal);
    if (!stopping) signalGroup(child, 'SIGKILL');
  }
  process.stdin.pause();
  session?.close('server exited before answering');
  // The recorder completes spans after the turn they end in (a large result over several turns);
  // let it, within the exit deadline, then flush.
  const flushTimeoutMs = options.flushTimeoutMs ?? 2000;
  const started = performance.now();
  await session?.settled(flushTimeoutMs);
  if (handle)
    await Promise.race([
      handle.shutdown().catch(() => undefined),
      delay(Math.max(500, flushTimeoutMs - (performance.now() - started))),
    ]);
  return status;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
