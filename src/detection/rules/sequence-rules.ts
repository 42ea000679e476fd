// The alerts on the order of events in a session: a failure then another tool, data then egress.
// One function per alert. An event's time is the subquery step at which its counter changed;
// recording rules keep, at every evaluation, the event times of the last `ordering_record_seconds`,
// so the alerts read those few recorded samples over their window instead of a subquery over
// minutes, plus the window's first `ordering_record_seconds` from the counters (docs/alerts.md).
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
import { CALL_LABELS, runbook, sessionTraces, type Recording, type Rule, type RuleContext } from './rule.js';

/** The recorded event times the ordering alerts read (values are Unix times in seconds). */
export const ORDERING_RECORDS = {
  /** Per call series: the latest step at which its call counter changed, within the look-back. */
  lastCall: 'mcp_audit:tool_call_time:last',
  /** Per session, tool and error type: the earliest step at which a failure was counted. */
  firstError: 'mcp_audit:tool_error_time:first',
  /** Per session and data tool: the earliest data event (see dataEvents). */
  firstData: 'mcp_audit:data_event_time:first',
} as const;

const ERROR_LABELS = ['session_id', 'tool', 'error_type'];
const DATA_LABELS = ['session_id', 'tool'];

function dataSelectors(ctx: RuleContext): Matcher[] {
  const dataTools = [...ctx.thresholds.data_then_egress.data_tools].sort();
  return [
    ['tool', '=~', regexAlternation(dataTools)],
    ['error_type', '=', 'none'],
  ];
}

/**
 * Steps at which a data tool succeeded returning at least min_data_bytes or personal data.
 * With min_data_bytes, a data event is a subquery step at which the successful data calls of a
 * series returned at least that many bytes: the step's increase of the result-bytes counter,
 * where a series born since the previous step (the session's first data call, most often the
 * only one) or reset by a collector restart counts its whole current value. Per call (per scrape
 * interval), like src/demo/thresholds.ts; calls of one series in the same scrape add up.
 * A successful data call whose result held personal data (any class the instrumentation's scan
 * found) is a data event whatever its size.
 */
function dataEvents(ctx: RuleContext): string {
  const { step } = ctx;
  const dataSel = dataSelectors(ctx);
  const minData = ctx.thresholds.data_then_egress.min_data_bytes ?? 0;
  const sizeEvents =
    minData > 0
      ? (() => {
          const b = sel(METRICS.resultBytes, dataSel);
          return `timestamp(((${b} - ${b} offset ${step} >= 0) or ${b}) >= ${minData})`;
        })()
      : changeTimes(sel(METRICS.calls, dataSel), step);
  return `(\n  ${sizeEvents}\n  or\n  ${changeTimes(sel(METRICS.piiResultCalls, dataSel), step)}\n)`;
}

/** `agg by (labels)` of the event times of `times` over the last `seconds`, at subquery steps. */
function recent(agg: 'min' | 'max', labels: string[], times: string, seconds: number, step: string): string {
  return `${agg} by (${labels.join(', ')}) (\n  ${agg}_over_time(${times}[${durationLiteral(seconds)}:${step}])\n)`;
}

/** The recording rules of the ordering alerts, evaluated before them in the same group. */
export function orderingRecordings(ctx: RuleContext): Recording[] {
  const { step, recordSeconds: r } = ctx;
  return [
    {
      record: ORDERING_RECORDS.lastCall,
      expr: recent('max', CALL_LABELS, changeTimes(METRICS.calls, step), r, step),
    },
    {
      record: ORDERING_RECORDS.firstError,
      expr: recent('min', ERROR_LABELS, changeTimes(METRICS.errors, step), r, step),
    },
    { record: ORDERING_RECORDS.firstData, expr: recent('min', DATA_LABELS, dataEvents(ctx), r, step) },
  ];
}

/**
 * `agg by (labels)` of the event times in the last `windowSeconds`, the same steps a subquery
 * over the whole window would visit: every recording of the last window - R covers the R before
 * it, so together they cover the window but its first R, which a subquery of R over the raw
 * series (`offset` window - R) adds. Exact while every evaluation ran (or at most R - interval
 * was skipped) and samples were stored within R - interval of their scrape.
 */
function overWindow(
  ctx: RuleContext,
  agg: 'min' | 'max',
  labels: string[],
  recorded: string,
  times: string,
  windowSeconds: number,
): string {
  if (ctx.orderingByWindowSubquery) return recent(agg, labels, times, windowSeconds, ctx.step);
  const rest = durationLiteral(windowSeconds - ctx.recordSeconds);
  const first = durationLiteral(ctx.recordSeconds);
  return `${agg} by (${labels.join(', ')}) (\n  label_replace(${agg}_over_time(${recorded}[${rest}]), "part", "recorded", "", "")\n  or\n  label_replace(${agg}_over_time(${times}[${first}:${ctx.step}] offset ${rest}), "part", "first", "", "")\n)`;
}

/** The earliest event per session (one series), its tool renamed to `label`. */
function firstPerSession(inner: string, label: string): string {
  return `label_replace(\n  bottomk by (session_id) (\n    1,\n${indent(inner, 4)}\n  ),\n  "${label}", "$1", "tool", "(.*)"\n)`;
}

/** A failed call followed by a call to a different tool in the same session. */
export function errorThenRetry(ctx: RuleContext): Rule[] {
  const { thresholds: t, opts, keep, step } = ctx;
  const w = t.error_then_retry.window_seconds;
  const retryWindow = durationLiteral(w);
  const firstError = firstPerSession(
    overWindow(ctx, 'min', ERROR_LABELS, ORDERING_RECORDS.firstError, changeTimes(METRICS.errors, step), w),
    'failed_tool',
  );
  const lastCalls = overWindow(
    ctx,
    'max',
    CALL_LABELS,
    ORDERING_RECORDS.lastCall,
    changeTimes(METRICS.calls, step),
    w,
  );
  return [
    {
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
    },
  ];
}

/** A data tool succeeded, then an egress tool was called in the same session. */
export function dataThenEgress(ctx: RuleContext): Rule[] {
  const { thresholds: t, opts, keep, step } = ctx;
  const de = t.data_then_egress;
  const w = de.window_seconds;
  const deWindow = durationLiteral(w);
  const dataTools = [...de.data_tools].sort();
  const egressTools = [...de.egress_tools].sort();
  const minData = de.min_data_bytes ?? 0;
  const egress: Matcher[] = [['tool', '=~', regexAlternation(egressTools)]];
  const firstData = firstPerSession(
    overWindow(ctx, 'min', DATA_LABELS, ORDERING_RECORDS.firstData, dataEvents(ctx), w),
    'data_tool',
  );
  const lastEgress = overWindow(
    ctx,
    'max',
    CALL_LABELS,
    sel(ORDERING_RECORDS.lastCall, egress),
    changeTimes(sel(METRICS.calls, egress), step),
    w,
  );
  return [
    {
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
    },
  ];
}
