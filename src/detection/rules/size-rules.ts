// The alerts on how much a call or a session did: bulk results, session volume, call frequency, and
// sensitive tools called without a caller identity. One function per alert.
import { METRICS, RESULT_SIZE_BOUNDS } from '../metrics.js';
import {
  durationLiteral,
  humanBytes,
  observationsAbove,
  regexAlternation,
  sel,
  sumBy,
  windowIncrease,
} from './promql.js';
import {
  CALL_LABELS,
  perToolCases,
  runbook,
  sessionTraces,
  SESSION_LABELS,
  type Rule,
  type RuleContext,
} from './rule.js';

/** One call returned more than the threshold: one rule for the default, one per tuned tool. */
export function bulkExtraction({ thresholds: t, opts, eventWindow, keep }: RuleContext): Rule[] {
  const rules: Rule[] = [];
  const bulk = t.bulk_extraction;
  const { tuned, cases } = perToolCases(bulk.default_bytes, bulk.per_tool_bytes);
  for (const c of cases) {
    const { expr, exact } = observationsAbove(
      METRICS.resultSize,
      RESULT_SIZE_BOUNDS,
      c.limit,
      c.matchers,
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
      labels: { severity: 'high', threshold: humanBytes(c.limit) },
      annotations: {
        summary: `{{ $labels.tool }} returned more than ${humanBytes(c.limit)} in a single call in session {{ $labels.session_id }} (caller {{ $labels.caller }}, server {{ $labels.server }}).`,
        description:
          (exact
            ? `{{ $value }} call(s) to {{ $labels.tool }} in the last ${eventWindow} returned more than ${humanBytes(c.limit)} each`
            : `At least one call to {{ $labels.tool }} in the last ${eventWindow} returned more than ${humanBytes(c.limit)}`) +
          ` (${c.limit} bytes, ${which}). A result this large is how bulk data extraction shows up: check the call's arguments and result summary in the trace and whether the caller should read that much.`,
        runbook: runbook(opts, 'McpBulkExtraction'),
        trace_search: sessionTraces(opts),
      },
    });
  }
  return rules;
}

/** A session's result bytes, or its call count, over the window: one rule each. */
export function sessionExfiltration({ thresholds: t, opts, keep }: RuleContext): Rule[] {
  const rules: Rule[] = [];
  const ex = t.session_exfiltration;
  const exWindow = durationLiteral(ex.window_seconds);
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
  return rules;
}

/** A session made more tool calls than the threshold within the window. */
export function callFrequencySpike({ thresholds: t, opts, keep }: RuleContext): Rule[] {
  const rules: Rule[] = [];
  const freq = t.call_frequency;
  const freqWindow = durationLiteral(freq.window_seconds);
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
  return rules;
}

/** A sensitive tool was called with no caller identity. */
export function sensitiveToolWithoutCaller({ thresholds: t, opts, eventWindow, keep }: RuleContext): Rule[] {
  const rules: Rule[] = [];
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
  return rules;
}
