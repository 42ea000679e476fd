// Reads from Prometheus' HTTP API what the checks need: call and error counts over the lookback, the
// alert rules and their health, the retention flags.
import { METRICS } from '../detection/metrics.js';
import { rangeTotal } from '../detection/range-total.js';
import { totalStep, totalTime, vector } from './pipeline.js';
import { getJson, settle, type Endpoint, type Settled } from './sources.js';

export interface AlertRule {
  name: string;
  /** ok | err | unknown (unknown: not evaluated yet). */
  health: string;
}

export interface PrometheusData {
  version: Settled<string>;
  /** Counts over the lookback window; null when no series matched (the metric is absent). */
  calls: Settled<number | null>;
  callsWithCaller: Settled<number | null>;
  callsWithCallerAndSession: Settled<number | null>;
  errors: Settled<number | null>;
  alertRules: Settled<AlertRule[]>;
  retention: Settled<{ time: string; size: string }>;
}

export interface PrometheusQuery {
  service: string | undefined;
  /** Prometheus range, e.g. 1h. */
  lookback: string;
  lookbackSeconds: number;
  /** Prometheus' scrape interval, the step of the range totals (default 15 s). */
  scrapeSeconds?: number;
  timeoutMs: number;
}

export async function readPrometheus(ep: Endpoint, q: PrometheusQuery): Promise<PrometheusData> {
  const t = q.timeoutMs;
  const sel = (extra: string): string => {
    const parts = [q.service ? `service_name=${JSON.stringify(q.service)}` : '', extra].filter(Boolean);
    return parts.length ? `{${parts.join(',')}}` : '';
  };
  // Counted across collector restarts (its counters start again at zero): never a sum of values.
  const range = { range: q.lookback, step: totalStep(q.lookbackSeconds, q.scrapeSeconds) };
  const at = totalTime(q.lookbackSeconds, q.scrapeSeconds);
  const sum = (metric: string, extra = ''): Promise<number | null> =>
    vector(ep, rangeTotal(`${metric}${sel(extra)}`, range), t, at).then((v) => v[0]?.value ?? null);
  const [version, calls, callsWithCaller, callsWithCallerAndSession, errors, alertRules, retention] =
    await Promise.all([
      settle(
        getJson(ep, 'api/v1/status/buildinfo', {}, 'Prometheus', t).then(
          (b) => (b as { data?: { version?: string } }).data?.version ?? 'unknown',
        ),
      ),
      settle(sum(METRICS.calls)),
      settle(sum(METRICS.calls, 'caller!="none"')),
      settle(sum(METRICS.calls, 'caller!="none",session_id!="none"')),
      settle(sum(METRICS.errors)),
      settle(readAlertRules(ep, t)),
      settle(
        getJson(ep, 'api/v1/status/flags', {}, 'Prometheus', t).then((b) => {
          const d = (b as { data?: Record<string, string> }).data ?? {};
          // 2.x reports 0s for "not set"; the deprecated storage.tsdb.retention still counts there.
          const time = d['storage.tsdb.retention.time'];
          const legacy = d['storage.tsdb.retention'];
          return {
            time: time && time !== '0s' ? time : legacy && legacy !== '0s' ? legacy : '0s',
            size: d['storage.tsdb.retention.size'] ?? '0B',
          };
        }),
      ),
    ]);
  return { version, calls, callsWithCaller, callsWithCallerAndSession, errors, alertRules, retention };
}

async function readAlertRules(ep: Endpoint, timeoutMs: number): Promise<AlertRule[]> {
  const body = (await getJson(ep, 'api/v1/rules', { type: 'alert' }, 'Prometheus', timeoutMs)) as {
    data?: { groups?: Array<{ rules?: Array<{ type?: string; name?: string; health?: string }> }> };
  };
  return (body.data?.groups ?? []).flatMap((g) =>
    (g.rules ?? [])
      .filter((r) => r.type === 'alerting' && typeof r.name === 'string')
      .map((r) => ({ name: r.name!, health: r.health ?? 'unknown' })),
  );
}
