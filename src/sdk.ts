import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { ConsoleSpanExporter, SimpleSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { mkdirSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { DeliveryQueue } from './evidence/delivery-queue.js';
import { DropLedger } from './evidence/drop-ledger.js';
import { AUDIT_FILE_DESTINATION, AuditFileExporter } from './evidence/file-exporter.js';
import {
  metricReaders,
  otlpProtocol,
  queueSettings,
  type QueueSettings,
} from './evidence/delivery-settings.js';
import { OtlpHttpSpanExporter } from './evidence/otlp-http-exporter.js';
import type { AuditRecord } from './evidence/record.js';
import { McpInstrumentation } from './instrumentation/instrumentation.js';
import { completePendingSpans } from './instrumentation/recorder.js';
import type { McpInstrumentationConfig } from './instrumentation/types.js';
import { loadOnDemand, startOpenTelemetry } from './otel-setup.js';
import { createRedactor } from './redaction/redact.js';
import { auditResourceDetectors, keepCommandLine } from './redaction/resource.js';
import { exportRedaction, redactedExporter, redactResource } from './redaction/span-export.js';

export interface StartOptions {
  /** Configuration of the MCP instrumentation (capture, redaction, policy). */
  instrumentation?: McpInstrumentationConfig;
  /** Print a one-line session summary to stderr at shutdown (embedded mode). @default true */
  printSummary?: boolean;
}

export interface McpAuditHandle {
  /** `otlp`: spans go to the collector; `embedded`: only the local evidence log. */
  mode: 'otlp' | 'embedded';
  /** The evidence log being written, if any. */
  auditFile?: string;
  instrumentation: McpInstrumentation;
  /** Spans accepted and neither delivered nor counted as lost yet (for an exit report). */
  undelivered(): number;
  /** Flushes within the exit deadline (MCP_AUDIT_SHUTDOWN_TIMEOUT_MS), counts and reports the rest. */
  shutdown(): Promise<void>;
}

const LOG_LEVELS: Record<string, DiagLogLevel> = {
  none: DiagLogLevel.NONE,
  error: DiagLogLevel.ERROR,
  warn: DiagLogLevel.WARN,
  info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG,
  verbose: DiagLogLevel.VERBOSE,
  all: DiagLogLevel.ALL,
};

// stderr only: an MCP stdio server's stdout is the protocol, and one stray log line there breaks
// the session (DiagConsoleLogger writes info and debug to stdout).
function stderrLogger(): DiagLogger {
  const write =
    (level: string) =>
    (message: string, ...args: unknown[]) => {
      const extra = args.map((a) => (typeof a === 'string' ? a : (errorMessage(a) ?? safeJson(a)))).join(' ');
      // The OTel SDK sometimes logs an error object where the message string belongs.
      const text: string =
        typeof message === 'string' ? message : (errorMessage(message) ?? safeJson(message));
      process.stderr.write(`${level} ${text}${extra ? ` ${extra}` : ''}\n`);
    };
  return {
    error: write('error'),
    warn: write('warn'),
    info: write('info'),
    debug: write('debug'),
    verbose: write('verbose'),
  };
}

// Errors, and the error-shaped objects the OTel SDK logs, as their message (not a stack dump).
function errorMessage(value: unknown): string | undefined {
  if (value instanceof Error) return value.message;
  const message = (value as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : undefined;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function logLevel(env: NodeJS.ProcessEnv): DiagLogLevel {
  return LOG_LEVELS[(env.OTEL_LOG_LEVEL ?? 'warn').toLowerCase()] ?? DiagLogLevel.WARN;
}

/** True when the standard OTel variables ask for an export pipeline. */
export function otlpRequested(env: NodeJS.ProcessEnv): boolean {
  return Boolean(
    env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_TRACES_EXPORTER,
  );
}

/**
 * Where the embedded evidence log goes. `{pid}` and `{service}` expand, so several processes (an
 * agent and the stdio servers it spawns) never interleave lines of one hash chain.
 * `MCP_AUDIT_FILE=off` turns it off.
 */
export function auditFilePath(env: NodeJS.ProcessEnv, exporting: boolean): string | undefined {
  const configured = env.MCP_AUDIT_FILE;
  if (configured === 'off' || configured === 'false' || configured === '0') return undefined;
  if (!configured && exporting) return undefined;
  const service = (
    env.OTEL_SERVICE_NAME ||
    basename(process.argv[1] ?? 'node').replace(/\.[cm]?[jt]s$/, '') ||
    'node'
  ).replace(/[^A-Za-z0-9._-]/g, '_');
  const template = configured || '.mcp-audit/{service}-{pid}.jsonl';
  return resolve(template.replaceAll('{pid}', String(process.pid)).replaceAll('{service}', service));
}

interface OtlpRoute {
  queue: DeliveryQueue;
  url: string;
}

function traceExporters(
  env: NodeJS.ProcessEnv,
  warnings: string[],
  settings: QueueSettings,
  ledger: DropLedger,
  routes: OtlpRoute[],
): SpanProcessor[] {
  const names = (env.OTEL_TRACES_EXPORTER || 'otlp')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const processors: SpanProcessor[] = [];
  for (const name of new Set(names)) {
    if (name === 'none') continue;
    if (name === 'console') {
      processors.push(
        new SimpleSpanProcessor({ exporter: redactedExporter(new ConsoleSpanExporter(), env) }),
      );
    } else if (name === 'otlp') {
      const protocol = otlpProtocol(env, 'TRACES');
      // HTTP: one attempt per export, DeliveryQueue retries. gRPC keeps the stock exporter, which
      // retries within each export (its exit can take up to the shutdown deadline).
      const http =
        protocol === 'grpc'
          ? undefined
          : new OtlpHttpSpanExporter(protocol === 'http/json' ? 'json' : 'protobuf');
      // The gRPC stack (grpc-js, protobufjs) loads only for this protocol: it is most of a cold start.
      const exporter =
        http ??
        new (loadOnDemand<typeof import('@opentelemetry/exporter-trace-otlp-grpc')>(
          '@opentelemetry/exporter-trace-otlp-grpc',
        ).OTLPTraceExporter)();
      const queue = new DeliveryQueue({
        // Every exported string redacted once more, the command line dropped from the resource.
        exporter: redactedExporter(exporter, env),
        ...settings,
        onDrop: (reason, count, detail) => ledger.record('otlp', reason, count, detail),
        onHealthChange: (healthy, detail) =>
          healthy
            ? diag.info('mcp-audit: span export to the collector works again')
            : diag.warn(`mcp-audit: span export to the collector failed (${detail}); retrying with backoff`),
      });
      routes.push({
        queue,
        url:
          http?.url ??
          (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT || 'the collector'),
      });
      processors.push(queue);
    } else {
      warnings.push(
        `mcp-audit: OTEL_TRACES_EXPORTER value "${name}" is not supported (otlp, console, none); ignored`,
      );
    }
  }
  return processors;
}

interface SessionTally {
  calls: number;
  bytes: number;
  errors: number;
}

/**
 * Starts OpenTelemetry with the MCP instrumentation, configured from the environment:
 * OTLP export when the standard OTel variables ask for it, and the hash-chained evidence log
 * (the embedded default, which needs no server) otherwise or when `MCP_AUDIT_FILE` is set.
 */
export function startMcpAudit(
  options: StartOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): McpAuditHandle {
  const exporting = otlpRequested(env);
  const auditFile = auditFilePath(env, exporting);
  // Warnings wait for our logger: the SDK replaces any logger set before it starts.
  const warnings: string[] = [];
  const settings = queueSettings(env, warnings);
  const ledger = new DropLedger();
  const routes: OtlpRoute[] = [];
  const processors: SpanProcessor[] = exporting
    ? traceExporters(env, warnings, settings, ledger, routes)
    : [];
  const queues: DeliveryQueue[] = routes.map((r) => r.queue);
  const sessions = new Map<string, SessionTally>();
  if (auditFile) {
    mkdirSync(dirname(auditFile), { recursive: true });
    const tally = (record: AuditRecord) => {
      if (record.method !== 'tools/call' || record.side !== 'client') return;
      const key = record.session_id ?? '(none)';
      const t = sessions.get(key) ?? { calls: 0, bytes: 0, errors: 0 };
      t.calls++;
      t.bytes += record.result_size_bytes ?? 0;
      if (record.error) t.errors++;
      sessions.set(key, t);
    };
    // The export redaction is applied by the exporter itself, to what each record reads.
    const fileExporter = new AuditFileExporter({
      file: auditFile,
      onRecord: tally,
      redaction: exportRedaction(env),
    });
    // Losses on the way to the collector are written down locally too.
    ledger.addSink(fileExporter);
    // Short delay: the evidence log should trail the calls by moments, not the OTLP default of 5 s.
    const fileQueue = new DeliveryQueue({
      exporter: fileExporter,
      ...settings,
      scheduledDelayMillis: 200,
      onDrop: (reason, count, detail) => ledger.record(AUDIT_FILE_DESTINATION, reason, count, detail),
    });
    queues.push(fileQueue);
    processors.push(fileQueue);
  }
  const instrumentation = new McpInstrumentation(options.instrumentation);
  const sdk = startOpenTelemetry({
    spanProcessors: processors,
    // Metrics only where there is somewhere to send them; the embedded mode has no backend.
    ...(exporting ? metricReaders(env, settings, warnings) : { metricReaders: [] }),
    instrumentations: [instrumentation],
    resourceFilter: (resource) =>
      redactResource(createRedactor(), resource, { keepCommandLine: keepCommandLine(env) }),
    resourceDetectors: auditResourceDetectors(env, createRedactor()),
  });
  diag.setLogger(stderrLogger(), { logLevel: logLevel(env), suppressOverrideMessage: true });
  for (const warning of warnings) diag.warn(warning);
  // The span queues keep their own deadline; the metrics flush (the OTel SDK's, which retries
  // inside) gets what is left of it, and nothing when the collector is known to be unreachable.
  const boundedShutdown = async (): Promise<void> => {
    const deadline = Date.now() + settings.shutdownTimeoutMillis;
    // Calls that ended but whose spans are still being completed (a large result scanned over
    // several turns) end now, so the flush below carries them.
    completePendingSpans();
    // Collector queues first: what they could not deliver is written to the evidence log as it closes.
    await Promise.all(routes.map((r) => r.queue.shutdown()));
    await Promise.all(queues.map((q) => q.shutdown()));
    const reachable = routes.every((r) => r.queue.lastExportError === '');
    const left = reachable ? Math.max(0, deadline - Date.now()) : 0;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      sdk.shutdown().catch((err: unknown) => diag.debug('mcp-audit: OpenTelemetry shutdown', err)),
      new Promise<void>((done) => (timer = setTimeout(done, left))),
    ]);
    clearTimeout(timer);
  };
  let stopped: Promise<void> | undefined;
  return {
    mode: exporting ? 'otlp' : 'embedded',
    auditFile,
    instrumentation,
    undelivered: () => queues.reduce((n, q) => n + q.outstanding, 0),
    shutdown() {
      stopped ??= boundedShutdown().then(() => {
        for (const { url } of routes) {
          const lost = ledger.summary('otlp');
          if (lost) process.stderr.write(`mcp-audit: could not deliver ${lost} to ${url}\n`);
        }
        const lostLocally = ledger.summary(AUDIT_FILE_DESTINATION);
        if (lostLocally) process.stderr.write(`mcp-audit: could not write ${lostLocally} to ${auditFile}\n`);
        if (options.printSummary === false || !auditFile || sessions.size === 0) return;
        const calls = [...sessions.values()].reduce((n, t) => n + t.calls, 0);
        process.stderr.write(
          `mcp-audit: ${calls} tool calls in ${sessions.size} session(s) recorded to ${auditFile}\n`,
        );
      });
      return stopped;
    },
  };
}
