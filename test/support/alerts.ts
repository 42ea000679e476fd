// Alerts as Prometheus reports them, for the end-to-end replays: what fired, waited for by polling
// /api/v1/alerts, with the session's series in the failure message.
import { promQuery, waitFor, type Stack } from './stack.js';

export interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
  activeAt?: string;
  value: string;
}

export async function alerts(stack: Stack): Promise<Alert[]> {
  const response = await fetch(new URL('/api/v1/alerts', stack.prometheusUrl!));
  const body = (await response.json()) as { status: string; data?: { alerts: Alert[] } };
  if (body.status !== 'success' || !body.data) throw new Error(`/api/v1/alerts: ${JSON.stringify(body)}`);
  return body.data.alerts;
}

/** Waits until `alertname` fires for `session`, optionally only the instance matching `where`. */
export async function firing(
  stack: Stack,
  alertname: string,
  session: string,
  where: Record<string, string> = {},
  timeoutMs = 45_000,
): Promise<Alert> {
  const matches = (a: Alert) =>
    a.labels.alertname === alertname &&
    a.labels.session_id === session &&
    Object.entries(where).every(([k, v]) => a.labels[k] === v);
  let seen: Alert[] = [];
  try {
    return await waitFor(
      async () => {
        seen = (await alerts(stack)).filter((a) => a.labels.session_id === session);
        return seen.find((a) => matches(a) && a.state === 'firing');
      },
      { timeoutMs, intervalMs: 500, message: `${alertname} did not fire for session ${session}` },
    );
  } catch (error) {
    const series = await promQuery(stack.prometheusUrl!, `{session_id="${session}"}`).catch(() => []);
    throw new Error(
      `${(error as Error).message}\nalerts of the session: ${JSON.stringify(seen.map((a) => [a.labels, a.state]))}\nits series: ${JSON.stringify(
        series.map((s) => [s.metric, s.value[1]]),
      )}`,
    );
  }
}

/** A series of a range query: its labels and every [unix seconds, value] sample in the range. */
export interface AlertHistorySeries {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

/**
 * Every alert instance matching `selector` that was pending or firing at any evaluation between
 * `fromSeconds` (unix) and now: ALERTS (pending and firing) and ALERTS_FOR_STATE (when each became
 * active) over a range query at the evaluation resolution, so an alert that fired and resolved
 * in between is seen, not only the last instant's.
 */
export async function alertHistory(
  stack: Stack,
  selector: string,
  fromSeconds: number,
  stepSeconds = 1,
): Promise<AlertHistorySeries[]> {
  const url = new URL('/api/v1/query_range', stack.prometheusUrl!);
  url.searchParams.set('query', `ALERTS{${selector}} or ALERTS_FOR_STATE{${selector}}`);
  url.searchParams.set('start', String(Math.floor(fromSeconds)));
  url.searchParams.set('end', String(Math.ceil(Date.now() / 1000)));
  url.searchParams.set('step', String(stepSeconds));
  const response = await fetch(url);
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data?: { result: AlertHistorySeries[] };
  };
  if (body.status !== 'success' || !body.data)
    throw new Error(`query_range ${selector}: ${body.error ?? response.status}`);
  return body.data.result;
}
