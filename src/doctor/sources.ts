// What `mcp-audit doctor` reads from a deployment: the HTTP helpers its Jaeger (jaeger.ts) and
// Prometheus (prometheus.ts) readers share, and the collector (and optionally Jaeger) config files.
// Every network read has a timeout and turns failures into one plain sentence; nothing here decides
// pass or fail (that is checks.ts). URLs are shown without userinfo or query string.

import { readFile } from 'node:fs/promises';

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

export async function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await p };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
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
