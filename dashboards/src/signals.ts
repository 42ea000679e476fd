// The panels of the detection signals derived at the source from what a call touched: the risk
// tags of its arguments, results that held personal data or secrets, and calls still running at
// the in-flight mark. One row on each dashboard, with that dashboard's matchers. Prometheus counts
// calls, never content: which classes a result held is on the call's span
// (mcp_audit.result.pii.classes and .class_counts), which the trace links open.
import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as TableBuilder } from '@grafana/grafana-foundation-sdk/table';
import { RISK_TAGS } from '../../src/instrumentation/argument-risk.js';
import { DEFAULT_IN_FLIGHT_MARK_SECONDS } from '../../src/instrumentation/signal-defaults.js';
import {
  JAEGER,
  JaegerSearchBuilder,
  METRICS as M,
  organize,
  prom,
  rangeCount,
  sessionLink,
  toolLink,
} from './common.js';
import { Ids, row, table, timeseries } from './panels.js';

/** The span attribute of the in-flight marker spans (src/instrumentation/in-flight.ts). */
export const IN_FLIGHT_TAG = 'mcp_audit.in_flight';
const RISK = RISK_TAGS.join(', ');
const RATE = '[$__rate_interval]';
const MARK = `${DEFAULT_IN_FLIGHT_MARK_SECONDS} s`;
/** Counted in the time range, reset-aware (common.ts). */
const total = (metric: string, matchers: string) => rangeCount(`${metric}{${matchers}}`);
const TITLE = 'What the calls touched';

const riskDescription =
  `Calls whose raw arguments carried a risk tag (mcp_audit.arguments.risk: ${RISK}), one true/false ` +
  'column per tag; derived before redaction, never the argument text.';
const piiDescription =
  'Calls whose result held personal data or secrets (the redaction engine found mcp_audit.result.pii.count > 0 ' +
  'matches in it). Which classes: mcp_audit.result.pii.classes on the call’s span — open its trace.';
const inFlightDescription =
  `Tool calls still running ${MARK} after they started (one marker span each): a call that hangs is seen ` +
  'while it hangs. Exemplars (dots) open the trace of a sample call when the collector attaches them.';

/** The overview's row: sessions with risky arguments or personal data, calls in flight by tool. */
export function overviewSignals(
  b: DashboardBuilder,
  ids: Ids,
  y: number,
  matchers: string,
): DashboardBuilder {
  return b
    .withRow(row(ids, TITLE, y))
    .withPanel(
      table(ids, { x: 0, y: y + 1, w: 9, h: 9 }, 'Risky arguments by session and tool', riskDescription)
        .withTarget(
          prom('A', `sum by (session_id, tool, ${RISK}) (${total(M.riskyCalls, matchers)})`, {
            instant: true,
            table: true,
          }),
        )
        .withTransformation(organize(['session_id', 'tool', ...RISK_TAGS, 'Value'], { Value: 'calls' }))
        .overrideByName('session_id', [sessionLink()])
        .overrideByName('tool', [toolLink()]),
    )
    .withPanel(
      table(ids, { x: 9, y: y + 1, w: 7, h: 9 }, 'Personal data returned by session and tool', piiDescription)
        .withTarget(
          prom('A', `sum by (session_id, tool) (${total(M.piiResultCalls, matchers)})`, {
            instant: true,
            table: true,
          }),
        )
        .withTransformation(organize(['session_id', 'tool', 'Value'], { Value: 'calls' }))
        .overrideByName('session_id', [sessionLink()])
        .overrideByName('tool', [toolLink()]),
    )
    .withPanel(
      timeseries(
        ids,
        { x: 16, y: y + 1, w: 8, h: 9 },
        `Calls in flight past ${MARK}, by tool`,
        inFlightDescription,
        'short',
      ).withTarget(
        prom('A', `sum by (tool) (increase(${M.inFlightMarks}{${matchers}}${RATE}))`, {
          legend: '{{tool}}',
          exemplar: true,
        }),
      ),
    );
}

/** The session's row: its risky and personal-data calls by tool, its calls in flight and their traces. */
export function sessionSignals(
  b: DashboardBuilder,
  ids: Ids,
  y: number,
  matchers: string,
  sessionTag: string,
): DashboardBuilder {
  return b
    .withRow(row(ids, TITLE, y))
    .withPanel(
      table(ids, { x: 0, y: y + 1, w: 9, h: 8 }, 'Risky arguments by tool', riskDescription)
        .withTarget(
          prom('A', `sum by (tool, ${RISK}) (${total(M.riskyCalls, matchers)})`, {
            instant: true,
            table: true,
          }),
        )
        .withTransformation(organize(['tool', ...RISK_TAGS, 'Value'], { Value: 'calls' }))
        .overrideByName('tool', [toolLink()]),
    )
    .withPanel(
      table(ids, { x: 9, y: y + 1, w: 7, h: 8 }, 'Personal data returned by tool', piiDescription)
        .withTarget(
          prom('A', `sum by (tool) (${total(M.piiResultCalls, matchers)})`, { instant: true, table: true }),
        )
        .withTransformation(organize(['tool', 'Value'], { Value: 'calls' }))
        .overrideByName('tool', [toolLink()]),
    )
    .withPanel(
      timeseries(
        ids,
        { x: 16, y: y + 1, w: 8, h: 8 },
        `Calls in flight past ${MARK}`,
        inFlightDescription,
        'short',
      ).withTarget(
        prom('A', `sum by (tool) (increase(${M.inFlightMarks}{${matchers}}${RATE}))`, {
          legend: '{{tool}}',
          exemplar: true,
        }),
      ),
    )
    .withPanel(
      new TableBuilder()
        .id(ids.take())
        .gridPos({ x: 0, y: y + 9, w: 24, h: 8 })
        .title(`Traces of calls that ran past ${MARK}`)
        .description(
          `Jaeger search: service $service, tags ${sessionTag}=$session_id and ${IN_FLIGHT_TAG}=true (the marker spans). ` +
            'Click a Trace ID to open the call’s trace while it still runs; its own span joins the trace when the call ends.',
        )
        .datasource(JAEGER)
        .withTarget(
          new JaegerSearchBuilder('A', '$service')
            .tags(`${sessionTag}="$session_id" ${IN_FLIGHT_TAG}="true"`)
            .limit(100),
        ),
    );
}

/** The tool's row: its calls with risk tags and personal data over time, its calls in flight, by session. */
export function toolSignals(b: DashboardBuilder, ids: Ids, y: number, matchers: string): DashboardBuilder {
  return b
    .withRow(row(ids, TITLE, y))
    .withPanel(
      timeseries(
        ids,
        { x: 0, y: y + 1, w: 12, h: 8 },
        'Risky arguments and personal data, calls/s',
        `${riskDescription} ${piiDescription}`,
        'reqps',
      )
        .withTarget(
          prom('A', `sum by (${RISK}) (rate(${M.riskyCalls}{${matchers}}${RATE}))`, {
            legend: `risk ${RISK_TAGS.map((t) => `${t}={{${t}}}`).join(' ')}`,
            exemplar: true,
          }),
        )
        .withTarget(
          prom('B', `sum(rate(${M.piiResultCalls}{${matchers}}${RATE}))`, {
            legend: 'personal data in the result',
            exemplar: true,
          }),
        ),
    )
    .withPanel(
      table(
        ids,
        { x: 12, y: y + 1, w: 12, h: 8 },
        `Sessions with calls in flight past ${MARK}`,
        `${inFlightDescription} Click a session to open its in-flight traces.`,
      )
        .withTarget(
          prom('A', `sum by (session_id, caller) (${total(M.inFlightMarks, matchers)})`, {
            instant: true,
            table: true,
          }),
        )
        .withTransformation(organize(['session_id', 'caller', 'Value'], { Value: 'calls past the mark' }))
        .overrideByName('session_id', [sessionLink()]),
    );
}
