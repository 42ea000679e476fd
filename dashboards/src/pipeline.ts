// The overview's "Audit pipeline health" row: is anything lost or at risk between the SDKs and the
// stores. Spans refused by the collector's receiver, spans the memory limiter refused, spans SDKs
// counted as lost (mcp_audit_dropped_spans_total), failed and unqueued exports per exporter, and
// how full each exporter's queue is. Counts in the time range are reset-aware (common.ts): the
// collector's own counters start again at zero when it restarts, like the session counters.
import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { PIPELINE_METRICS as P } from '../../src/detection/pipeline-metrics.js';
import { organize, prom, rangeCount } from './common.js';
import { Ids, alarmingStat, row, table, timeseries } from './panels.js';

const RATE = '[$__rate_interval]';
/** In the time range, reset-aware; 0 when the counter does not exist yet (it starts at the first event). */
const counted = (metric: string) => `sum(${rangeCount(metric)}) or vector(0)`;
/** Every exporter of the traces pipelines, each at 0: the rows a per-exporter count fills in. */
const exporters = `sum by (exporter) (max_over_time(${P.inFlight}{data_type="traces"}[$__range])) * 0`;
const perExporter = (metric: string) => `sum by (exporter) (${rangeCount(metric)}) or ${exporters}`;

export function overviewPipeline(b: DashboardBuilder, ids: Ids, y: number): DashboardBuilder {
  return b
    .withRow(row(ids, 'Audit pipeline health', y))
    .withPanel(
      alarmingStat(
        ids,
        { x: 0, y: y + 1, w: 6, h: 4 },
        'Spans refused by the collector',
        `Spans the collector's OTLP receiver refused or failed in the time range (${P.refused}, ${P.receiverFailed}): the sender got an error and retries or counts the loss. Needs the collector's self-telemetry scraped.`,
        'short',
        1,
        prom('A', `(${counted(P.refused)}) + (${counted(P.receiverFailed)})`, { instant: true }),
      ),
    )
    .withPanel(
      alarmingStat(
        ids,
        { x: 6, y: y + 1, w: 6, h: 4 },
        'Memory-limiter refusals',
        `Spans the collector's memory limiter refused in the time range (${P.memoryLimiterRefused}): the collector was above its memory limit.`,
        'short',
        1,
        prom('A', counted(P.memoryLimiterRefused), { instant: true }),
      ),
    )
    .withPanel(
      alarmingStat(
        ids,
        { x: 12, y: y + 1, w: 6, h: 4 },
        'Spans dropped by SDKs',
        `Spans instrumented processes could not hand on in the time range (${P.sdkDropped}: full queue, rejected export, exit deadline), as they reported them. Each is also a 'dropped' line in that process's evidence log.`,
        'short',
        1,
        prom('A', counted(P.sdkDropped), { instant: true }),
      ),
    )
    .withPanel(
      alarmingStat(
        ids,
        { x: 18, y: y + 1, w: 6, h: 4 },
        'Spans failed to export',
        `Spans an exporter gave up on after its retries, or that found its queue full, in the time range (${P.sendFailed}, ${P.enqueueFailed}).`,
        'short',
        1,
        prom('A', `(${counted(P.sendFailed)}) + (${counted(P.enqueueFailed)})`, { instant: true }),
      ),
    )
    .withPanel(
      table(
        ids,
        { x: 0, y: y + 5, w: 8, h: 8 },
        'Export failures by exporter',
        'Per exporter of the traces pipelines: spans given up after retries (failed) and spans refused by a full queue (queue full), in the time range.',
      )
        .withTarget(prom('A', perExporter(P.sendFailed), { instant: true, table: true }))
        .withTarget(prom('B', perExporter(P.enqueueFailed), { instant: true, table: true }))
        .withTransformation({ id: 'merge', options: {} })
        .withTransformation(
          organize(['exporter', 'Value #A', 'Value #B'], { 'Value #A': 'failed', 'Value #B': 'queue full' }),
        ),
    )
    .withPanel(
      timeseries(
        ids,
        { x: 8, y: y + 5, w: 8, h: 8 },
        'Exporter queue fill',
        `Requests waiting in each exporter's sending queue over its capacity (${P.queueSize} / ${P.queueCapacity}). A queue near full refuses spans next; the Jaeger and sink queues are on disk and survive restarts.`,
        'percentunit',
      )
        .max(1)
        .withTarget(
          prom('A', `max by (exporter) (${P.queueSize} / ${P.queueCapacity})`, { legend: '{{exporter}}' }),
        ),
    )
    .withPanel(
      timeseries(
        ids,
        { x: 16, y: y + 5, w: 8, h: 8 },
        'Spans in, refused and dropped per second',
        'Spans the collector accepted and refused, and spans SDKs dropped, per second.',
        'short',
      )
        .withTarget(prom('A', `sum(rate(${P.accepted}${RATE}))`, { legend: 'accepted' }))
        .withTarget(prom('B', `sum(rate(${P.refused}${RATE}))`, { legend: 'refused' }))
        .withTarget(
          prom('C', `sum(rate(${P.sdkDropped}${RATE})) or vector(0)`, { legend: 'dropped by SDKs' }),
        ),
    );
}
