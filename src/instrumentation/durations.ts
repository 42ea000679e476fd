// The semconv duration histograms of MCP operations (one per side) and what they are recorded with:
// low-cardinality attributes only, never the session or the caller.
import type { Attributes, Histogram, Meter } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_PROMPT_NAME,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_MCP_METHOD_NAME,
  ATTR_MCP_PROTOCOL_VERSION,
  ATTR_NETWORK_TRANSPORT,
  ATTR_RPC_RESPONSE_STATUS_CODE,
  MCP_OPERATION_DURATION_BUCKETS,
  METRIC_MCP_CLIENT_OPERATION_DURATION,
  METRIC_MCP_SERVER_OPERATION_DURATION,
} from '../semconv.js';

/** The semconv duration histograms, one per side; either may be missing (no meter yet). */
export interface DurationHistograms {
  client?: Histogram;
  server?: Histogram;
}

/** Creates both duration histograms on `meter`: semconv names, unit and bucket advice. */
export function createDurationHistograms(meter: Meter): Required<DurationHistograms> {
  const histogram = (name: string, description: string) =>
    meter.createHistogram(name, {
      description,
      unit: 's',
      advice: { explicitBucketBoundaries: [...MCP_OPERATION_DURATION_BUCKETS] },
    });
  return {
    client: histogram(
      METRIC_MCP_CLIENT_OPERATION_DURATION,
      'Duration of MCP requests as seen by the sender.',
    ),
    server: histogram(
      METRIC_MCP_SERVER_OPERATION_DURATION,
      'Duration of MCP requests as seen by the receiver.',
    ),
  };
}

/** Attributes of the duration histograms: low cardinality only (no session, no caller). */
const METRIC_ATTRIBUTES = [
  ATTR_MCP_METHOD_NAME,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_PROMPT_NAME,
  ATTR_ERROR_TYPE,
  ATTR_NETWORK_TRANSPORT,
  ATTR_MCP_PROTOCOL_VERSION,
  ATTR_RPC_RESPONSE_STATUS_CODE,
] as const;

/** Records one call's duration on its side's histogram (nothing before a meter is set). */
export function recordDuration(
  histograms: DurationHistograms,
  side: 'client' | 'server',
  callAttrs: Attributes,
  seconds: number,
): void {
  const histogram = side === 'client' ? histograms.client : histograms.server;
  if (!histogram) return;
  const attrs: Attributes = {};
  for (const key of METRIC_ATTRIBUTES) {
    const value = callAttrs[key];
    if (value !== undefined) attrs[key] = value;
  }
  histogram.record(seconds, attrs);
}
