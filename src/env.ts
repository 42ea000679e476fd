// The environment variables mcp-audit reads, named once, and the readers every module uses, so a
// variable means the same thing and fails the same way wherever it is read. A bad value never stops
// the host: it is reported through the OpenTelemetry diag logger and the default applies.
import { diag } from '@opentelemetry/api';

/** What env readers take: `process.env` or a test's own map. */
export type Env = Readonly<Record<string, string | undefined>>;

/** The hash-chained evidence log written in-process (`off` disables it). */
export const ENV_FILE = 'MCP_AUDIT_FILE';
/** Rotate the evidence log past this size (`64MiB`, …). */
export const ENV_FILE_MAX_BYTES = 'MCP_AUDIT_FILE_MAX_BYTES';
/** HMAC-SHA256 key of the evidence chain (plain SHA-256 when unset). */
export const ENV_HMAC_KEY = 'MCP_AUDIT_HMAC_KEY';
/** Capture mode of tool arguments: one of the capture modes. */
export const ENV_CAPTURE_ARGUMENTS = 'MCP_AUDIT_CAPTURE_ARGUMENTS';
/** Capture mode of tool results: one of the capture modes. */
export const ENV_CAPTURE_RESULTS = 'MCP_AUDIT_CAPTURE_RESULTS';
/** The GenAI instrumentations' switch for message content; `true` captures results redacted. */
export const ENV_GENAI_CAPTURE_CONTENT = 'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT';
/** Characters of each result scanned for classes of personal data and secrets (0: off). */
export const ENV_RESULT_SCAN_CHARS = 'MCP_AUDIT_RESULT_SCAN_CHARS';
/** Comma-separated tools that may only be called with a caller identity. */
export const ENV_REQUIRE_CALLER = 'MCP_AUDIT_REQUIRE_CALLER';
/** How long shutdown may try to deliver before counting what is left as lost. */
export const ENV_SHUTDOWN_TIMEOUT = 'MCP_AUDIT_SHUTDOWN_TIMEOUT_MS';
/** The caller a proxy records for a stdio connection. */
export const ENV_CALLER = 'MCP_AUDIT_CALLER';
/** The audit session a proxy records. */
export const ENV_SESSION = 'MCP_AUDIT_SESSION';
/** Base URL of the Jaeger UI the alert rules link to. */
export const ENV_JAEGER_URL = 'MCP_AUDIT_JAEGER_URL';
/** Where the alert runbook (docs/alerts.md) is served. */
export const ENV_RUNBOOK_BASE = 'MCP_AUDIT_RUNBOOK_BASE';

/** The variable's value, or undefined when unset or empty. */
export function envString(name: string, env: Env = process.env): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * `true` or `false` in any case (surrounding spaces ignored); undefined when unset or empty. Any
 * other value is reported through diag and reads as undefined, so the caller's default applies.
 */
export function envBool(name: string, env: Env = process.env): boolean | undefined {
  const raw = envString(name, env)?.trim().toLowerCase();
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  diag.warn(`mcp-audit: ignoring ${name}=${JSON.stringify(env[name])} (expected true or false)`);
  return undefined;
}

/** Comma-separated values, trimmed, empty entries dropped; [] when unset. */
export function envList(name: string, env: Env = process.env): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** One of `allowed`, else undefined (a value outside it is reported through diag). */
export function envChoice<T extends string>(
  name: string,
  allowed: readonly T[],
  env: Env = process.env,
): T | undefined {
  const raw = envString(name, env);
  if (raw === undefined) return undefined;
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  diag.warn(
    `mcp-audit: ${name}=${JSON.stringify(raw)} is not one of ${allowed.join(', ')}; using the default`,
  );
  return undefined;
}
