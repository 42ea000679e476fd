// Reads tools/call spans from Jaeger's query API, reduced right here to which attributes each span
// carries: argument values, caller ids and results never reach the checks or the output.
import {
  ATTR_ENDUSER_ID,
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_MCP_AUDIT_RESULT_SIZE,
  ATTR_MCP_METHOD_NAME,
} from '../semconv.js';
import { getJson, settle, type Endpoint, type Settled } from './sources.js';

/** One tools/call span, reduced to what the checks need: presence flags, never values. */
export interface ToolCallSpan {
  service: string;
  tool: string | undefined;
  hasArguments: boolean;
  hasCaller: boolean;
  hasSession: boolean;
  hasResultSize: boolean;
  /** Span status ERROR (Jaeger's `error` tag / otel.status_code) or error.type set. */
  failed: boolean;
  hasErrorType: boolean;
}

export interface JaegerData {
  /** Services Jaeger knows (all of them, before --service filtering). */
  services: string[];
  /** Services that were searched. */
  searched: string[];
  spans: ToolCallSpan[];
  /** Services whose search returned `limit` traces: the numbers are a sample. */
  limited: string[];
  /** Per-service search failures while others worked. */
  partialErrors: string[];
}

interface JaegerTag {
  key: string;
  value: unknown;
}
interface JaegerTraceJson {
  spans?: Array<{ traceID: string; spanID: string; tags?: JaegerTag[]; processID?: string }>;
  processes?: Record<string, { serviceName?: string }>;
}

export interface JaegerQuery {
  service: string | undefined;
  lookbackMs: number;
  limit: number;
  timeoutMs: number;
}

export async function readJaeger(ep: Endpoint, q: JaegerQuery): Promise<Settled<JaegerData>> {
  return settle(readJaegerOrThrow(ep, q));
}

async function readJaegerOrThrow(ep: Endpoint, q: JaegerQuery): Promise<JaegerData> {
  const body = (await getJson(ep, 'api/services', {}, 'Jaeger', q.timeoutMs)) as { data?: unknown };
  if (body.data !== null && body.data !== undefined && !Array.isArray(body.data))
    throw new Error(`Jaeger at ${ep.display}: /api/services answered an unexpected shape`);
  const services = ((body.data as string[] | null) ?? []).filter((s) => typeof s === 'string').sort();
  const searched = q.service ? [q.service] : services;
  // start/end in microseconds rather than `lookback`, which Jaeger parses as a Go duration (no `d`).
  const end = Date.now() * 1000;
  const start = end - q.lookbackMs * 1000;
  const tags = JSON.stringify({ [ATTR_MCP_METHOD_NAME]: 'tools/call' });
  const seen = new Map<string, ToolCallSpan>();
  const limited: string[] = [];
  const partialErrors: string[] = [];
  // A few services at a time: one request per service, without flooding a shared Jaeger.
  for (let i = 0; i < searched.length; i += 8) {
    const batch = searched.slice(i, i + 8);
    const results = await Promise.all(
      batch.map((service) =>
        settle(
          getJson(
            ep,
            'api/traces',
            { service, tags, start: String(start), end: String(end), limit: String(q.limit) },
            'Jaeger',
            q.timeoutMs,
          ),
        ),
      ),
    );
    results.forEach((r, j) => {
      const service = batch[j]!;
      if (!r.ok) {
        partialErrors.push(r.error);
        return;
      }
      const traces = ((r.value as { data?: JaegerTraceJson[] | null }).data ?? []) as JaegerTraceJson[];
      if (traces.length >= q.limit) limited.push(service);
      for (const trace of traces) collectSpans(trace, seen);
    });
  }
  if (searched.length > 0 && partialErrors.length === searched.length) throw new Error(partialErrors[0]);
  let spans = [...seen.values()];
  // A returned trace holds every service's spans; keep only the service asked for.
  if (q.service) spans = spans.filter((s) => s.service === q.service);
  return { services, searched, spans, limited, partialErrors };
}

function collectSpans(trace: JaegerTraceJson, seen: Map<string, ToolCallSpan>): void {
  for (const span of trace.spans ?? []) {
    const tags = new Map((span.tags ?? []).map((t) => [t.key, t.value]));
    if (tags.get(ATTR_MCP_METHOD_NAME) !== 'tools/call') continue;
    // Client and server services both return the trace: count each span once.
    const key = `${span.traceID}/${span.spanID}`;
    if (seen.has(key)) continue;
    const present = (k: string): boolean => {
      const v = tags.get(k);
      return v !== undefined && v !== null && v !== '';
    };
    const tool = tags.get(ATTR_GEN_AI_TOOL_NAME);
    seen.set(key, {
      service: trace.processes?.[span.processID ?? '']?.serviceName ?? 'unknown',
      tool: typeof tool === 'string' ? tool : undefined,
      hasArguments: present(ATTR_GEN_AI_TOOL_CALL_ARGUMENTS),
      hasCaller: present(ATTR_ENDUSER_ID),
      hasSession: present(ATTR_GEN_AI_CONVERSATION_ID),
      hasResultSize: present(ATTR_MCP_AUDIT_RESULT_SIZE),
      failed:
        tags.get('error') === true || tags.get('otel.status_code') === 'ERROR' || present(ATTR_ERROR_TYPE),
      hasErrorType: present(ATTR_ERROR_TYPE),
    });
  }
}
