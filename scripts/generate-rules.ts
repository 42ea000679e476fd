#!/usr/bin/env node
// Generates collector/rules/mcp-audit-alerts.yml (Prometheus alerting rules) from
// collector/rules/thresholds.json, the one definition of every detection threshold.
//
//   npx tsx scripts/generate-rules.ts                 write the rules file
//   npx tsx scripts/generate-rules.ts --check         exit 1 if the committed file is stale
//   npx tsx scripts/generate-rules.ts --stdout        print instead of writing
//   options: --thresholds FILE  --out FILE  --jaeger-url URL (env MCP_AUDIT_JAEGER_URL)
//            --runbook-base URL (env MCP_AUDIT_RUNBOOK_BASE)
//
// Output is deterministic: the same thresholds and options always give the same bytes, and
// test/unit/rules.test.ts asserts that the committed file equals a fresh generation.
// docs/alerts.md explains the PromQL shapes used here and why (first samples, counter resets).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DURATION_BOUNDS, METRICS, RESULT_SIZE_BOUNDS } from '../src/detection/metrics.js';
import type { Thresholds } from '../src/detection/thresholds.js';

/** thresholds.json, as the generator reads it. */
export type RuleThresholds = Thresholds;

export interface GenerateOptions {
  /** Base URL of the Jaeger UI the trace_search annotation links to. */
  jaegerUrl: string;
  /** Where docs/alerts.md is served; the runbook annotation appends #anchor. */
  runbookBase: string;
}

export const DEFAULT_OPTIONS: GenerateOptions = {
  jaegerUrl: 'http://127.0.0.1:16686',
  runbookBase: 'docs/alerts.md',
};

export { METRICS, RESULT_SIZE_BOUNDS, DURATION_BOUNDS };

/** Span attributes the Jaeger links search by (src/instrumentation/semconv.ts). */
const TAG_SESSION = 'gen_ai.conversation.id';
const TAG_TOOL = 'gen_ai.tool.name';
const TAG_SERVER = 'mcp_audit.server.name';

const CALL_LABELS = ['session_id', 'tool', 'caller', 'server', 'service_name'];
const SESSION_LABELS = ['session_id', 'caller', 'service_name'];

// ---------------------------------------------------------------------------------------------
// Formatting helpers

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`bad duration ${seconds}`);
  if (seconds === 0) return '0s';
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  if (Number.isInteger(seconds)) return `${seconds}s`;
  return `${Math.round(seconds * 1000)}ms`;
}

export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1 && v % 1024 === 0) {
    v /= 1024;
    i++;
  }
  return `${v} ${units[i]}`;
}

/** Go's strconv.FormatFloat(v, 'g', -1, 64): how client_golang writes `le` label values. */
export function goFloat(v: number): string {
  if (v === 0) return '0';
  const [mant, expStr] = v.toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? '-' : '+';
    return `${mant}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(v);
}

/**
 * A regex matching every way a bucket bound is written as an `le` label: Go's %g form
 * ("1.048576e+06", client_golang and Prometheus 2.x), the plain decimal ("1048576") and
 * Prometheus 3's normalised form for integers ("1048576.0").
 */
export function leRegex(v: number): string {
  const forms = new Set([goFloat(v), String(v)]);
  if (Number.isInteger(v)) {
    for (const f of [...forms]) if (!/[.e]/.test(f)) forms.add(`${f}.0`);
  }
  return [...forms].map((f) => f.replace(/[.+]/g, (c) => `\\${c}`)).join('|');
}

function promString(s: string): string {
  return JSON.stringify(s);
}

function regexAlternation(values: string[]): string {
  return values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
}

type Matcher = [label: string, op: '=' | '!=' | '=~' | '!~', value: string];

function sel(metric: string, matchers: Matcher[] = []): string {
  if (matchers.length === 0) return metric;
  const m = matchers.map(([l, op, v]) =>
    op === '=~' || op === '!~' ? `${l}${op}\`${v}\`` : `${l}${op}${promString(v)}`,
  );
  return `${metric}{${m.join(', ')}}`;
}

function indent(s: string, n = 2): string {
  const pad = ' '.repeat(n);
  return s
    .split('\n')
    .map((l) => (l.length > 0 ? pad + l : l))
    .join('\n');
}

/**
 * Increase of counter series `s` over the last `w`, robust to series that start inside the window
 * and to counter resets. increase() cannot be used: it needs two samples, so a session whose
 * first scrape already shows 50 calls would count 0, and every session's series is new.
 *  - series that existed `w` ago and did not reset: exact difference (no extrapolation);
 *  - series born inside the window (no sample `w` ago) or reset inside it: the current value,
 *    i.e. everything counted since the series (re)started, which all happened inside the window.
 */
function windowIncrease(s: string, w: string): string {
  return `(\n  (${s} - ${s} offset ${w} >= 0 unless resets(${s}[${w}]) > 0)\n  or\n  ${s}\n)`;
}

function sumBy(labels: string[], inner: string): string {
  return `sum by (${labels.join(', ')}) (\n${indent(inner)}\n)`;
}

/**
 * Timestamps (at subquery resolution) at which counter series `s` changed or first appeared,
 * for use inside a subquery. Used to order events (an error, then a call to another tool).
 */
function changeTimes(s: string, step: string): string {
  return `timestamp((${s} != ${s} offset ${step}) or (${s} unless ${s} offset ${step}))`;
}

/**
 * Number of observations above `threshold` in the last `w` per `by` group, from a classic
 * histogram: exact when the threshold is a bucket bound (count - bucket{le=threshold}).
 * Between bounds lo < threshold < hi it fires when a call is certainly above the threshold:
 * some call was above hi, or the calls above lo averaged (lower bound, from _sum) above it.
 */
function observationsAbove(
  hist: string,
  bounds: readonly number[],
  threshold: number,
  matchers: Matcher[],
  w: string,
  by: string[],
): { expr: string; exact: boolean } {
  const count = sumBy(by, windowIncrease(sel(`${hist}_count`, matchers), w));
  const bucket = (le: number) =>
    sumBy(by, windowIncrease(sel(`${hist}_bucket`, [...matchers, ['le', '=~', leRegex(le)]]), w));
  if (bounds.includes(threshold)) {
    return { expr: `${count}\n-\n${bucket(threshold)}\n> 0`, exact: true };
  }
  const lo = Math.max(0, ...bounds.filter((b) => b < threshold));
  const hi = bounds.find((b) => b > threshold);
  const sum = sumBy(by, windowIncrease(sel(`${hist}_sum`, matchers), w));
  const above = lo === 0 ? count : `(\n${indent(count)}\n-\n${indent(bucket(lo))}\n)`;
  const lower = `(\n${indent(above)}\n  > 0\n)\nand\n(\n${indent(sum)}\n${
    lo === 0 ? '' : `  - ${lo} *\n${indent(count)}\n`
  }  >\n${indent(above)}\n  * ${threshold - lo}\n)`;
  if (hi === undefined) return { expr: lower, exact: false };
  return {
    expr: `(\n${indent(count)}\n-\n${indent(bucket(hi))}\n> 0\n)\nor\n(\n${indent(lower)}\n)`,
    exact: false,
  };
}

// ---------------------------------------------------------------------------------------------
// Rules

interface Rule {
  alert: string;
  expr: string;
  for: string;
  keepFiringFor?: string;
  labels: Record<string, string>;
  annotations: { summary: string; description: string; runbook: string; trace_search: string };
}

function jaegerSearch(
  opts: GenerateOptions,
  tags: Array<[string, string]>,
  extra: Array<[string, string]> = [],
): string {
  // Tag values are Go template expressions, so the JSON around them is encoded by hand and the
  // values by the template's urlquery function at alert time.
  const json =
    encodeURIComponent('{') +
    tags
      .map(([k, v]) => `${encodeURIComponent(`"${k}":"`)}${v}${encodeURIComponent('"')}`)
      .join(encodeURIComponent(','));
  const params = [
    `service={{ $labels.service_name | urlquery }}`,
    `tags=${json}${encodeURIComponent('}')}`,
    ...extra.map(([k, v]) => `${k}=${v}`),
  ];
  return `${opts.jaegerUrl.replace(/\/+$/, '')}/search?${params.join('&')}`;
}

const L = (name: string) => `{{ $labels.${name} | urlquery }}`;

function sessionTraces(opts: GenerateOptions, extra: Array<[string, string]> = []): string {
  return jaegerSearch(opts, [[TAG_SESSION, L('session_id')]], [...extra, ['limit', '1500']]);
}

function runbook(opts: GenerateOptions, alert: string): string {
  return `${opts.runbookBase}#${alert.toLowerCase()}`;
}

export function validateThresholds(t: RuleThresholds): void {
  const positive = (what: string, v: unknown) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      throw new Error(`${what} must be a positive number`);
  };
  positive('bulk_extraction.default_bytes', t.bulk_extraction.default_bytes);
  for (const [tool, v] of Object.entries(t.bulk_extraction.per_tool_bytes))
    positive(`per_tool_bytes.${tool}`, v);
  positive('call_frequency.max_calls', t.call_frequency.max_calls);
  positive('session_exfiltration.max_bytes', t.session_exfiltration.max_bytes);
  positive('session_exfiltration.max_calls', t.session_exfiltration.max_calls);
  positive('latency.p95_seconds', t.latency.p95_seconds);
  for (const [tool, v] of Object.entries(t.latency.per_tool_p95_seconds))
    positive(`per_tool_p95_seconds.${tool}`, v);
  if (!(DURATION_BOUNDS as readonly number[]).includes(t.latency.hanging_seconds)) {
    throw new Error(
      `latency.hanging_seconds must be a bucket bound of ${METRICS.duration} (${DURATION_BOUNDS.join(', ')})`,
    );
  }
  if (!(t.error_burst.ratio > 0 && t.error_burst.ratio < 1))
    throw new Error('error_burst.ratio must be in (0, 1)');
  for (const [what, list] of [
    ['missing_caller.sensitive_tools', t.missing_caller.sensitive_tools],
    ['data_then_egress.data_tools', t.data_then_egress.data_tools],
    ['data_then_egress.egress_tools', t.data_then_egress.egress_tools],
  ] as const) {
    if (!Array.isArray(list) || list.length === 0) throw new Error(`${what} must be a non-empty list`);
  }
  const overlap = t.data_then_egress.data_tools.filter((x) => t.data_then_egress.egress_tools.includes(x));
  if (overlap.length > 0) throw new Error(`tools both data and egress: ${overlap.join(', ')}`);
  const minData = t.data_then_egress.min_data_bytes;
  if (minData !== undefined && !(typeof minData === 'number' && Number.isFinite(minData) && minData >= 0))
    throw new Error('data_then_egress.min_data_bytes must be a number >= 0');
  const step = t.alerting?.subquery_step_seconds ?? 1;
  if (!Number.isInteger(step) || step < 1)
    throw new Error('alerting.subquery_step_seconds must be an integer >= 1');
}

export function buildRules(t: RuleThresholds, opts: GenerateOptions = DEFAULT_OPTIONS): Rule[] {
  validateThresholds(t);
  const rules: Rule[] = [];
  const eventWindow = duration(t.alerting?.event_window_seconds ?? 300);
  const keep = duration(t.alerting?.keep_firing_for_seconds ?? 300);
  const step = duration(t.alerting?.subquery_step_seconds ?? 1);

  // --- McpBulkExtraction: one rule for the default, one per tuned tool ---------------------------
  const bulk = t.bulk_extraction;
  // A per-tool value equal to the default needs no rule of its own (the default rule covers it).
  const tuned = Object.keys(bulk.per_tool_bytes)
    .filter((tool) => bulk.per_tool_bytes[tool] !== bulk.default_bytes)
    .sort();
  const bulkCases: Array<{ tool?: string; bytes: number }> = [
    { bytes: bulk.default_bytes },
    ...tuned.map((tool) => ({ tool, bytes: bulk.per_tool_bytes[tool]! })),
  ];
  for (const c of bulkCases) {
    const matchers: Matcher[] = c.tool
      ? [['tool', '=', c.tool]]
      : tuned.length > 0
        ? [['tool', '!~', regexAlternation(tuned)]]
        : [];
    const { expr, exact } = observationsAbove(
      METRICS.resultSize,
      RESULT_SIZE_BOUNDS,
      c.bytes,
      matchers,
      eventWindow,
      CALL_LABELS,
    );
    const which = c.tool
      ? `the per-tool threshold for ${c.tool}; the default is ${humanBytes(bulk.default_bytes)}`
      : `the default threshold${tuned.length > 0 ? `; tuned tools: ${tuned.join(', ')}` : ''}`;
    rules.push({
      alert: 'McpBulkExtraction',
      expr,
      for: '0s',
      keepFiringFor: keep,
      // `threshold` tells the receiver which threshold fired and keeps the rules distinct.
      labels: { severity: 'high', threshold: humanBytes(c.bytes) },
      annotations: {
        summary: `{{ $labels.tool }} returned more than ${humanBytes(c.bytes)} in a single call in session {{ $labels.session_id }} (caller {{ $labels.caller }}, server {{ $labels.server }}).`,
        description:
          (exact
            ? `{{ $value }} call(s) to {{ $labels.tool }} in the last ${eventWindow} returned more than ${humanBytes(c.bytes)} each`
            : `At least one call to {{ $labels.tool }} in the last ${eventWindow} returned more than ${humanBytes(c.bytes)}`) +
          ` (${c.bytes} bytes, ${which}). A result this large is how bulk data extraction shows up: check the call's arguments and result summary in the trace and whether the caller should read that much.`,
        runbook: runbook(opts, 'McpBulkExtraction'),
        trace_search: sessionTraces(opts),
      },
    });
  }

  // --- McpCallFrequencySpike ----------------------------------------------------------------------
  const freq = t.call_frequency;
  const freqWindow = duration(freq.window_seconds);
  rules.push({
    alert: 'McpCallFrequencySpike',
    expr: `${sumBy(SESSION_LABELS, windowIncrease(METRICS.calls, freqWindow))}\n> ${freq.max_calls}`,
    for: '0s',
    keepFiringFor: keep,
    labels: { severity: 'medium' },
    annotations: {
      summary: `Session {{ $labels.session_id }} made {{ $value }} tool calls within ${freqWindow} (caller {{ $labels.caller }}).`,
      description: `More than ${freq.max_calls} tools/call requests from one session within ${freqWindow}. Scripted loops and prompt-injected agents (for example a burst of slack_send) look like this; check which tools the session called and consider throttling it.`,
      runbook: runbook(opts, 'McpCallFrequencySpike'),
      trace_search: sessionTraces(opts),
    },
  });

  // --- McpSensitiveToolWithoutCaller --------------------------------------------------------------
  const sensitive = [...t.missing_caller.sensitive_tools].sort();
  rules.push({
    alert: 'McpSensitiveToolWithoutCaller',
    expr: `${sumBy(
      CALL_LABELS,
      windowIncrease(
        sel(METRICS.calls, [
          ['tool', '=~', regexAlternation(sensitive)],
          ['caller', '=~', 'none|'],
        ]),
        eventWindow,
      ),
    )}\n> 0`,
    for: '0s',
    keepFiringFor: keep,
    labels: { severity: 'critical' },
    annotations: {
      summary: `Sensitive tool {{ $labels.tool }} was called with no caller identity in session {{ $labels.session_id }} (server {{ $labels.server }}).`,
      description: `{{ $value }} call(s) to {{ $labels.tool }} in the last ${eventWindow} carried no caller identity. Calls to sensitive tools (${sensitive.join(', ')}) must be attributable to a user or service; an anonymous call means identity propagation is broken or the call did not come from an authenticated session.`,
      runbook: runbook(opts, 'McpSensitiveToolWithoutCaller'),
      trace_search: sessionTraces(opts),
    },
  });

  // --- McpErrorThenRetry -----------------------------------------------------------------------------
  const retryWindow = duration(t.error_then_retry.window_seconds);
  const firstError = `label_replace(\n  bottomk by (session_id) (\n    1,\n    min by (session_id, tool, error_type) (\n      min_over_time(${changeTimes(
    METRICS.errors,
    step,
  )}[${retryWindow}:${step}])\n    )\n  ),\n  "failed_tool", "$1", "tool", "(.*)"\n)`;
  const lastCalls = `max by (${CALL_LABELS.join(', ')}) (\n  max_over_time(${changeTimes(
    METRICS.calls,
    step,
  )}[${retryWindow}:${step}])\n)`;
  rules.push({
    alert: 'McpErrorThenRetry',
    expr: `(\n${indent(lastCalls)}\n  >= on (session_id) group_left (failed_tool, error_type)\n${indent(
      firstError,
    )}\n)\nunless on (session_id, tool)\n${firstError}`,
    for: '0s',
    keepFiringFor: keep,
    labels: { severity: 'high' },
    annotations: {
      summary: `In session {{ $labels.session_id }} a call to {{ $labels.failed_tool }} failed ({{ $labels.error_type }}) and {{ $labels.tool }} was called after it (caller {{ $labels.caller }}, server {{ $labels.server }}).`,
      description: `A failed call followed within ${retryWindow} by a call to a different tool is the shape of privilege probing: the agent was denied and tried another way. Check the error in the failed call's trace and what the following call did. Calls in the same scrape interval as the failure count as following it.`,
      runbook: runbook(opts, 'McpErrorThenRetry'),
      trace_search: sessionTraces(opts),
    },
  });

  // --- McpSessionExfiltration: bytes and calls ----------------------------------------------------
  const ex = t.session_exfiltration;
  const exWindow = duration(ex.window_seconds);
  rules.push({
    alert: 'McpSessionExfiltration',
    expr: `${sumBy(SESSION_LABELS, windowIncrease(METRICS.resultBytes, exWindow))}\n> ${ex.max_bytes}`,
    for: '0s',
    keepFiringFor: keep,
    labels: { severity: 'high', trigger: 'bytes' },
    annotations: {
      summary: `Session {{ $labels.session_id }} received {{ $value | humanize1024 }}B of tool results within ${exWindow} (caller {{ $labels.caller }}).`,
      description: `The session's tool results add up to more than ${humanBytes(ex.max_bytes)} (${ex.max_bytes} bytes) within ${exWindow}, across all its tools and servers. Individually small results that add up are how sustained exfiltration looks; check which tools returned the data and where the session sent it.`,
      runbook: runbook(opts, 'McpSessionExfiltration'),
      trace_search: sessionTraces(opts),
    },
  });
  rules.push({
    alert: 'McpSessionExfiltration',
    expr: `${sumBy(SESSION_LABELS, windowIncrease(METRICS.calls, exWindow))}\n> ${ex.max_calls}`,
    for: '0s',
    keepFiringFor: keep,
    labels: { severity: 'high', trigger: 'calls' },
    annotations: {
      summary: `Session {{ $labels.session_id }} made {{ $value }} tool calls within ${exWindow} (caller {{ $labels.caller }}).`,
      description: `More than ${ex.max_calls} tool calls from one session within ${exWindow}, across all its tools and servers. A long session of many small calls is how sustained low-volume exfiltration looks; check what the session read and whether a human is behind it.`,
      runbook: runbook(opts, 'McpSessionExfiltration'),
      trace_search: sessionTraces(opts),
    },
  });

  // --- McpDataThenEgress -------------------------------------------------------------------------------
  const de = t.data_then_egress;
  const deWindow = duration(de.window_seconds);
  const dataTools = [...de.data_tools].sort();
  const egressTools = [...de.egress_tools].sort();
  const dataSel: Matcher[] = [
    ['tool', '=~', regexAlternation(dataTools)],
    ['error_type', '=', 'none'],
  ];
  // With min_data_bytes, a data event is a subquery step at which the successful data calls of a
  // series returned at least that many bytes: the step's increase of the result-bytes counter,
  // where a series born since the previous step (the session's first data call, most often the
  // only one) or reset by a collector restart counts its whole current value. Per call (per scrape
  // interval), like src/demo/thresholds.ts; calls of one series in the same scrape add up.
  const minData = de.min_data_bytes ?? 0;
  const dataEvents =
    minData > 0
      ? (() => {
          const b = sel(METRICS.resultBytes, dataSel);
          return `timestamp(((${b} - ${b} offset ${step} >= 0) or ${b}) >= ${minData})`;
        })()
      : changeTimes(sel(METRICS.calls, dataSel), step);
  const firstData = `label_replace(\n  bottomk by (session_id) (\n    1,\n    min by (session_id, tool) (\n      min_over_time(${dataEvents}[${deWindow}:${step}])\n    )\n  ),\n  "data_tool", "$1", "tool", "(.*)"\n)`;
  const lastEgress = `max by (${CALL_LABELS.join(', ')}) (\n  max_over_time(${changeTimes(
    sel(METRICS.calls, [['tool', '=~', regexAlternation(egressTools)]]),
    step,
  )}[${deWindow}:${step}])\n)`;
  rules.push({
    alert: 'McpDataThenEgress',
    expr: `${lastEgress}\n>= on (session_id) group_left (data_tool)\n${firstData}`,
    for: '0s',
    keepFiringFor: keep,
    labels: { severity: 'high' },
    annotations: {
      summary: `Session {{ $labels.session_id }} called egress tool {{ $labels.tool }} after data tool {{ $labels.data_tool }} (caller {{ $labels.caller }}, server {{ $labels.server }}).`,
      description: `A data-returning tool (${dataTools.join(', ')}) succeeded${
        minData > 0 ? ` returning at least ${humanBytes(minData)} (${minData} bytes)` : ''
      } and an egress tool (${egressTools.join(', ')}) was called in the same session within ${deWindow} after it. Data read and then sent out is the exfiltration path; check what the egress call sent and to whom. Calls in the same scrape interval count as following each other.`,
      runbook: runbook(opts, 'McpDataThenEgress'),
      trace_search: sessionTraces(opts),
    },
  });

  // --- McpLatencySpike: default and per tool ------------------------------------------------------
  const lat = t.latency;
  const latWindow = duration(lat.window_seconds);
  const latTuned = Object.keys(lat.per_tool_p95_seconds)
    .filter((tool) => lat.per_tool_p95_seconds[tool] !== lat.p95_seconds)
    .sort();
  const latBy = ['tool', 'server', 'service_name'];
  const latCases: Array<{ tool?: string; seconds: number }> = [
    { seconds: lat.p95_seconds },
    ...latTuned.map((tool) => ({ tool, seconds: lat.per_tool_p95_seconds[tool]! })),
  ];
  for (const c of latCases) {
    const matchers: Matcher[] = c.tool
      ? [['tool', '=', c.tool]]
      : latTuned.length > 0
        ? [['tool', '!~', regexAlternation(latTuned)]]
        : [];
    const p95 = `histogram_quantile(\n  0.95,\n${indent(
      sumBy([...latBy, 'le'], windowIncrease(sel(`${METRICS.duration}_bucket`, matchers), latWindow)),
    )}\n)`;
    const count = sumBy(latBy, windowIncrease(sel(`${METRICS.duration}_count`, matchers), latWindow));
    const which = c.tool
      ? `the per-tool threshold for ${c.tool}; the default is ${lat.p95_seconds}s`
      : `the default threshold${latTuned.length > 0 ? `; tuned tools: ${latTuned.join(', ')}` : ''}`;
    rules.push({
      alert: 'McpLatencySpike',
      expr: `${p95}\n> ${c.seconds}\nand on (${latBy.join(', ')})\n${count}\n>= ${lat.min_calls ?? 1}`,
      for: duration(lat.for_seconds ?? 60),
      labels: { severity: 'medium', threshold: `${c.seconds}s` },
      annotations: {
        summary: `p95 latency of {{ $labels.tool }} on server {{ $labels.server }} is {{ $value | humanizeDuration }} over the last ${latWindow} (threshold ${c.seconds}s).`,
        description: `The 95th percentile duration of calls to {{ $labels.tool }} exceeds ${c.seconds}s (${which}). A slow tool can be an overloaded or failing backend, or a call doing far more work than usual (large queries, scans); check the slowest traces.`,
        runbook: runbook(opts, 'McpLatencySpike'),
        trace_search: jaegerSearch(
          opts,
          [[TAG_TOOL, L('tool')]],
          [
            ['minDuration', `${c.seconds}s`],
            ['limit', '100'],
          ],
        ),
      },
    });
  }

  // --- McpHangingCall -------------------------------------------------------------------------------
  const hang = duration(lat.hanging_seconds);
  rules.push({
    alert: 'McpHangingCall',
    expr: observationsAbove(
      METRICS.duration,
      DURATION_BOUNDS,
      lat.hanging_seconds,
      [],
      eventWindow,
      CALL_LABELS,
    ).expr,
    for: '0s',
    keepFiringFor: keep,
    labels: { severity: 'medium' },
    annotations: {
      summary: `A call to {{ $labels.tool }} in session {{ $labels.session_id }} ran longer than ${hang} (caller {{ $labels.caller }}, server {{ $labels.server }}).`,
      description: `{{ $value }} call(s) to {{ $labels.tool }} in the last ${eventWindow} took more than ${hang} to complete. Calls are recorded when they end, so this fires once the call returns, fails or times out; a tool that hangs holds the agent and may be stuck on an external resource or doing unbounded work.`,
      runbook: runbook(opts, 'McpHangingCall'),
      trace_search: sessionTraces(opts, [['minDuration', hang]]),
    },
  });

  // --- McpErrorBurst: per server and per tool --------------------------------------------------------
  const eb = t.error_burst;
  const ebWindow = duration(eb.window_seconds);
  for (const scope of ['server', 'tool'] as const) {
    const by = [scope, 'service_name'];
    const calls = sumBy(by, windowIncrease(METRICS.calls, ebWindow));
    const errors = sumBy(by, windowIncrease(METRICS.errors, ebWindow));
    rules.push({
      alert: 'McpErrorBurst',
      expr: `${errors}\n/\n${calls}\n> ${eb.ratio}\nand on (${by.join(', ')})\n${calls}\n>= ${eb.min_calls}`,
      for: duration(eb.for_seconds ?? 60),
      labels: { severity: 'medium', scope },
      annotations: {
        summary: `{{ $value | humanizePercentage }} of calls to ${scope} {{ $labels.${scope} }} failed over the last ${ebWindow} (threshold ${eb.ratio * 100}%).`,
        description: `More than ${eb.ratio * 100}% of at least ${eb.min_calls} calls to ${scope} {{ $labels.${scope} }} failed within ${ebWindow}. Errors must never be swallowed: look at the error types in the traces (permission denials suggest probing, timeouts and transport errors a failing backend).`,
        runbook: runbook(opts, 'McpErrorBurst'),
        trace_search: jaegerSearch(
          opts,
          [
            [scope === 'server' ? TAG_SERVER : TAG_TOOL, L(scope)],
            ['error', 'true'],
          ],
          [['limit', '100']],
        ),
      },
    });
  }

  return rules;
}

// ---------------------------------------------------------------------------------------------
// YAML

function yamlBlock(s: string, n: number): string {
  return indent(s, n);
}

export function renderRules(rules: Rule[]): string {
  const out: string[] = [
    '# GENERATED by scripts/generate-rules.ts from collector/rules/thresholds.json: do not edit by hand.',
    '# Edit thresholds.json, then run `npm run rules:generate`. Explained in docs/alerts.md.',
    'groups:',
    '  - name: mcp-audit',
    '    rules:',
  ];
  for (const r of rules) {
    out.push(`      - alert: ${r.alert}`);
    out.push('        expr: |-');
    out.push(yamlBlock(r.expr, 10));
    out.push(`        for: ${r.for}`);
    if (r.keepFiringFor) out.push(`        keep_firing_for: ${r.keepFiringFor}`);
    out.push('        labels:');
    for (const k of Object.keys(r.labels).sort()) out.push(`          ${k}: ${JSON.stringify(r.labels[k])}`);
    out.push('        annotations:');
    for (const k of ['summary', 'description', 'runbook', 'trace_search'] as const) {
      out.push(`          ${k}: ${JSON.stringify(r.annotations[k])}`);
    }
  }
  return out.join('\n') + '\n';
}

export function generateAlerts(t: RuleThresholds, opts: GenerateOptions = DEFAULT_OPTIONS): string {
  return renderRules(buildRules(t, opts));
}

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const THRESHOLDS_PATH = join(ROOT, 'collector/rules/thresholds.json');
export const ALERTS_PATH = join(ROOT, 'collector/rules/mcp-audit-alerts.yml');

export function loadThresholds(path = THRESHOLDS_PATH): RuleThresholds {
  return JSON.parse(readFileSync(path, 'utf8')) as RuleThresholds;
}

function main(argv: string[]): number {
  const opt = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const opts: GenerateOptions = {
    jaegerUrl: opt('--jaeger-url') ?? (process.env.MCP_AUDIT_JAEGER_URL || DEFAULT_OPTIONS.jaegerUrl),
    runbookBase: opt('--runbook-base') ?? (process.env.MCP_AUDIT_RUNBOOK_BASE || DEFAULT_OPTIONS.runbookBase),
  };
  const out = opt('--out') ?? ALERTS_PATH;
  const yaml = generateAlerts(loadThresholds(opt('--thresholds') ?? THRESHOLDS_PATH), opts);
  if (argv.includes('--stdout')) {
    process.stdout.write(yaml);
    return 0;
  }
  if (argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(out, 'utf8');
    } catch {
      /* missing counts as stale */
    }
    if (current !== yaml) {
      console.error(`${out} is stale: run npm run rules:generate`);
      return 1;
    }
    console.error(`${out} is up to date`);
    return 0;
  }
  writeFileSync(out, yaml);
  console.error(`wrote ${out}`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exit(main(process.argv.slice(2)));
}
