// Shared pieces of the three MCP audit dashboards: datasource variables, the metric contract
// (src/detection/metrics.ts), query and link helpers. Every dashboard references datasources only
// through datasource variables, so the JSON imports into any Grafana; the provisioned uids
// (prometheus, jaeger) are only the variables' default values.
import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import {
  DashboardLinkBuilder,
  DashboardLinkType,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  VariableRefresh,
  VariableSort,
  type DynamicConfigValue,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { METRICS, METRIC_LABELS } from '../../src/detection/metrics.js';
import { METRIC_TOOL_LATENCY } from '../../src/semconv.js';
import { rangeIncrease } from '../../src/detection/range-total.js';
import { PIPELINE_LABELS, PIPELINE_METRICS } from '../../src/detection/pipeline-metrics.js';
import { RISK_TAGS } from '../../src/instrumentation/argument-risk.js';

export { METRICS };

/** The per-tool duration histogram (tool, server, service_name; no session): the latency panels
 * that span sessions read it, so their cost does not grow with the number of sessions. */
export const TOOL_LATENCY = METRIC_TOOL_LATENCY;

/** Every series name a dashboard may read: the counters, the histogram series, the signal counters, and ALERTS. */
export const CONTRACT_SERIES: readonly string[] = [
  METRICS.calls,
  METRICS.errors,
  METRICS.resultBytes,
  ...['bucket', 'sum', 'count'].map((s) => `${METRICS.resultSize}_${s}`),
  ...['bucket', 'sum', 'count'].map((s) => `${METRICS.duration}_${s}`),
  ...['bucket', 'sum', 'count'].map((s) => `${METRIC_TOOL_LATENCY}_${s}`),
  METRICS.riskyCalls,
  METRICS.piiResultCalls,
  METRICS.turnCalls,
  METRICS.inFlightMarks,
  'ALERTS',
  // the audit pipeline's health: the collector's self-telemetry and the SDKs' loss counter
  ...Object.values(PIPELINE_METRICS),
];

/** Labels of the contract metrics (missing values are the literal `none`), plus the
 * Prometheus-side ones a query may group by. */
export const CONTRACT_LABELS: readonly string[] = [
  ...METRIC_LABELS,
  // the risky-calls counter: one true/false label per risk tag
  ...RISK_TAGS,
  'job',
  'instance',
  'le',
  // ALERTS series: alertname, alertstate and the alert rules' own labels
  'alertname',
  'alertstate',
  'severity',
  ...PIPELINE_LABELS,
];

/** Dashboard uids: stable, so links between the dashboards and from the README keep working. */
export const UID = {
  overview: 'mcp-audit-overview',
  session: 'mcp-audit-session',
  tool: 'mcp-audit-tool',
} as const;

/** Uids of the provisioned datasources (dashboards/provisioning/datasources/mcp-audit.yaml). */
export const PROVISIONED_UID = { prometheus: 'prometheus', jaeger: 'jaeger' } as const;

export const PROM: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };
export const JAEGER: DataSourceRef = { type: 'jaeger', uid: '${jaeger_datasource}' };

export function prometheusVariable() {
  return new DatasourceVariableBuilder('datasource')
    .label('Prometheus')
    .type('prometheus')
    .current({ selected: true, text: 'Prometheus', value: PROVISIONED_UID.prometheus });
}

export function jaegerVariable() {
  return new DatasourceVariableBuilder('jaeger_datasource')
    .label('Jaeger')
    .type('jaeger')
    .current({ selected: true, text: 'Jaeger', value: PROVISIONED_UID.jaeger });
}

/** A Prometheus label_values() variable, refreshed with the time range. */
export function labelVariable(name: string, label: string, query: string) {
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(PROM)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc);
}

interface PromOptions {
  legend?: string;
  /** An instant query (tables and stats of totals); default: a range query. */
  instant?: boolean;
  table?: boolean;
  /** Ask Prometheus for exemplars (trace ids of sample calls) with the series. */
  exemplar?: boolean;
}

export function prom(refId: string, expr: string, o: PromOptions = {}) {
  const q = new DataqueryBuilder().refId(refId).datasource(PROM).expr(expr);
  if (o.legend !== undefined) q.legendFormat(o.legend);
  if (o.instant) q.instant();
  else q.range();
  if (o.table) q.format(PromQueryFormat.Table);
  if (o.exemplar) q.exemplar(true);
  return q;
}

/** Grafana's Jaeger search query (the SDK has no Jaeger types; the fields are those of the
 * Grafana Jaeger datasource: queryType, service, operation, tags as logfmt, limit). */
export interface JaegerSearchQuery {
  refId?: string;
  hide?: boolean;
  datasource?: DataSourceRef;
  queryType: 'search';
  service: string;
  tags?: string;
  limit?: number;
  _implementsDataqueryVariant(): void;
}

export class JaegerSearchBuilder implements Builder<Dataquery> {
  private readonly internal: JaegerSearchQuery;
  constructor(refId: string, service: string) {
    this.internal = {
      refId,
      datasource: JAEGER,
      queryType: 'search',
      service,
      _implementsDataqueryVariant() {},
    };
  }
  tags(logfmt: string): this {
    this.internal.tags = logfmt;
    return this;
  }
  limit(limit: number): this {
    this.internal.limit = limit;
    return this;
  }
  build(): JaegerSearchQuery {
    return this.internal;
  }
}

/** The dashboard-header menu listing every MCP dashboard (by tag), keeping the time range. */
export function mcpDashboardsMenu(): DashboardLinkBuilder {
  return new DashboardLinkBuilder('MCP dashboards')
    .type(DashboardLinkType.Dashboards)
    .tags(['mcp-audit'])
    .asDropdown(true)
    .includeVars(false)
    .keepTime(true);
}

/** Data link to another MCP dashboard, carrying the datasource and the time range. */
export function dashboardLink(
  title: string,
  uid: string,
  slug: string,
  vars: Record<string, string>,
): DynamicConfigValue {
  const params = Object.entries(vars)
    .map(([k, v]) => `var-${k}=${v}`)
    .join('&');
  return {
    id: 'links',
    value: [{ title, url: `/d/${uid}/${slug}?var-datasource=\${datasource}&${params}&\${__url_time_range}` }],
  };
}

/** Put on a table's session_id column: opens the MCP session dashboard for that session. */
export const sessionLink = () =>
  dashboardLink('Open session ${__value.text}', UID.session, 'mcp-session', { session_id: '${__value.raw}' });
/** Put on a table's tool column: opens the MCP tool dashboard for that tool. */
export const toolLink = () =>
  dashboardLink('Open tool ${__value.text}', UID.tool, 'mcp-tool', { tool: '${__value.raw}' });

/**
 * What a counter counted in the dashboard's time range, per series, across collector restarts (a
 * restarted collector's counters start again at zero): the one form every total on the dashboards
 * takes, never a sum or the largest of counter values (src/detection/range-total.ts).
 */
export const rangeCount = (selector: string) =>
  rangeIncrease(selector, { range: '$__range', step: '$__interval' });

/** Hides the Time column of instant table queries and orders the label columns. */
export function organize(order: string[], rename: Record<string, string> = {}) {
  const indexByName: Record<string, number> = {};
  order.forEach((name, i) => (indexByName[name] = i));
  return {
    id: 'organize',
    options: { excludeByName: { Time: true }, indexByName, renameByName: rename },
  };
}
