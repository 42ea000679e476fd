// The audit pipeline's health as findings next to the checklist: is anything refused, failing,
// filling up or lost between the SDKs and the stores, and is the audit file whole. Pure functions
// of what pipeline.ts read. They are not lines of the red-flag checklist, so they do not change
// its verdict; a ✗ here means records are being lost or are at risk, with the counts.
import type { Check } from './observations.js';
import type { PipelineData, Sample } from './pipeline.js';
import { PIPELINE_METRICS as M } from './pipeline.js';
import type { Settled } from './sources.js';
import { fmt, list, pct } from './evidence-text.js';

/** A queue this full is one burst or outage away from refusing data. */
export const QUEUE_FILL_WARNING = 0.8;

export function runPipelineChecks(p: PipelineData, lookback: string): Check[] {
  const checks = [
    telemetry(p, lookback),
    refused(p, lookback),
    exportFailures(p, lookback),
    queueFill(p, lookback),
    memoryLimiter(p, lookback),
    sdkDropped(p, lookback),
  ];
  if (p.auditFiles.length) checks.push(auditFile(p));
  return checks;
}

/** The checks that read the collector's self-telemetry cannot be decided without it. */
function collectorRead(p: PipelineData, lookback: string): string | undefined {
  if (!p.collectors.ok) return p.collectors.error;
  if (p.collectors.value === 0)
    return `no collector self-telemetry (${M.memory}) in Prometheus in the last ${lookback}`;
  return undefined;
}

function telemetry(p: PipelineData, lookback: string): Check {
  const id = 'pipeline_telemetry';
  const title = "The collector's own telemetry is scraped";
  if (!p.collectors.ok) return { id, title, ok: null, evidence: p.collectors.error };
  const n = p.collectors.value;
  if (n === 0)
    return {
      id,
      title,
      ok: false,
      evidence: `no ${M.memory} in the last ${lookback}: turn on service.telemetry.metrics in the collector and scrape it (collector/config.yaml, scripts/prometheus.yml)`,
    };
  const accepted = p.accepted.ok ? `; ${fmt(p.accepted.value)} spans accepted in the last ${lookback}` : '';
  return { id, title, ok: true, evidence: `${n} collector instance(s) reporting${accepted}` };
}

function counted(
  id: string,
  title: string,
  p: PipelineData,
  lookback: string,
  parts: Array<{ what: string; value: Settled<number> }>,
): Check {
  const missing = collectorRead(p, lookback);
  if (missing) return { id, title, ok: null, evidence: missing };
  const failed = parts.find((x) => !x.value.ok);
  if (failed && !failed.value.ok) return { id, title, ok: null, evidence: failed.value.error };
  const values = parts.map((x) => ({ what: x.what, n: x.value.ok ? x.value.value : 0 }));
  const ok = values.every((v) => v.n === 0);
  const evidence = values.map((v) => `${fmt(v.n)} ${v.what}`).join(', ');
  return { id, title, ok, evidence: `${evidence} in the last ${lookback}` };
}

function refused(p: PipelineData, lookback: string): Check {
  return counted('pipeline_refused', 'The collector refuses no spans', p, lookback, [
    { what: `spans refused (${M.refused})`, value: p.refused },
    { what: `failed in the receiver (${M.receiverFailed})`, value: p.receiverFailed },
  ]);
}

function memoryLimiter(p: PipelineData, lookback: string): Check {
  return counted('pipeline_memory_limiter', 'The memory limiter refuses nothing', p, lookback, [
    { what: `spans refused (${M.memoryLimiterRefused})`, value: p.memoryLimiterRefused },
  ]);
}

function byLabel(samples: Sample[], label: string): string {
  return list(samples.map((s) => `${s.labels[label] ?? '(none)'} ${fmt(s.value)}`));
}

function exportFailures(p: PipelineData, lookback: string): Check {
  const id = 'pipeline_export_failures';
  const title = 'Every exporter delivers (no failed or unqueued spans)';
  const missing = collectorRead(p, lookback);
  if (missing) return { id, title, ok: null, evidence: missing };
  if (!p.sendFailed.ok) return { id, title, ok: null, evidence: p.sendFailed.error };
  if (!p.enqueueFailed.ok) return { id, title, ok: null, evidence: p.enqueueFailed.error };
  const failed = p.sendFailed.value;
  const unqueued = p.enqueueFailed.value;
  if (failed.length === 0 && unqueued.length === 0)
    return {
      id,
      title,
      ok: true,
      evidence: `no span failed to export or to enter a queue in the last ${lookback} (${M.sendFailed}, ${M.enqueueFailed})`,
    };
  const parts = [
    failed.length
      ? `spans that failed to export (given up after retries): ${byLabel(failed, 'exporter')}`
      : '',
    unqueued.length ? `spans refused by a full queue: ${byLabel(unqueued, 'exporter')}` : '',
  ].filter(Boolean);
  return { id, title, ok: false, evidence: `${parts.join('; ')} in the last ${lookback}` };
}

function queueFill(p: PipelineData, lookback: string): Check {
  const id = 'pipeline_queue_fill';
  const title = `Exporter queues stay below ${pct(QUEUE_FILL_WARNING)} full`;
  const missing = collectorRead(p, lookback);
  if (missing) return { id, title, ok: null, evidence: missing };
  if (!p.queues.ok) return { id, title, ok: null, evidence: p.queues.error };
  const queues = p.queues.value;
  if (queues.length === 0)
    return { id, title, ok: null, evidence: `no ${M.queueCapacity} series: no exporter has a sending queue` };
  const full = queues.filter((q) => q.capacity > 0 && q.peak / q.capacity >= QUEUE_FILL_WARNING);
  const text = queues
    .map(
      (q) =>
        `${q.exporter} ${fmt(q.size)}/${fmt(q.capacity)} now, peak ${fmt(q.peak)} (${pct(q.capacity ? q.peak / q.capacity : 0)})`,
    )
    .join(', ');
  return {
    id,
    title,
    ok: full.length === 0,
    evidence: `${text} in the last ${lookback}${full.length ? `; near full: ${full.map((q) => q.exporter).join(', ')}` : ''}`,
  };
}

function sdkDropped(p: PipelineData, lookback: string): Check {
  const id = 'pipeline_sdk_dropped';
  const title = 'No SDK lost spans before export';
  if (!p.sdkDropped.ok) return { id, title, ok: null, evidence: p.sdkDropped.error };
  const drops = p.sdkDropped.value;
  if (drops.length === 0)
    return {
      id,
      title,
      ok: true,
      evidence: `no ${M.sdkDropped} in the last ${lookback} (an SDK starts the counter at its first loss)`,
    };
  const total = drops.reduce((n, s) => n + s.value, 0);
  const detail = list(
    drops.map((s) => `${s.labels.reason ?? '?'} → ${s.labels.destination ?? '?'} ${fmt(s.value)}`),
  );
  return {
    id,
    title,
    ok: false,
    evidence: `${fmt(total)} spans counted as lost by SDKs in the last ${lookback} (${M.sdkDropped}: ${detail})`,
  };
}

function auditFile(p: PipelineData): Check {
  const id = 'audit_file';
  const title = "The collector's audit file has no torn lines";
  const parts: string[] = [];
  let ok: boolean | null = true;
  for (const { file, summary } of p.auditFiles) {
    if (!summary.ok) {
      parts.push(summary.error);
      if (ok === true) ok = null;
      continue;
    }
    const s = summary.value;
    const torn = s.tears.filter((t) => !t.atEnd);
    const open = s.tears.find((t) => t.atEnd);
    const head = `${file}: ${fmt(s.lines)} lines, ${fmt(s.records)} objects, ${fmt(s.spans)} spans read`;
    const glued = s.glued.length
      ? `; ${s.glued.length} line(s) holding two objects (a restart after an object, before its newline; nothing lost)`
      : '';
    const tail = `${glued}${open ? `; last line ${open.line} unfinished (the collector may be writing it)` : ''}`;
    if (torn.length === 0) {
      parts.push(`${head}, no torn line${tail}`);
      continue;
    }
    ok = false;
    const salvaged = torn.reduce((n, t) => n + t.salvagedSpans, 0);
    const lines = list(
      torn.map((t) => String(t.line)),
      20,
    );
    parts.push(
      `${head}; ${torn.length} torn line(s) at line ${lines} (a crash mid-write: the rest of each line was recovered, ${fmt(salvaged)} spans salvaged from the torn fragments, the remainder of those objects is lost)${tail}`,
    );
  }
  return { id, title, ok, evidence: parts.join('; ') };
}
