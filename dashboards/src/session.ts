// MCP session: one agent session (gen_ai.conversation.id = the session_id label): its calls,
// tools, bytes, errors, callers and servers from Prometheus, and its traces from Jaeger.
import {
  DashboardBuilder,
  DashboardCursorSync,
  type Dashboard,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as TableBuilder } from '@grafana/grafana-foundation-sdk/table';
import {
  JAEGER,
  JaegerSearchBuilder,
  METRICS as M,
  UID,
  jaegerVariable,
  labelVariable,
  organize,
  prom,
  rangeCount,
  prometheusVariable,
  toolLink,
  mcpDashboardsMenu,
} from './common.js';
import { sessionSignals } from './signals.js';
import { Ids, alarmingStat, row, stat, table, timeseries } from './panels.js';

const S = 'session_id="$session_id"';
const RATE = '[$__rate_interval]';
/** The session's totals in the time range, reset-aware (common.ts). */
const total = (metric: string) => rangeCount(`${metric}{${S}}`);

/** The span attribute that carries the session in Jaeger (docs/architecture.md, "The span contract"). */
export const SESSION_TAG = 'gen_ai.conversation.id';

export function session(): Dashboard {
  const ids = new Ids();
  const dashboard = new DashboardBuilder('MCP session')
    .uid(UID.session)
    .description('One agent session: its MCP tool calls (Prometheus) and their traces (Jaeger).')
    .tags(['mcp-audit', 'mcp'])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .time({ from: 'now-6h', to: 'now' })
    .refresh('30s')
    .timezone('browser')
    .withVariable(prometheusVariable())
    .withVariable(jaegerVariable())
    .withVariable(labelVariable('session_id', 'Session', `label_values(${M.calls}, session_id)`))
    .withVariable(
      labelVariable(
        'service',
        'Service (Jaeger)',
        `label_values(${M.calls}{${S}}, service_name)`,
      ).description(
        'The OpenTelemetry service.name whose spans Jaeger searches for this session (Jaeger search needs one).',
      ),
    )
    .link(mcpDashboardsMenu())
    .withPanel(
      stat(
        ids,
        { x: 0, y: 0, w: 4, h: 4 },
        'Calls',
        'Tool calls this session made.',
        'short',
        prom('A', `sum(${total(M.calls)})`, { instant: true }),
      ),
    )
    .withPanel(
      alarmingStat(
        ids,
        { x: 4, y: 0, w: 4, h: 4 },
        'Errors',
        'Tool calls of this session that failed.',
        'short',
        1,
        prom('A', `sum(${total(M.errors)}) or vector(0)`, { instant: true }),
      ),
    )
    .withPanel(
      stat(
        ids,
        { x: 8, y: 0, w: 4, h: 4 },
        'Result bytes',
        'Bytes of tool results this session received.',
        'bytes',
        prom('A', `sum(${total(M.resultBytes)})`, { instant: true }),
      ),
    )
    .withPanel(
      table(
        ids,
        { x: 12, y: 0, w: 12, h: 8 },
        'Callers and servers',
        'Who called (enduser.id; "none" = no identity) and which MCP servers answered.',
      )
        .withTarget(prom('A', `sum by (caller, server) (${total(M.calls)})`, { instant: true, table: true }))
        .withTransformation(organize(['caller', 'server', 'Value'], { Value: 'calls' })),
    )
    .withPanel(
      alarmingStat(
        ids,
        { x: 0, y: 4, w: 12, h: 4 },
        'Firing alerts for this session',
        'MCP alerts firing now with this session_id (see the overview for the list).',
        'short',
        1,
        prom('A', `count(ALERTS{alertname=~"Mcp.*", alertstate="firing", ${S}}) or vector(0)`, {
          instant: true,
        }),
      ),
    )
    .withRow(row(ids, 'Calls', 8))
    .withPanel(
      timeseries(
        ids,
        { x: 0, y: 9, w: 12, h: 8 },
        'Calls/s by tool',
        "The session's tool calls over time.",
        'reqps',
      ).withTarget(prom('A', `sum by (tool) (rate(${M.calls}{${S}}${RATE}))`, { legend: '{{tool}}' })),
    )
    .withPanel(
      table(
        ids,
        { x: 12, y: 9, w: 12, h: 8 },
        'Tools used',
        'Every tool the session called, with calls, errors and result bytes. Click a tool to open it.',
      )
        .withTarget(prom('A', `sum by (tool, server) (${total(M.calls)})`, { instant: true, table: true }))
        .withTarget(prom('B', `sum by (tool, server) (${total(M.errors)})`, { instant: true, table: true }))
        .withTarget(
          prom('C', `sum by (tool, server) (${total(M.resultBytes)})`, { instant: true, table: true }),
        )
        .withTransformation({ id: 'merge', options: {} })
        .withTransformation(
          organize(['tool', 'server', 'Value #A', 'Value #B', 'Value #C'], {
            'Value #A': 'calls',
            'Value #B': 'errors',
            'Value #C': 'result bytes',
          }),
        )
        .overrideByName('tool', [toolLink()])
        .overrideByName('result bytes', [{ id: 'unit', value: 'bytes' }]),
    )
    .withPanel(
      table(ids, { x: 0, y: 17, w: 12, h: 7 }, 'Errors by tool and type', 'error.type of the failed calls.')
        .withTarget(
          prom('A', `sum by (tool, error_type) (${total(M.errors)})`, { instant: true, table: true }),
        )
        .withTransformation(organize(['tool', 'error_type', 'Value'], { Value: 'errors' }))
        .overrideByName('tool', [toolLink()]),
    )
    .withPanel(
      timeseries(
        ids,
        { x: 12, y: 17, w: 12, h: 7 },
        'Result bytes/s by tool',
        'Data the session pulled through each tool.',
        'Bps',
      ).withTarget(prom('A', `sum by (tool) (rate(${M.resultBytes}{${S}}${RATE}))`, { legend: '{{tool}}' })),
    )
    .withPanel(
      timeseries(
        ids,
        { x: 0, y: 24, w: 12, h: 8 },
        'Latency p95 by tool',
        'Exemplars (dots) open the trace of a sample call when the collector attaches them.',
        's',
      ).withTarget(
        prom('A', `histogram_quantile(0.95, sum by (le, tool) (rate(${M.duration}_bucket{${S}}${RATE})))`, {
          legend: 'p95 {{tool}}',
          exemplar: true,
        }),
      ),
    )
    .withPanel(
      timeseries(
        ids,
        { x: 12, y: 24, w: 12, h: 8 },
        'Result size p95 by tool',
        'Size of one result; exemplars open the trace of a sample call.',
        'bytes',
      ).withTarget(
        prom('A', `histogram_quantile(0.95, sum by (le, tool) (rate(${M.resultSize}_bucket{${S}}${RATE})))`, {
          legend: 'p95 {{tool}}',
          exemplar: true,
        }),
      ),
    )
    .withRow(row(ids, 'Traces', 32))
    .withPanel(
      new TableBuilder()
        .id(ids.take())
        .gridPos({ x: 0, y: 33, w: 24, h: 10 })
        .title('Traces of this session')
        .description(
          `Jaeger search: service $service, tag ${SESSION_TAG}=$session_id. Click a Trace ID to open the trace view (span attributes: gen_ai.tool.name, enduser.id, mcp.method.name, redacted arguments).`,
        )
        .datasource(JAEGER)
        .withTarget(new JaegerSearchBuilder('A', '$service').tags(`${SESSION_TAG}="$session_id"`).limit(100)),
    );
  return sessionSignals(dashboard, ids, 43, S, SESSION_TAG).build();
}
