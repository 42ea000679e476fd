import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { OTLPTraceExporter as OTLPProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPGrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { startNodeSdk } from '@opentelemetry/sdk-node';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { mkdirSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { AuditFileExporter } from './evidence/file-exporter.js';
import type { AuditRecord } from './evidence/record.js';
import { McpInstrumentation } from './instrumentation/instrumentation.js';
import type { McpInstrumentationConfig } from './instrumentation/types.js';

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
      const extra = args
        .map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : safeJson(a)))
        .join(' ');
      process.stderr.write(`${level} ${message}${extra ? ` ${extra}` : ''}\n`);
    };
  return {
    error: write('error'),
    warn: write('warn'),
    info: write('info'),
    debug: write('debug'),
    verbose: write('verbose'),
  };
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

function traceExporters(env: NodeJS.ProcessEnv, warnings: string[]): SpanProcessor[] {
  const names = (env.OTEL_TRACES_EXPORTER || 'otlp')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const processors: SpanProcessor[] = [];
  for (const name of new Set(names)) {
    if (name === 'none') continue;
    if (name === 'console') {
      processors.push(new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() }));
    } else if (name === 'otlp') {
      const protocol = (
        env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ||
        env.OTEL_EXPORTER_OTLP_PROTOCOL ||
        'http/protobuf'
      ).toLowerCase();
      const exporter =
        protocol === 'grpc'
          ? new OTLPGrpcTraceExporter()
          : protocol === 'http/json'
            ? new OTLPJsonTraceExporter()
            : new OTLPProtoTraceExporter();
      processors.push(new BatchSpanProcessor({ exporter }));
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
  const processors: SpanProcessor[] = exporting ? traceExporters(env, warnings) : [];
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
    // Short delay: the evidence log should trail the calls by moments, not the OTLP default of 5 s.
    processors.push(
      new BatchSpanProcessor({
        exporter: new AuditFileExporter({ file: auditFile, onRecord: tally }),
        scheduledDelayMillis: 200,
      }),
    );
  }
  const instrumentation = new McpInstrumentation(options.instrumentation);
  const sdk = startNodeSdk({
    spanProcessors: processors,
    // Metrics only where there is somewhere to send them; the embedded mode has no backend.
    ...(exporting ? {} : { metricReaders: [] }),
    logRecordProcessors: [],
    instrumentations: [instrumentation],
    // The SDK would install its own stdout logger; ours goes back in right after.
    logLevel: 'none',
  });
  diag.setLogger(stderrLogger(), { logLevel: logLevel(env), suppressOverrideMessage: true });
  for (const warning of warnings) diag.warn(warning);
  let stopped: Promise<void> | undefined;
  return {
    mode: exporting ? 'otlp' : 'embedded',
    auditFile,
    instrumentation,
    shutdown() {
      stopped ??= sdk.shutdown().then(() => {
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
