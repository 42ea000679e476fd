// MCP tool: one tool across every session and server: rate, errors, latency, result sizes
// and who calls it.
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
  mcpDashboardsMenu,
} from './common.js';
import { toolSignals } from './signals.js';
import { Ids, alarmingStat, row, stat, table, timeseries } from './panels.js';

const T = 'tool="$tool", server=~"$server"';
const RATE = '[$__rate_interval]';
/** Counted in the time range, reset-aware (common.ts). */
const total = (metric: string, matchers = T) => rangeCount(`${metric}{${matchers}}`);

export function tool(): Dashboard {
  const ids = new Ids();
  const dashboard = new DashboardBuilder('MCP tool')
    .uid(UID.tool)
    .description('One MCP tool across sessions and servers: rate, errors, latency, result sizes and callers.')
    .tags(['mcp-audit', 'mcp'])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .time({ from: 'now-6h', to: 'now' })
    .refresh('30s')
    .timezone('browser')
    .withVariable(prometheusVariable())
    .withVariable(labelVariable('tool', 'Tool', `label_values(${M.calls}, tool)`))
    .withVariable(
      labelVariable('server', 'Server', `label_values(${M.calls}{tool="$tool"}, server)`)
        .multi(true)
        .includeAll(true)
        .allValue('.*'),
    )
    .link(mcpDashboardsMenu())
    .withPanel(
      stat(
        ids,
        { x: 0, y: 0, w: 6, h: 4 },
        'Calls/s',
        'Calls of this tool per second.',
        'reqps',
        prom('A', `sum(rate(${M.calls}{${T}}${RATE}))`),
      ),
    )
    .withPanel(
      alarmingStat(
        ids,
        { x: 6, y: 0, w: 6, h: 4 },
        'Error ratio',
        "Share of this tool's calls that failed; 0 when none failed.",
        'percentunit',
        0.2,
        prom('A', `(sum(rate(${M.errors}{${T}}${RATE})) or vector(0)) / sum(rate(${M.calls}{${T}}${RATE}))`),
      ),
    )
    .withPanel(
      stat(
        ids,
        { x: 12, y: 0, w: 6, h: 4 },
        'Sessions',
        'Sessions that called this tool in the time range.',
        'short',
        prom('A', `count(count by (session_id) (${total(M.calls)}))`, { instant: true }),
      ),
    )
    .withPanel(
      alarmingStat(
        ids,
        { x: 18, y: 0, w: 6, h: 4 },
        'Calls without caller identity',
        'Calls of this tool with no enduser.id, made in the time range.',
        'short',
        1,
        prom('A', `sum(${total(M.calls, `caller="none", ${T}`)}) or vector(0)`, { instant: true }),
      ),
    )
    .withRow(row(ids, 'Rate and errors', 4))
    .withPanel(
      timeseries(
        ids,
        { x: 0, y: 5, w: 12, h: 8 },
        'Calls/s by server',
        'Calls of this tool per MCP server.',
        'reqps',
      ).withTarget(prom('A', `sum by (server) (rate(${M.calls}{${T}}${RATE}))`, { legend: '{{server}}' })),
    )
    .withPanel(
      timeseries(
        ids,
        { x: 12, y: 5, w: 12, h: 8 },
        'Errors/s by type',
        'Failed calls of this tool by error.type.',
        'reqps',
      ).withTarget(
        prom('A', `sum by (error_type) (rate(${M.errors}{${T}}${RATE}))`, { legend: '{{error_type}}' }),
      ),
    )
    .withRow(row(ids, 'Latency and sizes', 13))
    .withPanel(
      timeseries(
        ids,
        { x: 0, y: 14, w: 12, h: 8 },
        'Latency p50 / p95 / p99',
        'Exemplars (dots) open the trace of a sample call when the collector attaches them.',
        's',
      )
        .withTarget(
          prom('A', `histogram_quantile(0.5, sum by (le) (rate(${TOOL_LATENCY}_bucket{${T}}${RATE})))`, {
            legend: 'p50',
            exemplar: true,
          }),
        )
        .withTarget(
          prom('B', `histogram_quantile(0.95, sum by (le) (rate(${TOOL_LATENCY}_bucket{${T}}${RATE})))`, {
            legend: 'p95',
          }),
        )
        .withTarget(
          prom('C', `histogram_quantile(0.99, sum by (le) (rate(${TOOL_LATENCY}_bucket{${T}}${RATE})))`, {
            legend: 'p99',
          }),
        ),
    )
    .withPanel(
      timeseries(
        ids,
        { x: 12, y: 14, w: 12, h: 8 },
        'Result size p50 / p95 and mean',
        'Size of one result of this tool.',
        'bytes',
      )
        .withTarget(
          prom('A', `histogram_quantile(0.5, sum by (le) (rate(${M.resultSize}_bucket{${T}}${RATE})))`, {
            legend: 'p50',
            exemplar: true,
          }),
        )
        .withTarget(
          prom('B', `histogram_quantile(0.95, sum by (le) (rate(${M.resultSize}_bucket{${T}}${RATE})))`, {
            legend: 'p95',
          }),
        )
        .withTarget(
          prom(
            'C',
            `sum(rate(${M.resultSize}_sum{${T}}${RATE})) / sum(rate(${M.resultSize}_count{${T}}${RATE}))`,
            { legend: 'mean' },
          ),
        ),
    )
    .withPanel(
      timeseries(
        ids,
        { x: 0, y: 22, w: 12, h: 8 },
        'Result bytes/s',
        'Bytes this tool returned per second.',
        'Bps',
      ).withTarget(prom('A', `sum(rate(${M.resultBytes}{${T}}${RATE}))`, { legend: 'bytes/s' })),
    )
    .withPanel(
      timeseries(
        ids,
        { x: 12, y: 22, w: 12, h: 8 },
        'Mean latency',
        'Mean call duration (histogram sum / count).',
        's',
      ).withTarget(
        prom(
          'A',
          `sum(rate(${TOOL_LATENCY}_sum{${T}}${RATE})) / sum(rate(${TOOL_LATENCY}_count{${T}}${RATE}))`,
          {
            legend: 'mean',
          },
        ),
      ),
    )
    .withRow(row(ids, 'Callers and sessions', 30))
    .withPanel(
      table(
        ids,
        { x: 0, y: 31, w: 12, h: 9 },
        'Callers',
        'Who called this tool (enduser.id; "none" = no identity), calls made in the time range.',
      )
        .withTarget(prom('A', `sum by (caller) (${total(M.calls)})`, { instant: true, table: true }))
        .withTransformation(organize(['caller', 'Value'], { Value: 'calls' })),
    )
    .withPanel(
      table(
        ids,
        { x: 12, y: 31, w: 12, h: 9 },
        'Top sessions using this tool',
        'The 10 sessions with the most calls of this tool. Click a session to open it.',
      )
        .withTarget(
          prom('A', `topk(10, sum by (session_id, caller) (${total(M.calls)}))`, {
            instant: true,
            table: true,
          }),
        )
        .withTransformation(organize(['session_id', 'caller', 'Value'], { Value: 'calls' }))
        .overrideByName('session_id', [sessionLink()]),
    );
  return toolSignals(dashboard, ids, 40, T).build();
}
