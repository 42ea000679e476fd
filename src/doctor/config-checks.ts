// The checklist lines read from configuration rather than from data: where the collector sends
// spans (a SIEM or not), how long Prometheus and Jaeger keep them, whether errors are counted.
import { isMap } from './sources.js';
import { formatSeconds, parseDuration } from './duration.js';
import type { Check, Observations } from './observations.js';

/** Exporter types that keep data local or feed our own stores: not a SIEM route. */
const LOCAL_EXPORTER_TYPES = new Set([
  'file',
  'debug',
  'logging',
  'nop',
  'loadbalancing',
  'prometheus',
  'prometheusremotewrite',
]);

export function siemForwarding(o: Observations): Check {
  const id = 'siem';
  const title = 'MCP spans are forwarded to a SIEM';
  if (!o.collector)
    return {
      id,
      title,
      ok: null,
      evidence: 'no --collector-config given: the collector pipelines were not read',
    };
  const { config, files } = o.collector;
  const exporters = isMap(config.exporters) ? config.exporters : {};
  const connectors = isMap(config.connectors) ? config.connectors : {};
  const service = isMap(config.service) ? config.service : {};
  const pipelines = isMap(service.pipelines) ? service.pipelines : {};
  const traces = Object.entries(pipelines).filter(
    ([name]) => name === 'traces' || name.startsWith('traces/'),
  );
  const routes = new Set<string>();
  const local = new Set<string>();
  for (const p of fedBy(
    traces.map(([, p]) => p),
    Object.values(pipelines),
    connectors,
  )) {
    for (const e of listOf(p, 'exporters')) {
      if (e in connectors || !(e in exporters)) continue;
      if (isSiemExporter(e)) routes.add(e);
      else local.add(e);
    }
  }
  const read = `read ${files.join(' + ')}`;
  if (traces.length === 0)
    return { id, title, ok: false, evidence: `${read}: no traces pipeline in service.pipelines` };
  if (routes.size === 0)
    return {
      id,
      title,
      ok: false,
      evidence: `${read}: traces pipelines export only to ${[...local].sort().join(', ') || 'nothing'} (Jaeger, files, the evidence sink are not a SIEM); add collector/siem.yaml, collector/siem-syslog.yaml or your SIEM's exporter`,
    };
  return {
    id,
    title,
    ok: true,
    evidence: `${read}: traces pipeline exports to ${[...routes].sort().join(', ')}`,
  };
}

const listOf = (pipeline: unknown, key: 'receivers' | 'exporters'): string[] =>
  isMap(pipeline) && Array.isArray(pipeline[key])
    ? pipeline[key].filter((e): e is string => typeof e === 'string')
    : [];

/**
 * The given pipelines and every pipeline their spans reach through connectors (e.g. the syslog
 * route: traces → auditlog connector → a logs pipeline exporting to syslog).
 */
function fedBy(start: unknown[], all: unknown[], connectors: Record<string, unknown>): Set<unknown> {
  const reached = new Set<unknown>(start);
  const queue = [...start];
  while (queue.length > 0) {
    const via = listOf(queue.shift(), 'exporters').filter((e) => e in connectors);
    for (const p of all) {
      if (!reached.has(p) && listOf(p, 'receivers').some((r) => via.includes(r))) {
        reached.add(p);
        queue.push(p);
      }
    }
  }
  return reached;
}

/** A SIEM route: any exporter that is not Jaeger, a local file/debug sink or the evidence log. */
export function isSiemExporter(exporterId: string): boolean {
  const [type = '', name = ''] = exporterId.split('/', 2);
  if (LOCAL_EXPORTER_TYPES.has(type)) return false;
  if (/jaeger/i.test(type) || /jaeger/i.test(name)) return false;
  // The `mcp-audit sink` evidence log is our own store, not the organisation's SIEM.
  if (/evidence|mcp[-_]?audit[-_]?sink/i.test(name)) return false;
  return true;
}

export function retention(o: Observations): Check {
  const id = 'retention';
  const title = 'MCP retention is at least the application retention';
  const r = o.prometheus.retention;
  const jaegerNote = jaegerStorageNote(o);
  const app = `application retention ${o.appRetention.text}`;
  if (!r.ok) return { id, title, ok: null, evidence: [r.error, jaegerNote].join('; ') };
  let seconds: number | null;
  let setting: string;
  if (r.value.time !== '0s') {
    seconds = parseDuration(r.value.time);
    setting = `storage.tsdb.retention.time=${r.value.time}`;
  } else if (r.value.size && r.value.size !== '0B') {
    // Size-only retention keeps however long fits: no time to compare.
    seconds = null;
    setting = `size-based only (storage.tsdb.retention.size=${r.value.size})`;
  } else {
    seconds = 15 * 86400;
    setting = 'not set: Prometheus default 15d';
  }
  if (seconds === null)
    return {
      id,
      title,
      ok: null,
      evidence: `Prometheus retention ${setting}: cannot compare with ${app}; ${jaegerNote}`,
    };
  const ok = seconds >= o.appRetention.seconds;
  return {
    id,
    title,
    ok,
    evidence: `Prometheus retention ${setting}${setting.endsWith(formatSeconds(seconds)) ? '' : ` (${formatSeconds(seconds)})`} ${ok ? '≥' : '<'} ${app}; ${jaegerNote}`,
  };
}

/** The collector's span-to-metrics connector that counts errors, if the config has one. */
export function errorMetricConfigured(o: Observations): string | undefined {
  const connectors = o.collector && isMap(o.collector.config.connectors) ? o.collector.config.connectors : {};
  for (const [cid, c] of Object.entries(connectors)) {
    if (!cid.startsWith('signal_to_metrics') || !isMap(c) || !Array.isArray(c.spans)) continue;
    for (const m of c.spans)
      if (isMap(m) && typeof m.name === 'string' && /tool_errors/.test(m.name)) return `${cid} ${m.name}`;
  }
  return undefined;
}

function jaegerStorageNote(o: Observations): string {
  if (!o.jaegerConfig)
    return "Jaeger's storage is not visible over its API (pass --jaeger-config to check for in-memory storage)";
  const ext = isMap(o.jaegerConfig.extensions) ? o.jaegerConfig.extensions : {};
  const storage = isMap(ext.jaeger_storage) ? ext.jaeger_storage : {};
  const backends = isMap(storage.backends) ? storage.backends : {};
  const kinds = Object.entries(backends).map(
    ([name, b]) => [name, isMap(b) ? (Object.keys(b)[0] ?? '?') : '?'] as const,
  );
  if (kinds.length === 0) return 'Jaeger config: no jaeger_storage backends found';
  const memory = kinds.filter(([, k]) => k === 'memory').map(([n]) => n);
  if (memory.length)
    return `note: Jaeger keeps traces in memory (backend ${memory.join(', ')}): they are lost on restart and evicted past max_traces, so the evidence log or a SIEM must hold the retained copy`;
  return `Jaeger storage: ${kinds.map(([n, k]) => `${n}=${k}${k === 'badger' ? badgerRetention(backends[n]) : ''}`).join(', ')}`;
}

// `ttl.spans` of an embedded Badger store; a `${env:NAME:-default}` placeholder reads as its default.
function badgerRetention(backend: unknown): string {
  const badger = isMap(backend) && isMap(backend.badger) ? backend.badger : {};
  const ttl = isMap(badger.ttl) ? badger.ttl.spans : undefined;
  if (typeof ttl !== 'string') return ' (on disk, retention not set)';
  const value = /^\$\{env:[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}$/.exec(ttl)?.[1] ?? ttl;
  const seconds = parseDuration(value);
  return ` (on disk, retention ttl.spans=${value}${seconds === null ? '' : ` = ${formatSeconds(seconds)}`})`;
}
