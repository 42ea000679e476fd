// What the doctor observed (sources.ts reads it) and what one checklist line concludes from it.
import type { JaegerData } from './jaeger.js';
import type { PrometheusData } from './prometheus.js';
import type { Settled } from './sources.js';

export interface Check {
  id: string;
  title: string;
  ok: boolean | null;
  evidence: string;
}

export interface Observations {
  /** As given, e.g. 1h. */
  lookback: string;
  /** Share of spans/calls (0..1) that must carry an attribute for the check to pass. */
  minShare: number;
  appRetention: { text: string; seconds: number };
  service: string | undefined;
  jaeger: Settled<JaegerData>;
  prometheus: PrometheusData;
  /** Merged collector config; undefined when no --collector-config was given. */
  collector: { files: string[]; config: Record<string, unknown> } | undefined;
  /** Merged Jaeger config; undefined when no --jaeger-config was given. */
  jaegerConfig: Record<string, unknown> | undefined;
}
