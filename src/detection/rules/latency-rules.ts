// The alerts on how calls ended: slow tools, hanging calls, bursts of errors. One function per alert.
import { ATTR_GEN_AI_TOOL_NAME, ATTR_MCP_AUDIT_SERVER_NAME, METRIC_TOOL_LATENCY } from '../../semconv.js';
import { DURATION_BOUNDS, METRICS } from '../metrics.js';
import { durationLiteral, indent, observationsAbove, sel, sumBy, windowIncrease } from './promql.js';
import {
  CALL_LABELS,
  jaegerSearch,
  labelRef,
  perToolCases,
  runbook,
  sessionTraces,
  type Recording,
  type Rule,
  type RuleContext,
} from './rule.js';

/** A tool's p95 latency over the threshold: one rule for the default, one per tuned tool. */
export function latencySpike({ thresholds: t, opts }: RuleContext): Rule[] {
  const rules: Rule[] = [];
  const lat = t.latency;
  const latWindow = durationLiteral(lat.window_seconds);
  const { tuned: latTuned, cases } = perToolCases(lat.p95_seconds, lat.per_tool_p95_seconds);
  const latBy = ['tool', 'server', 'service_name'];
  for (const c of cases) {
    const matchers = c.matchers;
    const p95 = `histogram_quantile(\n  0.95,\n${indent(
      sumBy([...latBy, 'le'], windowIncrease(sel(`${METRIC_TOOL_LATENCY}_bucket`, matchers), latWindow)),
    )}\n)`;
    const count = sumBy(latBy, windowIncrease(sel(`${METRIC_TOOL_LATENCY}_count`, matchers), latWindow));
    const which = c.tool
      ? `the per-tool threshold for ${c.tool}; the default is ${lat.p95_seconds}s`
      : `the default threshold${latTuned.length > 0 ? `; tuned tools: ${latTuned.join(', ')}` : ''}`;
    rules.push({
      alert: 'McpLatencySpike',
      expr: `${p95}\n> ${c.limit}\nand on (${latBy.join(', ')})\n${count}\n>= ${lat.min_calls ?? 1}`,
      for: durationLiteral(lat.for_seconds ?? 60),
      labels: { severity: 'medium', threshold: `${c.limit}s` },
      annotations: {
        summary: `p95 latency of {{ $labels.tool }} on server {{ $labels.server }} is {{ $value | humanizeDuration }} over the last ${latWindow} (threshold ${c.limit}s).`,
        description: `The 95th percentile duration of calls to {{ $labels.tool }} exceeds ${c.limit}s (${which}). A slow tool can be an overloaded or failing backend, or a call doing far more work than usual (large queries, scans); check the slowest traces.`,
        runbook: runbook(opts, 'McpLatencySpike'),
        trace_search: jaegerSearch(
          opts,
          [[ATTR_GEN_AI_TOOL_NAME, labelRef('tool')]],
          [
            ['minDuration', `${c.limit}s`],
            ['limit', '100'],
          ],
        ),
      },
    });
  }
  return rules;
}

/** A single call ran longer than the hanging threshold. */
export function hangingCall({ thresholds: t, opts, eventWindow, keep }: RuleContext): Rule[] {
  const rules: Rule[] = [];
  const lat = t.latency;
  const hang = durationLiteral(lat.hanging_seconds);
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
  return rules;
}

/** Labels of McpErrorBurst's recorded sums: both its scopes are sums of these. */
const ERROR_BURST_LABELS = ['tool', 'server', 'service_name'];

/** The recorded calls and errors of McpErrorBurst's window, per tool and server. */
function errorBurstRecords(t: RuleContext['thresholds']): { calls: string; errors: string } {
  const w = durationLiteral(t.error_burst.window_seconds);
  return { calls: `mcp_audit:tool_calls:increase${w}`, errors: `mcp_audit:tool_errors:increase${w}` };
}

/**
 * McpErrorBurst's window increases, summed per tool and server: read once per evaluation, where
 * its two scopes read every session's counters three times each. A sum of these sums is the sum
 * of the series (whole counts, so exactly), so the alerts give what they gave on the counters.
 */
export function errorBurstRecordings({ thresholds: t }: RuleContext): Recording[] {
  const w = durationLiteral(t.error_burst.window_seconds);
  const records = errorBurstRecords(t);
  return [
    { record: records.calls, expr: sumBy(ERROR_BURST_LABELS, windowIncrease(METRICS.calls, w)) },
    { record: records.errors, expr: sumBy(ERROR_BURST_LABELS, windowIncrease(METRICS.errors, w)) },
  ];
}

/** A server's or a tool's error ratio over the window: one rule per scope, on the recorded sums. */
export function errorBurst({ thresholds: t, opts }: RuleContext): Rule[] {
  const rules: Rule[] = [];
  const eb = t.error_burst;
  const ebWindow = durationLiteral(eb.window_seconds);
  const records = errorBurstRecords(t);
  for (const scope of ['server', 'tool'] as const) {
    const by = [scope, 'service_name'];
    const calls = sumBy(by, records.calls);
    const errors = sumBy(by, records.errors);
    rules.push({
      alert: 'McpErrorBurst',
      expr: `${errors}\n/\n${calls}\n> ${eb.ratio}\nand on (${by.join(', ')})\n${calls}\n>= ${eb.min_calls}`,
      for: durationLiteral(eb.for_seconds ?? 60),
      labels: { severity: 'medium', scope },
      annotations: {
        summary: `{{ $value | humanizePercentage }} of calls to ${scope} {{ $labels.${scope} }} failed over the last ${ebWindow} (threshold ${eb.ratio * 100}%).`,
        description: `More than ${eb.ratio * 100}% of at least ${eb.min_calls} calls to ${scope} {{ $labels.${scope} }} failed within ${ebWindow}. Errors must never be swallowed: look at the error types in the traces (permission denials suggest probing, timeouts and transport errors a failing backend).`,
        runbook: runbook(opts, 'McpErrorBurst'),
        trace_search: jaegerSearch(
          opts,
          [
            [scope === 'server' ? ATTR_MCP_AUDIT_SERVER_NAME : ATTR_GEN_AI_TOOL_NAME, labelRef(scope)],
            ['error', 'true'],
          ],
          [['limit', '100']],
        ),
      },
    });
  }
  return rules;
}
