// The alerts on the order of events in a session: a failure then another tool, data then egress.
// One function per alert; both order events by subquery timestamps (docs/alerts.md).
import { METRICS } from '../metrics.js';
import {
  changeTimes,
  durationLiteral,
  humanBytes,
  indent,
  regexAlternation,
  sel,
  type Matcher,
} from './promql.js';
import { CALL_LABELS, runbook, sessionTraces, type Rule, type RuleContext } from './rule.js';

/** A failed call followed by a call to a different tool in the same session. */
export function errorThenRetry({ thresholds: t, opts, keep, step }: RuleContext): Rule[] {
  const rules: Rule[] = [];
  const retryWindow = durationLiteral(t.error_then_retry.window_seconds);
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
  return rules;
}

/** A data tool succeeded, then an egress tool was called in the same session. */
export function dataThenEgress({ thresholds: t, opts, keep, step }: RuleContext): Rule[] {
  const rules: Rule[] = [];
  const de = t.data_then_egress;
  const deWindow = durationLiteral(de.window_seconds);
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
  // A successful data call whose result held personal data (any class the instrumentation's scan
  // found) is a data event whatever its size.
  const minData = de.min_data_bytes ?? 0;
  const sizeEvents =
    minData > 0
      ? (() => {
          const b = sel(METRICS.resultBytes, dataSel);
          return `timestamp(((${b} - ${b} offset ${step} >= 0) or ${b}) >= ${minData})`;
        })()
      : changeTimes(sel(METRICS.calls, dataSel), step);
  const dataEvents = `(
  ${sizeEvents}
  or
  ${changeTimes(sel(METRICS.piiResultCalls, dataSel), step)}
)`;
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
        minData > 0 ? ` returning at least ${humanBytes(minData)} (${minData} bytes) or personal data` : ' '
      } and an egress tool (${egressTools.join(', ')}) was called in the same session within ${deWindow} after it. Data read and then sent out is the exfiltration path; check what the egress call sent and to whom. Calls in the same scrape interval count as following each other.`,
      runbook: runbook(opts, 'McpDataThenEgress'),
      trace_search: sessionTraces(opts),
    },
  });
  return rules;
}
