// The MCP logging "Red Flag Checklist" as checks over what sources.ts read. One function per line of the
// checklist, each pure: same observations, same answer (so they are cheap to test and to explain).
// ok: true = the red flag is absent (✓), false = present (✗), null = could not be checked (?).
// Evidence holds counts, names and settings only: never argument values or caller ids.

import type { JaegerData, ToolCallSpan } from './jaeger.js';
import type { AlertRule } from './prometheus.js';
import type { Settled } from './sources.js';
import { errorMetricConfigured, retention, siemForwarding } from './config-checks.js';
import type { Check, Observations } from './observations.js';
import { MCP_ALERT_NAMES } from '../detection/alerts.js';
import { METRICS } from '../detection/metrics.js';
import {
  ATTR_ENDUSER_ID,
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_MCP_AUDIT_RESULT_SIZE,
} from '../semconv.js';
import { combine, fail, fmt, list, pass, pct, share, unknown, type Part } from './evidence-text.js';

/** The alert rules the checklist asks for: bulk, frequency, missing caller, latency (collector/rules). */
export const REQUIRED_ALERTS = {
  bulk: 'McpBulkExtraction',
  frequency: 'McpCallFrequencySpike',
  'missing caller': 'McpSensitiveToolWithoutCaller',
  latency: 'McpLatencySpike',
} as const;

/** The checklist, in its order. */
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
      ? fail(`Prometheus: no ${METRICS.calls}${forService(o)} in the last ${o.lookback}`)
      : pass(`Prometheus: ${METRICS.calls}${forService(o)} = ${fmt(calls.value)}`);
  return combine('calls_recorded', 'MCP tool calls are recorded', [jaeger, prom]);
}

export function parametersLogged(o: Observations): Check {
  return combine('parameters', 'Tool calls are logged with their parameters', [
    spanShare(o, ATTR_GEN_AI_TOOL_CALL_ARGUMENTS, (s) => s.hasArguments),
  ]);
}

export function callerIdentity(o: Observations): Check {
  return combine('caller_identity', 'Caller identity is attached to tool calls', [
    spanShare(o, ATTR_ENDUSER_ID, (s) => s.hasCaller),
    promShare(o, o.prometheus.callsWithCaller, 'caller!="none"'),
  ]);
}

export function resultSizes(o: Observations): Check {
  return combine('result_size', 'Result payloads are measured (size)', [
    spanShare(o, ATTR_MCP_AUDIT_RESULT_SIZE, (s) => s.hasResultSize),
  ]);
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
  const others = MCP_ALERT_NAMES.filter(
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
          ? pass(`Jaeger: ${share(typed, failed.length)} failed tools/call spans carry ${ATTR_ERROR_TYPE}`)
          : fail(
              `Jaeger: only ${share(typed, failed.length)} failed tools/call spans carry ${ATTR_ERROR_TYPE}`,
            ),
      );
  }
  const errors = o.prometheus.errors;
  if (!errors.ok) parts.push(unknown(errors.error));
  else if (errors.value === null)
    parts.push(unknown(`Prometheus: no ${METRICS.errors} series in the last ${o.lookback}`));
  else parts.push(pass(`Prometheus: ${METRICS.errors}${forService(o)} = ${fmt(errors.value)}`));
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
    spanShare(o, `${ATTR_ENDUSER_ID} and ${ATTR_GEN_AI_CONVERSATION_ID}`, (s) => s.hasCaller && s.hasSession),
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

/** The checklist: "If three or more boxes are checked, you have a significant logging gap." */
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

// ---- helpers ------------------------------------------------------------------------------------

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
    return unknown(`Prometheus: no ${METRICS.calls}${forService(o)} in the last ${o.lookback} to inspect`);
  const n = part.value ?? 0;
  const text = `Prometheus: ${share(n, calls.value)} of ${METRICS.calls} have ${selector}`;
  return n / calls.value >= o.minShare ? pass(text) : fail(`${text} (below ${pct(o.minShare)})`);
}

function ruleStatus(rules: AlertRule[]): { loaded: Set<string>; failing: string[] } {
  // A rule that cannot evaluate never fires, so it is loaded on paper only. Several rules share a
  // name (the default and per-tool variants): the alert counts as loaded while one of them works.
  const loaded = new Set(rules.filter((r) => r.health !== 'err').map((r) => r.name));
  const failing = [...new Set(rules.filter((r) => r.health === 'err').map((r) => r.name))].sort();
  return { loaded, failing };
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
