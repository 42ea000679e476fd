// The seed's "Red Flag Checklist" as checks over what sources.ts read. One function per line of the
// checklist, each pure: same observations, same answer (so they are cheap to test and to explain).
// ok: true = the red flag is absent (✓), false = present (✗), null = could not be checked (?).
// Evidence holds counts, names and settings only: never argument values or caller ids.

import type { AlertRule, JaegerData, PrometheusData, Settled, ToolCallSpan } from './sources.js';
import { isMap } from './sources.js';
import { MCP_ALERT_NAMES } from '../detection/alerts.js';

export interface Check {
  id: string;
  title: string;
  ok: boolean | null;
  evidence: string;
}

export interface Observations {
  /** As given, e.g. 1h. */
  lookback: string;
  /** Share of spans/calls (0..1) that must carry an attribute for the check to pass. */
  minShare: number;
  appRetention: { text: string; seconds: number };
  service: string | undefined;
  jaeger: Settled<JaegerData>;
  prometheus: PrometheusData;
  /** Merged collector config; undefined when no --collector-config was given. */
  collector: { files: string[]; config: Record<string, unknown> } | undefined;
  /** Merged Jaeger config; undefined when no --jaeger-config was given. */
  jaegerConfig: Record<string, unknown> | undefined;
}

/** The alert rules the seed asks for: bulk, frequency, missing caller, latency (collector/rules). */
export const REQUIRED_ALERTS = {
  bulk: 'McpBulkExtraction',
  frequency: 'McpCallFrequencySpike',
  'missing caller': 'McpSensitiveToolWithoutCaller',
  latency: 'McpLatencySpike',
} as const;
/** Every alert collector/rules defines; the rest are reported as extras. */
export const MCP_ALERTS: readonly string[] = MCP_ALERT_NAMES;

/** The checklist in the seed's order. */
export function runChecks(o: Observations): Check[] {
  return [
    callsRecorded(o),
    parametersLogged(o),
    callerIdentity(o),
    resultSizes(o),
    siemForwarding(o),
    alertRules(o),
    retention(o),
    errorsRecorded(o),
    userCorrelation(o),
    latencyAlerts(o),
  ];
}

// ---- the ten checks -----------------------------------------------------------------------------

export function callsRecorded(o: Observations): Check {
  const jaeger: Part = !o.jaeger.ok
    ? unknown(o.jaeger.error)
    : o.jaeger.value.spans.length === 0
      ? fail(`Jaeger: no tools/call spans in the last ${o.lookback}${searchedIn(o.jaeger.value)}`)
      : pass(`Jaeger: ${spanSummary(o.jaeger.value, o.lookback)}`);
  const calls = o.prometheus.calls;
  const prom: Part = !calls.ok
    ? unknown(calls.error)
    : calls.value === null || calls.value === 0
      ? fail(`Prometheus: no mcp_audit_tool_calls_total${forService(o)} in the last ${o.lookback}`)
      : pass(`Prometheus: mcp_audit_tool_calls_total${forService(o)} = ${fmt(calls.value)}`);
  return combine('calls_recorded', 'MCP tool calls are recorded', [jaeger, prom]);
}

export function parametersLogged(o: Observations): Check {
  return combine('parameters', 'Tool calls are logged with their parameters', [
    spanShare(o, 'gen_ai.tool.call.arguments', (s) => s.hasArguments),
  ]);
}

export function callerIdentity(o: Observations): Check {
  return combine('caller_identity', 'Caller identity is attached to tool calls', [
    spanShare(o, 'enduser.id', (s) => s.hasCaller),
    promShare(o, o.prometheus.callsWithCaller, 'caller!="none"'),
  ]);
}

export function resultSizes(o: Observations): Check {
  return combine('result_size', 'Result payloads are measured (size)', [
    spanShare(o, 'mcp_audit.result.size', (s) => s.hasResultSize),
  ]);
}

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
  for (const [, p] of traces) {
    const list = isMap(p) && Array.isArray(p.exporters) ? p.exporters : [];
    for (const e of list) {
      if (typeof e !== 'string' || e in connectors || !(e in exporters)) continue;
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
      evidence: `${read}: traces pipelines export only to ${[...local].sort().join(', ') || 'nothing'} (Jaeger, files, the evidence sink are not a SIEM); add collector/siem.yaml or your SIEM's exporter`,
    };
  return {
    id,
    title,
    ok: true,
    evidence: `${read}: traces pipeline exports to ${[...routes].sort().join(', ')}`,
  };
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

export function alertRules(o: Observations): Check {
  const id = 'alert_rules';
  const title = 'Alerting rules for unusual MCP patterns are loaded';
  const rules = o.prometheus.alertRules;
  if (!rules.ok) return { id, title, ok: null, evidence: rules.error };
  const r = ruleStatus(rules.value);
  const kinds = Object.entries(REQUIRED_ALERTS).map(
    ([kind, name]) => `${kind} ${r.loaded.has(name) ? '✓' : '✗'}`,
  );
  const failing = r.failing.filter((n) => n.startsWith('Mcp'));
  const others = MCP_ALERTS.filter(
    (n) => r.loaded.has(n) && !Object.values(REQUIRED_ALERTS).includes(n as never),
  );
  const missing = Object.values(REQUIRED_ALERTS).filter((n) => !r.loaded.has(n));
  const parts = [
    `${Object.keys(REQUIRED_ALERTS).length - missing.length}/${Object.keys(REQUIRED_ALERTS).length} required (${kinds.join(', ')})`,
    missing.length ? `missing: ${missing.join(', ')}` : '',
    failing.length ? `failing to evaluate: ${failing.join(', ')}` : '',
    others.length ? `also loaded: ${others.join(', ')}` : '',
    `${new Set(rules.value.map((x) => x.name)).size} distinct alert name(s) in Prometheus`,
  ].filter(Boolean);
  return { id, title, ok: missing.length === 0, evidence: parts.join('; ') };
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
    evidence: `Prometheus retention ${setting}${setting.endsWith(formatDuration(seconds)) ? '' : ` (${formatDuration(seconds)})`} ${ok ? '≥' : '<'} ${app}; ${jaegerNote}`,
  };
}

export function errorsRecorded(o: Observations): Check {
  const id = 'errors_recorded';
  const title = 'Tool errors are recorded, not swallowed';
  const parts: Part[] = [];
  if (!o.jaeger.ok) parts.push(unknown(o.jaeger.error));
  else {
    const failed = o.jaeger.value.spans.filter((s) => s.failed);
    const typed = failed.filter((s) => s.hasErrorType).length;
    if (failed.length === 0)
      parts.push(unknown(`Jaeger: no failed tools/call spans in the last ${o.lookback}`));
    else
      parts.push(
        typed / failed.length >= o.minShare
          ? pass(`Jaeger: ${share(typed, failed.length)} failed tools/call spans carry error.type`)
          : fail(`Jaeger: only ${share(typed, failed.length)} failed tools/call spans carry error.type`),
      );
  }
  const errors = o.prometheus.errors;
  if (!errors.ok) parts.push(unknown(errors.error));
  else if (errors.value === null)
    parts.push(unknown(`Prometheus: no mcp_audit_tool_errors_total series in the last ${o.lookback}`));
  else parts.push(pass(`Prometheus: mcp_audit_tool_errors_total${forService(o)} = ${fmt(errors.value)}`));
  // Failed spans without error.type are errors swallowed on their way to the audit trail (the
  // errors counter cannot count them either): that wins. Otherwise either source showing errors
  // is enough. When both sources were read and simply saw no errors in the window, a collector
  // config that counts errors is the remaining evidence.
  const read = o.jaeger.ok && errors.ok;
  const configured = read ? errorMetricConfigured(o) : undefined;
  const ok = parts.some((p) => p.ok === false)
    ? false
    : parts.some((p) => p.ok === true)
      ? true
      : configured
        ? true
        : null;
  const tail =
    configured && ok === true && !parts.some((p) => p.ok === true)
      ? [`collector config counts errors (${configured}); none seen in the window to confirm`]
      : [];
  return { id, title, ok, evidence: [...parts.map((p) => p.text), ...tail].join('; ') };
}

export function userCorrelation(o: Observations): Check {
  return combine('user_correlation', 'Each call can be tied back to the user who triggered the agent', [
    spanShare(o, 'enduser.id and gen_ai.conversation.id', (s) => s.hasCaller && s.hasSession),
    promShare(o, o.prometheus.callsWithCallerAndSession, 'caller!="none" and session_id!="none"'),
  ]);
}

export function latencyAlerts(o: Observations): Check {
  const id = 'latency_alerts';
  const title = 'Latency spikes in MCP calls generate alerts';
  const rules = o.prometheus.alertRules;
  if (!rules.ok) return { id, title, ok: null, evidence: rules.error };
  const r = ruleStatus(rules.value);
  const ok = r.loaded.has('McpLatencySpike');
  const failing = r.failing.filter((n) => n === 'McpLatencySpike' || n === 'McpHangingCall');
  const evidence = [
    `McpLatencySpike (p95 latency) ${ok ? 'loaded' : 'not loaded'}`,
    `McpHangingCall ${r.loaded.has('McpHangingCall') ? 'loaded' : 'not loaded'}`,
    failing.length ? `failing to evaluate: ${failing.join(', ')}` : '',
  ].filter(Boolean);
  return { id, title, ok, evidence: evidence.join('; ') };
}

// ---- verdict ------------------------------------------------------------------------------------

export interface Verdict {
  passed: number;
  failed: number;
  unknown: number;
  /** ✗ plus ?: a line that could not be checked is not evidence of coverage. */
  gaps: number;
  significantGap: boolean;
  text: string;
}

/** The seed: "If three or more boxes are checked, you have a significant logging gap." */
export const GAP_THRESHOLD = 3;

export function verdict(checks: Check[]): Verdict {
  const passed = checks.filter((c) => c.ok === true).length;
  const failed = checks.filter((c) => c.ok === false).length;
  const unknown = checks.filter((c) => c.ok === null).length;
  const gaps = failed + unknown;
  const significantGap = gaps >= GAP_THRESHOLD;
  const counted = unknown ? ` (${failed} ✗ + ${unknown} ? counted as ✗)` : '';
  const text = significantGap
    ? `significant logging gap: ${gaps} of ${checks.length} red flags${counted}`
    : `no significant logging gap: ${gaps} of ${checks.length} red flags${counted}, fewer than ${GAP_THRESHOLD}`;
  return { passed, failed, unknown, gaps, significantGap, text };
}

// ---- durations ----------------------------------------------------------------------------------

const UNIT_SECONDS: Record<string, number> = {
  y: 365 * 86400,
  w: 7 * 86400,
  d: 86400,
  h: 3600,
  m: 60,
  s: 1,
  ms: 0.001,
};

/** Prometheus-style duration (30d, 1h30m, 90s, 1y) in seconds; null when malformed or zero. */
export function parseDuration(text: string): number | null {
  if (!/^(\d+(ms|y|w|d|h|m|s))+$/.test(text)) return null;
  let total = 0;
  for (const m of text.matchAll(/(\d+)(ms|y|w|d|h|m|s)/g)) total += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
  return total > 0 ? total : null;
}

/** Largest whole units, e.g. 1296000 → 15d, 5400 → 1h30m. */
export function formatDuration(seconds: number): string {
  let rest = Math.round(seconds);
  const out: string[] = [];
  for (const [u, s] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= s) {
      out.push(`${Math.floor(rest / s)}${u}`);
      rest %= s;
    }
  }
  return out.join('') || '0s';
}

// ---- helpers ------------------------------------------------------------------------------------

interface Part {
  ok: boolean | null;
  text: string;
}
const pass = (text: string): Part => ({ ok: true, text });
const fail = (text: string): Part => ({ ok: false, text });
const unknown = (text: string): Part => ({ ok: null, text });

/** Any source showing the red flag fails the line; all sources clean passes it; otherwise unknown. */
function combine(id: string, title: string, parts: Part[]): Check {
  const ok = parts.some((p) => p.ok === false) ? false : parts.every((p) => p.ok === true) ? true : null;
  return { id, title, ok, evidence: parts.map((p) => p.text).join('; ') };
}

function spanShare(o: Observations, attribute: string, has: (s: ToolCallSpan) => boolean): Part {
  if (!o.jaeger.ok) return unknown(o.jaeger.error);
  const spans = o.jaeger.value.spans;
  if (spans.length === 0) return unknown(`Jaeger: no tools/call spans in the last ${o.lookback} to inspect`);
  const n = spans.filter(has).length;
  const text = `Jaeger: ${share(n, spans.length)} tools/call spans carry ${attribute}`;
  if (n / spans.length >= o.minShare) return pass(text);
  // Name the tools that lack it: that is where to look first.
  const lacking = [...new Set(spans.filter((s) => !has(s)).map((s) => s.tool ?? '(no tool name)'))].sort();
  return fail(`${text} (below ${pct(o.minShare)}; lacking in ${list(lacking)})`);
}

function promShare(o: Observations, part: Settled<number | null>, selector: string): Part {
  const calls = o.prometheus.calls;
  if (!calls.ok) return unknown(calls.error);
  if (!part.ok) return unknown(part.error);
  if (calls.value === null || calls.value === 0)
    return unknown(
      `Prometheus: no mcp_audit_tool_calls_total${forService(o)} in the last ${o.lookback} to inspect`,
    );
  const n = part.value ?? 0;
  const text = `Prometheus: ${share(n, calls.value)} of mcp_audit_tool_calls_total have ${selector}`;
  return n / calls.value >= o.minShare ? pass(text) : fail(`${text} (below ${pct(o.minShare)})`);
}

function ruleStatus(rules: AlertRule[]): { loaded: Set<string>; failing: string[] } {
  // A rule that cannot evaluate never fires, so it is loaded on paper only. Several rules share a
  // name (the default and per-tool variants): the alert counts as loaded while one of them works.
  const loaded = new Set(rules.filter((r) => r.health !== 'err').map((r) => r.name));
  const failing = [...new Set(rules.filter((r) => r.health === 'err').map((r) => r.name))].sort();
  return { loaded, failing };
}

function errorMetricConfigured(o: Observations): string | undefined {
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
  return `Jaeger storage: ${kinds.map(([n, k]) => `${n}=${k}`).join(', ')}`;
}

function spanSummary(j: JaegerData, lookback: string): string {
  const services = [...new Set(j.spans.map((s) => s.service))].sort();
  const tools = [...new Set(j.spans.map((s) => s.tool ?? '(no tool name)'))].sort();
  const sample = j.limited.length ? ` (search limit reached for ${list(j.limited)}: a sample)` : '';
  return `${j.spans.length} tools/call spans in the last ${lookback}${sample} from ${services.length} service(s) (${list(services)}), ${tools.length} tool(s) (${list(tools)})`;
}

function searchedIn(j: JaegerData): string {
  return j.searched.length === 0
    ? ' (Jaeger lists no services)'
    : ` (searched ${j.searched.length} service(s))`;
}

function forService(o: Observations): string {
  return o.service ? `{service_name="${o.service}"}` : '';
}

function list(names: string[], max = 8): string {
  return names.length <= max
    ? names.join(', ')
    : `${names.slice(0, max).join(', ')}, +${names.length - max} more`;
}

const pct = (x: number): string => `${Math.round(x * 1000) / 10}%`;
const share = (n: number, d: number): string => `${fmt(n)}/${fmt(d)} (${pct(d ? n / d : 0)})`;
const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(1));
