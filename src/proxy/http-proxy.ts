// `mcp-audit proxy`: a reverse proxy in front of a remote MCP server (Streamable HTTP, and the
// legacy HTTP+SSE transport), recording every request through the same SDK start-up, recorder,
// redaction and exporters as `wrap` and the in-process instrumentation. It passes the session
// through instead of re-hosting it: the client and the server see each other's headers, session
// ids and streams. Audit trouble (an exporter or collector down) never slows the relay: spans are
// batched and exported off its path.

import { diag, metrics, trace } from '@opentelemetry/api';
import { Agent, createServer, type Server } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createDurationHistograms, createRecorder } from '../instrumentation/recorder.js';
import { startMcpAudit, type McpAuditHandle } from '../sdk.js';
import {
  ATTR_NETWORK_TRANSPORT,
  ATTR_PROXY,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  NETWORK_TRANSPORT_TCP,
} from '../semconv.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from '../version.js';
import { HttpAudit } from './http-audit.js';
import type { CallerSources } from './http-caller.js';
import { createForwarder } from './http-forward.js';

export interface HttpProxyOptions {
  host: string;
  port: number;
  target: URL;
  callers: CallerSources;
  /** Largest body or SSE event the audit parses; larger ones are relayed unread and counted. */
  parseLimit: number;
  inject: boolean;
  sessionId?: string;
  serverName?: string;
  /** Settings for the audit alone (OTEL_EXPORTER_OTLP_ENDPOINT, MCP_AUDIT_FILE, ...). */
  auditEnv?: Record<string, string>;
  /** Longest wait for the last spans to be exported at exit. @default 2000 */
  flushTimeoutMs?: number;
}

export interface RunningProxy {
  server: Server;
  address: AddressInfo;
  /** Stops accepting, ends what is still in flight, flushes the audit. */
  stop(): Promise<void>;
}

function startAudit(): McpAuditHandle | undefined {
  try {
    return startMcpAudit({ printSummary: false });
  } catch (err) {
    process.stderr.write(`mcp-audit proxy: audit not started (${(err as Error).message}); relaying anyway\n`);
    return undefined;
  }
}

export async function startHttpProxy(options: HttpProxyOptions): Promise<RunningProxy> {
  Object.assign(process.env, options.auditEnv ?? {});
  const handle = process.env.OTEL_SDK_DISABLED === 'true' ? undefined : startAudit();
  const { target } = options;
  let audit: HttpAudit | undefined;
  if (handle) {
    const histograms = createDurationHistograms(metrics.getMeter(PACKAGE_NAME, PACKAGE_VERSION));
    audit = new HttpAudit({
      tracer: trace.getTracer(PACKAGE_NAME, PACKAGE_VERSION),
      recorder: createRecorder({}, diag, () => histograms),
      connection: {
        [ATTR_NETWORK_TRANSPORT]: NETWORK_TRANSPORT_TCP,
        [ATTR_PROXY]: 'proxy',
        [ATTR_SERVER_ADDRESS]: target.hostname,
        [ATTR_SERVER_PORT]: Number(target.port || (target.protocol === 'https:' ? 443 : 80)),
      },
      sessionId: options.sessionId,
      serverName: options.serverName,
      inject: options.inject,
      onError: (err) => diag.error('mcp-audit proxy: audit error (relay unaffected)', err),
    });
  }
  // Connections to the target are reused: a new TCP handshake per MCP message would be most of
  // the proxy's cost on loopback.
  const agentOptions = { keepAlive: true, maxFreeSockets: 64 };
  const agent = target.protocol === 'https:' ? new HttpsAgent(agentOptions) : new Agent(agentOptions);
  const forward = createForwarder({
    target,
    agent,
    audit,
    callers: options.callers,
    parseLimit: options.parseLimit,
    onError: (message, err) => diag.error(`mcp-audit proxy: ${message}`, err),
  });
  // SSE streams stay open for as long as the session: no request or idle timeout of our own.
  const server = createServer({ requestTimeout: 0, keepAliveTimeout: 65_000 }, forward);
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      server.close();
      server.closeAllConnections();
      agent.destroy();
      audit?.close('proxy stopped before the server answered');
      const flushTimeoutMs = options.flushTimeoutMs ?? 2000;
      const started = performance.now();
      await audit?.settled(flushTimeoutMs);
      if (handle)
        await Promise.race([
          handle.shutdown().catch(() => undefined),
          delay(Math.max(500, flushTimeoutMs - (performance.now() - started))),
        ]);
    })());
  return { server, address: server.address() as AddressInfo, stop };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
