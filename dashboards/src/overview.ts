// MCP overview: traffic, errors, latency and data volume across every session, with the
// sessions and alerts that need a look. Tables link to the session and tool dashboards.
import {
  DashboardBuilder,
  DashboardCursorSync,
  type Dashboard,
} from '@grafana/grafana-foundation-sdk/dashboard';
import {
  METRICS as M,
  TOOL_LATENCY,
  UID,
  labelVariable,
  organize,
  prom,
  rangeCount,
  prometheusVariable,
  sessionLink,
  toolLink,
  mcpDashboardsMenu,
} from './common.js';
import { overviewSignals } from './signals.js';
import { overviewPipeline } from './pipeline.js';
import { Ids, alarmingStat, row, stat, table, timeseries } from './panels.js';

const S = 'server=~"$server"';
/** Below the signals row. */
const PIPELINE_ROW_Y = 58;
const RATE = '[$__rate_interval]';
/** Counted in the time range, reset-aware (common.ts). */
const total = (metric: string, matchers: string) => rangeCount(`${metric}{${matchers}}`);

export function overview(): Dashboard {
  const ids = new Ids();
  const dashboard = new DashboardBuilder('MCP overview')
    .uid(UID.overview)
    .description('Model Context Protocol tool calls across every audited session (mcp-audit).')
    .tags(['mcp-audit', 'mcp'])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .time({ from: 'now-1h', to: 'now' })
    .refresh('30s')
    .timezone('browser')
    .withVariable(prometheusVariable())
    .withVariable(
      labelVariable('server', 'Server', `label_values(${M.calls}, server)`)
        .multi(true)
        .includeAll(true)
        .allValue('.*'),
    )
    .link(mcpDashboardsMenu())
    .withPanel(
      stat(
        ids,
        { x: 0, y: 0, w: 4, h: 4 },
        'Tool calls/s',
        'All tools/call requests per second.',
        'reqps',
        prom('A', `sum(rate(${M.calls}{${S}}${RATE}))`),
      ),
    )
    .withPanel(
      alarmingStat(
        ids,
        { x: 4, y: 0, w: 4, h: 4 },
        'Error ratio',
        'Share of tool calls that failed (JSON-RPC error, isError result, timeout, cancellation, transport failure or policy denial). 0 when no call failed; empty when there were no calls.',
        'percentunit',
        0.2,
        prom('A', `(sum(rate(${M.errors}{${S}}${RATE})) or vector(0)) / sum(rate(${M.calls}{${S}}${RATE}))`),
      ),
    )
    .withPanel(
      stat(
        ids,
        { x: 8, y: 0, w: 4, h: 4 },
        'Sessions',
        'Agent sessions (gen_ai.conversation.id) that made tool calls in the time range.',
        'short',
        prom('A', `count(count by (session_id) (${total(M.calls, S)}))`, { instant: true }),
      ),
    )
    .withPanel(
      alarmingStat(
        ids,
        { x: 12, y: 0, w: 6, h: 4 },
        'Calls without caller identity',
        'Tool calls with no enduser.id (caller="none"), made in the time range. Every call should be attributable to a user or service.',
        'short',
        1,
        prom('A', `sum(${total(M.calls, `caller="none", ${S}`)}) or vector(0)`, { instant: true }),
      ),
    )
    .withPanel(
      alarmingStat(
        ids,
        { x: 18, y: 0, w: 6, h: 4 },
        'Firing MCP alerts',
        'Alerts from collector/rules/ firing now (Prometheus ALERTS series).',
        'short',
        1,
        prom('A', 'count(ALERTS{alertname=~"Mcp.*", alertstate="firing"}) or vector(0)', { instant: true }),
      ),
    )
    .withRow(row(ids, 'Traffic and errors', 4))
    .withPanel(
      timeseries(
        ids,
        { x: 0, y: 5, w: 12, h: 8 },
        'Tool calls/s by tool and server',
        'tools/call requests per second, per tool and MCP server.',
        'reqps',
      ).withTarget(
        prom('A', `sum by (tool, server) (rate(${M.calls}{${S}}${RATE}))`, {
          legend: '{{tool}} @ {{server}}',
        }),
      ),
    )
    .withPanel(
      timeseries(
        ids,
        { x: 12, y: 5, w: 12, h: 8 },
        'Error ratio by tool',
        'Failed calls / all calls, per tool (only tools that failed at least once in the window appear).',
        'percentunit',
      )
        .max(1)
        .withTarget(
          prom(
            'A',
            `sum by (tool) (rate(${M.errors}{${S}}${RATE})) / sum by (tool) (rate(${M.calls}{${S}}${RATE}))`,
            {
              legend: '{{tool}}',
            },
          ),
        ),
    )
    .withPanel(
      timeseries(
        ids,
        { x: 0, y: 13, w: 12, h: 8 },
        'Errors/s by type',
        'error.type: a JSON-RPC code, tool_error (isError result), timeout, cancelled, transport_error or policy_denied.',
        'reqps',
      ).withTarget(
        prom('A', `sum by (tool, error_type) (rate(${M.errors}{${S}}${RATE}))`, {
          legend: '{{tool}}: {{error_type}}',
        }),
      ),
    )
    .withPanel(
      timeseries(
        ids,
        { x: 12, y: 13, w: 12, h: 8 },
        'Latency p50 / p95 by tool',
        'Tool call duration quantiles from the per-tool histogram (mcp_audit_tool_latency_seconds: the calls of every session, no session label). Exemplars (dots) link to the trace of a sample call when the collector attaches them.',
        's',
      )
        .withTarget(
          prom(
            'A',
            `histogram_quantile(0.5, sum by (le, tool) (rate(${TOOL_LATENCY}_bucket{${S}}${RATE})))`,
            {
              legend: 'p50 {{tool}}',
              exemplar: true,
            },
          ),
        )
        .withTarget(
          prom(
            'B',
            `histogram_quantile(0.95, sum by (le, tool) (rate(${TOOL_LATENCY}_bucket{${S}}${RATE})))`,
            {
              legend: 'p95 {{tool}}',
            },
          ),
        ),
    )
    .withRow(row(ids, 'Data volume', 21))
    .withPanel(
      timeseries(
        ids,
        { x: 0, y: 22, w: 12, h: 8 },
        'Result bytes/s by tool',
        'Bytes of serialized tool results returned to agents, per tool.',
        'Bps',
      ).withTarget(prom('A', `sum by (tool) (rate(${M.resultBytes}{${S}}${RATE}))`, { legend: '{{tool}}' })),
    )
    .withPanel(
      timeseries(
        ids,
        { x: 12, y: 22, w: 12, h: 8 },
        'Result size p95 by tool',
        "p95 of one result's size (histogram buckets at 1 KiB, 10 KiB, 100 KiB, 1 MiB, 5 MiB, 50 MiB): a large single result is the bulk-extraction signal.",
        'bytes',
      ).withTarget(
        prom('A', `histogram_quantile(0.95, sum by (le, tool) (rate(${M.resultSize}_bucket{${S}}${RATE})))`, {
          legend: 'p95 {{tool}}',
          exemplar: true,
        }),
      ),
    )
    .withRow(row(ids, 'Sessions and alerts', 30))
    .withPanel(
      table(
        ids,
        { x: 0, y: 31, w: 8, h: 9 },
        'Top sessions by calls',
        'The 10 sessions with the most tool calls in the time range. Click a session to open it.',
      )
        .withTarget(
          prom('A', `topk(10, sum by (session_id) (${total(M.calls, S)}))`, { instant: true, table: true }),
        )
        .withTransformation(organize(['session_id', 'Value'], { Value: 'calls' }))
        .overrideByName('session_id', [sessionLink()]),
    )
    .withPanel(
      table(
        ids,
        { x: 8, y: 31, w: 8, h: 9 },
        'Top sessions by result bytes',
        'The 10 sessions that received the most result bytes in the time range.',
      )
        .withTarget(
          prom('A', `topk(10, sum by (session_id) (${total(M.resultBytes, S)}))`, {
            instant: true,
            table: true,
          }),
        )
        .withTransformation(organize(['session_id', 'Value'], { Value: 'result bytes' }))
        .overrideByName('session_id', [sessionLink()])
        .overrideByName('result bytes', [{ id: 'unit', value: 'bytes' }]),
    )
    .withPanel(
      table(
        ids,
        { x: 16, y: 31, w: 8, h: 9 },
        'Calls without caller identity',
        'Sessions and tools that called without an enduser.id (caller="none").',
      )
        .withTarget(
          prom('A', `sum by (session_id, tool, server) (${total(M.calls, `caller="none", ${S}`)})`, {
            instant: true,
            table: true,
          }),
        )
        .withTransformation(organize(['session_id', 'tool', 'server', 'Value'], { Value: 'calls' }))
        .overrideByName('session_id', [sessionLink()])
        .overrideByName('tool', [toolLink()]),
    )
    .withPanel(
      table(
        ids,
        { x: 0, y: 40, w: 24, h: 8 },
        'Firing MCP alerts',
        'MCP alerts firing now. Click the session to see its calls and traces, or the tool to see its behaviour across sessions.',
      )
        .withTarget(
          prom(
            'A',
            'max by (alertname, severity, session_id, tool, caller, server) (ALERTS{alertname=~"Mcp.*", alertstate="firing"})',
            { instant: true, table: true },
          ),
        )
        .withTransformation({
          id: 'organize',
          options: {
            excludeByName: { Time: true, Value: true },
            indexByName: { alertname: 0, severity: 1, session_id: 2, tool: 3, caller: 4, server: 5 },
            renameByName: {},
          },
        })
        .overrideByName('session_id', [sessionLink()])
        .overrideByName('tool', [toolLink()]),
    );
  return overviewPipeline(overviewSignals(dashboard, ids, 48, S), ids, PIPELINE_ROW_Y).build();
}
