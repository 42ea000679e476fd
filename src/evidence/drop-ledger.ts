// Where every span the SDK could not hand on is accounted for, three ways:
// - the self-metric mcp_audit.dropped_spans{reason,destination} (Prometheus:
//   mcp_audit_dropped_spans_total), exported with the SDK's other metrics;
// - a diag warning: the first loss of each kind at once, then a running total at most every 10 s;
// - a `dropped` control line in the evidence log, when one is being written.
// And a one-line summary on stderr at exit when anything was lost.

import { diag, metrics, type Counter } from '@opentelemetry/api';
import { METRIC_MCP_AUDIT_DROPPED_SPANS } from '../semconv.js';
import type { DropReason } from './delivery-queue.js';

const WARN_INTERVAL_MS = 10_000;

export interface DropSink {
  /** Records the loss in the evidence log (a `dropped` line); never throws. */
  recordDropped(reason: DropReason, count: number, destination: string): void;
}

interface Tally {
  count: number;
  detail: string;
  warnedAt: number;
  unwarned: number;
}

export class DropLedger {
  private counter: Counter | undefined;
  private readonly tallies = new Map<string, Tally>();
  private readonly sinks: DropSink[] = [];

  /** Adds a place (the evidence log) that records losses as they happen. */
  addSink(sink: DropSink): void {
    this.sinks.push(sink);
  }

  /** Counts `count` spans meant for `destination` (`otlp` or `audit_file`) as lost. */
  record(destination: string, reason: DropReason, count: number, detail: string): void {
    if (count <= 0) return;
    // Resolved on first use: the meter provider is registered after the processors are built.
    this.counter ??= metrics.getMeter('mcp-audit').createCounter(METRIC_MCP_AUDIT_DROPPED_SPANS, {
      description:
        'Spans the mcp-audit SDK could not hand on, by reason (queue_full, export_rejected, shutdown).',
      unit: '{span}',
    });
    this.counter.add(count, { reason, destination });
    for (const sink of this.sinks) sink.recordDropped(reason, count, destination);
    const key = `${destination}\u0000${reason}`;
    const now = Date.now();
    const tally = this.tallies.get(key) ?? { count: 0, detail, warnedAt: 0, unwarned: 0 };
    tally.count += count;
    tally.unwarned += count;
    tally.detail = detail;
    this.tallies.set(key, tally);
    // At exit the summary line says it all; while running, a rate-limited warning.
    if (reason !== 'shutdown' && now - tally.warnedAt >= WARN_INTERVAL_MS) {
      diag.warn(
        `mcp-audit: ${tally.unwarned} spans for ${destination} lost (${reason}: ${detail}); ${tally.count} in all`,
      );
      tally.warnedAt = now;
      tally.unwarned = 0;
    }
  }

  /** Spans lost so far, all reasons. */
  get total(): number {
    let n = 0;
    for (const t of this.tallies.values()) n += t.count;
    return n;
  }

  /** Per destination and reason, for the exit line: `otlp shutdown 120 (connect ECONNREFUSED …)`. */
  summary(destination: string): string | undefined {
    const parts: string[] = [];
    let total = 0;
    for (const [key, t] of this.tallies) {
      const [dest, reason] = key.split('\u0000');
      if (dest !== destination) continue;
      total += t.count;
      parts.push(`${t.count} ${reason}: ${t.detail}`);
    }
    return total > 0 ? `${total} spans (${parts.join('; ')})` : undefined;
  }
}
