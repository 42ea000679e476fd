// What `mcp-audit doctor` reads from a deployment: Jaeger's query API, Prometheus' HTTP API and
// the collector (and optionally Jaeger) config files. Every network read has a timeout and turns
// failures into one plain sentence; nothing here decides pass or fail (that is checks.ts).
//
// Secrets: spans are reduced to booleans (which attributes are present) right here, so argument
// values, caller ids and results never reach the checks or the output. URLs are shown without
// userinfo or query string.

import { readFile } from 'node:fs/promises';
import { METRICS } from '../detection/metrics.js';
import {
  ATTR_ENDUSER_ID,
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_MCP_AUDIT_RESULT_SIZE,
  ATTR_MCP_METHOD_NAME,
} from '../semconv.js';

/** A value, or why it could not be read. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: string };

export interface Endpoint {
  /** Base URL with a trailing slash and no userinfo (API paths are resolved against it, so a
   * reverse-proxy prefix like https://host/prometheus/ keeps working). */
  base: URL;
  /** What we print: origin + path, never credentials or a query string. */
  display: string;
  /** Basic credentials taken from the URL's userinfo (fetch refuses URLs that carry them). */
  authorization?: string;
}

/** Parses a --prometheus/--jaeger value; throws a plain Error with a readable reason. */
export function endpoint(raw: string): Endpoint {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('is not a URL (expected e.g. http://127.0.0.1:9090)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`must be an http:// or https:// URL, not ${url.protocol}`);
  const authorization =
    url.username || url.password
      ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
      : undefined;
  url.username = '';
  url.password = '';
  url.search = '';
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  const display = `${url.origin}${url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')}`;
  return { base: url, display, ...(authorization ? { authorization } : {}) };
}

/** GET base+path as JSON. Rejects with `<what> at <url>: <reason>`. */
export async function getJson(
  ep: Endpoint,
  path: string,
  params: Record<string, string | string[]>,
  what: string,
  timeoutMs: number,
): Promise<unknown> {
  const url = new URL(path, ep.base);
  for (const [k, v] of Object.entries(params))
    for (const one of Array.isArray(v) ? v : [v]) url.searchParams.append(k, one);
  const fail = (reason: string): Error => new Error(`${what} at ${ep.display}: ${reason}`);
  let response: Response;
  try {
    response = await fetch(url, {
      headers: {
        accept: 'application/json',
        ...(ep.authorization ? { authorization: ep.authorization } : {}),
      },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw fail(networkReason(err, timeoutMs));
  }
  const text = await response.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    // Prometheus explains 4xx/5xx in {"error": ...}; otherwise the status line is all we say.
    const detail = apiError(body);
    throw fail(`HTTP ${response.status} ${response.statusText}${detail ? `: ${detail}` : ''} (GET /${path})`);
  }
  if (body === undefined)
    throw fail(
      `GET /${path} did not answer JSON: is this the ${what} base URL (not its UI or another service)?`,
    );
  return body;
}

function apiError(body: unknown): string | undefined {
  if (body && typeof body === 'object') {
    const e = (body as { error?: unknown; errors?: unknown }).error ?? (body as { errors?: unknown }).errors;
    if (typeof e === 'string') return e.slice(0, 200);
    if (Array.isArray(e) && e.length > 0) return JSON.stringify(e[0]).slice(0, 200);
  }
  return undefined;
}

/** fetch's errors are a bare "fetch failed" with the reason in `cause`: name the reason. */
function networkReason(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs / 1000}s`;
  const code = e?.cause?.code;
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused (nothing listens there)',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed',
    ECONNRESET: 'connection reset',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ETIMEDOUT: 'connection timed out',
    CERT_HAS_EXPIRED: 'TLS certificate expired',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed TLS certificate',
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate not trusted',
  };
  if (code && known[code]) return `${known[code]} (${code})`;
  // undici refuses ports browsers block (1, 22, 25, 6000, ...) before connecting.
  if (e?.cause?.message === 'bad port')
    return 'fetch refuses to connect to this port (a blocked port number)';
  return e?.cause?.message ?? e?.message ?? String(err);
}

async function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await p };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

// ---- Jaeger -------------------------------------------------------------------------------------

/** One tools/call span, reduced to what the checks need: presence flags, never values. */
export interface ToolCallSpan {
  service: string;
  tool: string | undefined;
  hasArguments: boolean;
  hasCaller: boolean;
  hasSession: boolean;
  hasResultSize: boolean;
  /** Span status ERROR (Jaeger's `error` tag / otel.status_code) or error.type set. */
  failed: boolean;
  hasErrorType: boolean;
}

export interface JaegerData {
  /** Services Jaeger knows (all of them, before --service filtering). */
  services: string[];
  /** Services that were searched. */
  searched: string[];
  spans: ToolCallSpan[];
  /** Services whose search returned `limit` traces: the numbers are a sample. */
  limited: string[];
  /** Per-service search failures while others worked. */
  partialErrors: string[];
}

interface JaegerTag {
  key: string;
  value: unknown;
}
interface JaegerTraceJson {
  spans?: Array<{ traceID: string; spanID: string; tags?: JaegerTag[]; processID?: string }>;
  processes?: Record<string, { serviceName?: string }>;
}

export interface JaegerQuery {
  service: string | undefined;
  lookbackMs: number;
  limit: number;
  timeoutMs: number;
}

export async function readJaeger(ep: Endpoint, q: JaegerQuery): Promise<Settled<JaegerData>> {
  return settle(readJaegerOrThrow(ep, q));
}

async function readJaegerOrThrow(ep: Endpoint, q: JaegerQuery): Promise<JaegerData> {
  const body = (await getJson(ep, 'api/services', {}, 'Jaeger', q.timeoutMs)) as { data?: unknown };
  if (body.data !== null && body.data !== undefined && !Array.isArray(body.data))
    throw new Error(`Jaeger at ${ep.display}: /api/services answered an unexpected shape`);
  const services = ((body.data as string[] | null) ?? []).filter((s) => typeof s === 'string').sort();
  const searched = q.service ? [q.service] : services;
  // start/end in microseconds rather than `lookback`, which Jaeger parses as a Go duration (no `d`).
  const end = Date.now() * 1000;
  const start = end - q.lookbackMs * 1000;
  const tags = JSON.stringify({ [ATTR_MCP_METHOD_NAME]: 'tools/call' });
  const seen = new Map<string, ToolCallSpan>();
  const limited: string[] = [];
  const partialErrors: string[] = [];
  // A few services at a time: one request per service, without flooding a shared Jaeger.
  for (let i = 0; i < searched.length; i += 8) {
    const batch = searched.slice(i, i + 8);
    const results = await Promise.all(
      batch.map((service) =>
        settle(
          getJson(
            ep,
            'api/traces',
            { service, tags, start: String(start), end: String(end), limit: String(q.limit) },
            'Jaeger',
            q.timeoutMs,
          ),
        ),
      ),
    );
    results.forEach((r, j) => {
      const service = batch[j]!;
      if (!r.ok) {
        partialErrors.push(r.error);
        return;
      }
      const traces = ((r.value as { data?: JaegerTraceJson[] | null }).data ?? []) as JaegerTraceJson[];
      if (traces.length >= q.limit) limited.push(service);
      for (const trace of traces) collectSpans(trace, seen);
    });
  }
  if (searched.length > 0 && partialErrors.length === searched.length) throw new Error(partialErrors[0]);
  let spans = [...seen.values()];
  // A returned trace holds every service's spans; keep only the service asked for.
  if (q.service) spans = spans.filter((s) => s.service === q.service);
  return { services, searched, spans, limited, partialErrors };
}

function collectSpans(trace: JaegerTraceJson, seen: Map<string, ToolCallSpan>): void {
  for (const span of trace.spans ?? []) {
    const tags = new Map((span.tags ?? []).map((t) => [t.key, t.value]));
    if (tags.get(ATTR_MCP_METHOD_NAME) !== 'tools/call') continue;
    // Client and server services both return the trace: count each span once.
    const key = `${span.traceID}/${span.spanID}`;
    if (seen.has(key)) continue;
    const present = (k: string): boolean => {
      const v = tags.get(k);
      return v !== undefined && v !== null && v !== '';
    };
    const tool = tags.get(ATTR_GEN_AI_TOOL_NAME);
    seen.set(key, {
      service: trace.processes?.[span.processID ?? '']?.serviceName ?? 'unknown',
      tool: typeof tool === 'string' ? tool : undefined,
      hasArguments: present(ATTR_GEN_AI_TOOL_CALL_ARGUMENTS),
      hasCaller: present(ATTR_ENDUSER_ID),
      hasSession: present(ATTR_GEN_AI_CONVERSATION_ID),
      hasResultSize: present(ATTR_MCP_AUDIT_RESULT_SIZE),
      failed:
        tags.get('error') === true || tags.get('otel.status_code') === 'ERROR' || present(ATTR_ERROR_TYPE),
      hasErrorType: present(ATTR_ERROR_TYPE),
    });
  }
}

// ---- Prometheus ---------------------------------------------------------------------------------

export interface AlertRule {
  name: string;
  /** ok | err | unknown (unknown: not evaluated yet). */
  health: string;
}

export interface PrometheusData {
  version: Settled<string>;
  /** Sums over the lookback window; null when no series matched (the metric is absent). */
  calls: Settled<number | null>;
  callsWithCaller: Settled<number | null>;
  callsWithCallerAndSession: Settled<number | null>;
  errors: Settled<number | null>;
  alertRules: Settled<AlertRule[]>;
  retention: Settled<{ time: string; size: string }>;
}

export interface PrometheusQuery {
  service: string | undefined;
  /** Prometheus range, e.g. 1h. */
  lookback: string;
  timeoutMs: number;
}

export async function readPrometheus(ep: Endpoint, q: PrometheusQuery): Promise<PrometheusData> {
  const t = q.timeoutMs;
  const sel = (extra: string): string => {
    const parts = [q.service ? `service_name=${JSON.stringify(q.service)}` : '', extra].filter(Boolean);
    return parts.length ? `{${parts.join(',')}}` : '';
  };
  // last_over_time: counters are cumulative per series, and a session's series expire after it
  // ends; the last value of every series seen in the window is the window's calls.
  const sum = (metric: string, extra = ''): Promise<number | null> =>
    instantSum(ep, `sum(last_over_time(${metric}${sel(extra)}[${q.lookback}]))`, t);
  const [version, calls, callsWithCaller, callsWithCallerAndSession, errors, alertRules, retention] =
    await Promise.all([
      settle(
        getJson(ep, 'api/v1/status/buildinfo', {}, 'Prometheus', t).then(
          (b) => (b as { data?: { version?: string } }).data?.version ?? 'unknown',
        ),
      ),
      settle(sum(METRICS.calls)),
      settle(sum(METRICS.calls, 'caller!="none"')),
      settle(sum(METRICS.calls, 'caller!="none",session_id!="none"')),
      settle(sum(METRICS.errors)),
      settle(readAlertRules(ep, t)),
      settle(
        getJson(ep, 'api/v1/status/flags', {}, 'Prometheus', t).then((b) => {
          const d = (b as { data?: Record<string, string> }).data ?? {};
          // 2.x reports 0s for "not set"; the deprecated storage.tsdb.retention still counts there.
          const time = d['storage.tsdb.retention.time'];
          const legacy = d['storage.tsdb.retention'];
          return {
            time: time && time !== '0s' ? time : legacy && legacy !== '0s' ? legacy : '0s',
            size: d['storage.tsdb.retention.size'] ?? '0B',
          };
        }),
      ),
    ]);
  return { version, calls, callsWithCaller, callsWithCallerAndSession, errors, alertRules, retention };
}

async function instantSum(ep: Endpoint, expr: string, timeoutMs: number): Promise<number | null> {
  const body = (await getJson(ep, 'api/v1/query', { query: expr }, 'Prometheus', timeoutMs)) as {
    status?: string;
    data?: { result?: Array<{ value?: [number, string] }> };
  };
  if (body.status !== 'success') throw new Error(`Prometheus query failed: ${expr}`);
  const first = body.data?.result?.[0]?.value?.[1];
  return first === undefined ? null : Number(first);
}

async function readAlertRules(ep: Endpoint, timeoutMs: number): Promise<AlertRule[]> {
  const body = (await getJson(ep, 'api/v1/rules', { type: 'alert' }, 'Prometheus', timeoutMs)) as {
    data?: { groups?: Array<{ rules?: Array<{ type?: string; name?: string; health?: string }> }> };
  };
  return (body.data?.groups ?? []).flatMap((g) =>
    (g.rules ?? [])
      .filter((r) => r.type === 'alerting' && typeof r.name === 'string')
      .map((r) => ({ name: r.name!, health: r.health ?? 'unknown' })),
  );
}

// ---- config files -------------------------------------------------------------------------------

/**
 * Reads YAML files and merges them the way the collector merges repeated --config files: maps
 * key by key, later files winning; lists and scalars replaced whole. Throws a plain Error naming
 * the file (missing, unreadable, not YAML).
 */
export async function readMergedYaml(files: string[]): Promise<Record<string, unknown>> {
  // Loaded on demand: only this option needs it, and every other command stays free of it.
  const { parse } = await import('yaml');
  let merged: Record<string, unknown> = {};
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new Error(
        `${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : 'cannot read the file'}`,
      );
    }
    let doc: unknown;
    try {
      doc = parse(text);
    } catch (err) {
      const first = (err instanceof Error ? err.message : String(err)).split('\n')[0];
      throw new Error(`${file}: not valid YAML: ${first}`);
    }
    if (doc === null || doc === undefined) continue;
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${file}: expected a YAML mapping`);
    merged = mergeMaps(merged, doc as Record<string, unknown>);
  }
  return merged;
}

function mergeMaps(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isMap(prev) && isMap(v) ? mergeMaps(prev, v) : v;
  }
  return out;
}

export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
