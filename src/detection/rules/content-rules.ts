// The alerts on what a call touched and on calls still running, from the signals the
// instrumentation derives at the source (risk tags of the raw arguments, LLM turn ids, in-flight
// markers): the collector counts them per session and tool, these rules read the counts.
import { METRICS } from '../metrics.js';
import {
  durationLiteral,
  indent,
  leRegex,
  regexAlternation,
  sel,
  sumBy,
  windowIncrease,
  type Matcher,
} from './promql.js';
import { CALL_LABELS, runbook, sessionTraces, type Rule, type RuleContext } from './rule.js';

const byCall = (metric: string, matchers: Matcher[], window: string) =>
  sumBy(CALL_LABELS, windowIncrease(sel(metric, matchers), window));

/** A write tool given a path under a system or credential location, whoever the caller. */
export function systemPathWrite({ thresholds: t, opts, eventWindow, keep }: RuleContext): Rule[] {
  const tools = [...t.system_write.write_tools].sort();
  return [
    {
      alert: 'McpSystemPathWrite',
      expr: `${byCall(
        METRICS.riskyCalls,
        [
          ['tool', '=~', regexAlternation(tools)],
          ['system_path', '=', 'true'],
        ],
        eventWindow,
      )}\n> 0`,
      for: '0s',
      keepFiringFor: keep,
      labels: { severity: 'critical' },
      annotations: {
        summary: `{{ $labels.tool }} was called with a system or credential path in session {{ $labels.session_id }} (caller {{ $labels.caller }}, server {{ $labels.server }}).`,
        description: `{{ $value }} call(s) to a write tool (${tools.join(', ')}) in the last ${eventWindow} named a path under a system or credential location (argument_risk.system_paths, credential_names). Writing to cron, systemd, /etc or ~/.ssh is how a backdoor is planted, whoever the caller is; check the path and content in the trace and the file on the server's host.`,
        runbook: runbook(opts, 'McpSystemPathWrite'),
        trace_search: sessionTraces(opts),
      },
    },
  ];
}

/** A whole-table read (no WHERE, LIMIT) through a sensitive tool. */
export function unboundedRead({ thresholds: t, opts, eventWindow, keep }: RuleContext): Rule[] {
  const tools = [...t.unbounded_read.sensitive_tools].sort();
  return [
    {
      alert: 'McpUnboundedRead',
      expr: `${byCall(
        METRICS.riskyCalls,
        [
          ['tool', '=~', regexAlternation(tools)],
          ['unbounded_read', '=', 'true'],
        ],
        eventWindow,
      )}\n> 0`,
      for: '0s',
      keepFiringFor: keep,
      labels: { severity: 'high' },
      annotations: {
        summary: `{{ $labels.tool }} read a whole table in session {{ $labels.session_id }} (caller {{ $labels.caller }}, server {{ $labels.server }}).`,
        description: `{{ $value }} call(s) to a sensitive tool (${tools.join(', ')}) in the last ${eventWindow} ran a SELECT with no WHERE, LIMIT, TOP or FETCH: every row of the table, whatever its size today. Check which table, whether the caller needed all of it, and where the rows went next.`,
        runbook: runbook(opts, 'McpUnboundedRead'),
        trace_search: sessionTraces(opts),
      },
    },
  ];
}

/** A sensitive write with no LLM turn, in a session whose other calls carry turn ids. */
export function writeWithoutTurn({ thresholds: t, opts, eventWindow, keep }: RuleContext): Rule[] {
  const wt = t.write_without_turn;
  const tools = [...wt.write_tools].sort();
  const window = durationLiteral(wt.window_seconds);
  const writes: Matcher[] = [['tool', '=~', regexAlternation(tools)]];
  const allWrites = byCall(METRICS.calls, writes, eventWindow);
  const turnWrites = byCall(METRICS.turnCalls, writes, eventWindow);
  const sessionTurns = sumBy(['session_id'], windowIncrease(METRICS.turnCalls, window));
  return [
    {
      alert: 'McpWriteWithoutTurn',
      expr: `(\n${indent(allWrites)}\n  -\n  (\n${indent(turnWrites, 4)}\n    or\n${indent(allWrites, 4)}\n    * 0\n  )\n) > 0\nand on (session_id)\n${sessionTurns}\n> 0`,
      for: '0s',
      keepFiringFor: keep,
      labels: { severity: 'high' },
      annotations: {
        summary: `{{ $labels.tool }} ran outside any LLM turn in session {{ $labels.session_id }}, whose other calls carry turn ids (caller {{ $labels.caller }}, server {{ $labels.server }}).`,
        description: `{{ $value }} call(s) to a sensitive write tool (${tools.join(', ')}) in the last ${eventWindow} carried no mcp_audit.turn.id while the session made calls within LLM turns in the last ${window}. A write no user prompt led to is a sub-task or injected code acting on its own; check what started it.`,
        runbook: runbook(opts, 'McpWriteWithoutTurn'),
        trace_search: sessionTraces(opts),
      },
    },
  ];
}

/**
 * A call still in flight longer than the hanging threshold. Calls running at the in-flight mark
 * (M seconds) emit a marker, so `marks` counts calls that reached M; every call ending after M is
 * in the duration histogram above the M bucket. Markers of calls started more than hanging - M
 * seconds before the mark outnumbering the calls that ended slower than M means at least one of
 * them is still running past the hanging threshold.
 */
export function hangingInFlight({ thresholds: t, opts }: RuleContext): Rule[] {
  const lat = t.latency;
  const hang = durationLiteral(lat.hanging_seconds);
  const mark = lat.in_flight_mark_seconds;
  if (!(mark > 0)) return [];
  const age = durationLiteral(lat.hanging_seconds - mark);
  const marked = sumBy(CALL_LABELS, `${METRICS.inFlightMarks} offset ${age}`);
  const count = sumBy(CALL_LABELS, `${METRICS.duration}_count`);
  const fast = sumBy(CALL_LABELS, sel(`${METRICS.duration}_bucket`, [['le', '=~', leRegex(mark)]]));
  return [
    {
      alert: 'McpHangingCall',
      expr: `${marked}\n-\n(\n${indent(`${count}\n-\n${fast}`)}\n  or\n${indent(marked)}\n  * 0\n)\n> 0`,
      for: '0s',
      labels: { severity: 'medium', state: 'in_flight' },
      annotations: {
        summary: `A call to {{ $labels.tool }} in session {{ $labels.session_id }} has been running for more than ${hang} and has not returned (caller {{ $labels.caller }}, server {{ $labels.server }}).`,
        description: `{{ $value }} call(s) to {{ $labels.tool }} are still in flight more than ${hang} after they started (seen from the marker a call emits when still running at ${mark}s). A tool that hangs holds the agent and may be stuck on an external resource or doing unbounded work; this alert resolves when the call ends, and the returned-call variant of McpHangingCall takes over.`,
        runbook: runbook(opts, 'McpHangingCall'),
        trace_search: sessionTraces(opts),
      },
    },
  ];
}
