// The flat audit record: one JSON object per span, the problem statement's fields plus
// the ids that tie it back to the trace. Two sources map to it — an SDK ReadableSpan (the
// in-process exporter) and an OTLP/JSON span (the sink) — so both are first reduced to the same
// `SpanFacts` and one function builds the record: a field can never differ between the two paths.

import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import {
  ATTR_ENDUSER_ID,
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_MCP_AUDIT_CALLER_SOURCE,
  ATTR_MCP_AUDIT_RESULT_SIZE,
  ATTR_MCP_AUDIT_RESULT_SUMMARY,
  ATTR_MCP_AUDIT_SERVER_NAME,
  ATTR_MCP_AUDIT_TURN_ID,
  ATTR_MCP_METHOD_NAME,
} from '../semconv.js';
import { createRedactor } from '../redaction/redact.js';

// Both sources are redacted upstream (the SDK's exporter, the collector); the record is redacted
// once more so that no path into the evidence log can carry a secret in clear.
const redactor = createRedactor();

/**
 * One audit record. Every key is always present (null when unknown), so files have one shape
 * and a SIEM can index them without guessing.
 */
export interface AuditRecord {
  /** Span start, ISO 8601 UTC with milliseconds. */
  timestamp: string;
  session_id: string | null;
  caller_identity: string | null;
  /** Where caller_identity came from: `context`, `auth` or `propagated` (not authentication). */
  caller_source: string | null;
  /** The tool for tools/call, else the MCP method (`tools/list`, `initialize`, …). */
  tool_name: string | null;
  /** Parsed arguments JSON (redacted upstream); the raw string when it is not JSON. */
  tool_parameters: unknown;
  result_summary: string | null;
  result_size_bytes: number | null;
  latency_ms: number;
  server_id: string | null;
  /** `error.type`, with `: status message` when the span has one; null when the call succeeded. */
  error: string | null;
  llm_turn_id: string | null;
  method: string | null;
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  side: 'client' | 'server' | null;
  service_name: string | null;
}

/** What both span shapes are reduced to before the record is built. */
export interface SpanFacts {
  attributes: Readonly<Record<string, unknown>>;
  resourceAttributes: Readonly<Record<string, unknown>>;
  side: 'client' | 'server' | null;
  /** Integer nanoseconds, so both sources round identically. */
  startNs: bigint;
  durationNs: bigint;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  statusIsError: boolean;
  statusMessage: string | null;
}

/** The audit trail covers MCP requests only; other spans of the host (HTTP, DB…) are not records. */
export function isMcpSpanAttributes(attributes: Readonly<Record<string, unknown>>): boolean {
  return typeof attributes[ATTR_MCP_METHOD_NAME] === 'string';
}

export function toAuditRecord(span: ReadableSpan): AuditRecord {
  return recordFromFacts(spanFacts(span));
}

/** The facts of an SDK span; `redacted` replaces what an export redaction has already rewritten. */
export function spanFacts(
  span: ReadableSpan,
  redacted?: {
    attributes: Readonly<Record<string, unknown>>;
    resourceAttributes: Readonly<Record<string, unknown>>;
    statusMessage: string | undefined;
  },
): SpanFacts {
  const ctx = span.spanContext();
  return {
    attributes: redacted ? redacted.attributes : span.attributes,
    resourceAttributes: redacted ? redacted.resourceAttributes : (span.resource?.attributes ?? {}),
    side: span.kind === SpanKind.CLIENT ? 'client' : span.kind === SpanKind.SERVER ? 'server' : null,
    startNs: hrTimeToNs(span.startTime),
    durationNs: hrTimeToNs(span.duration),
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: span.parentSpanContext?.spanId || null,
    statusIsError: span.status.code === SpanStatusCode.ERROR,
    statusMessage: (redacted ? redacted.statusMessage : span.status.message) || null,
  };
}

export function recordFromFacts(f: SpanFacts): AuditRecord {
  const a = f.attributes;
  const method = str(a[ATTR_MCP_METHOD_NAME]);
  return {
    timestamp: new Date(Number(f.startNs / 1_000_000n)).toISOString(),
    session_id: clean(str(a[ATTR_GEN_AI_CONVERSATION_ID])),
    caller_identity: clean(str(a[ATTR_ENDUSER_ID])),
    caller_source: clean(str(a[ATTR_MCP_AUDIT_CALLER_SOURCE])),
    tool_name: clean(str(a[ATTR_GEN_AI_TOOL_NAME]) ?? method),
    tool_parameters: redactor.value(parseArguments(a[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS])).value ?? null,
    result_summary: clean(str(a[ATTR_MCP_AUDIT_RESULT_SUMMARY])),
    result_size_bytes: num(a[ATTR_MCP_AUDIT_RESULT_SIZE]),
    latency_ms: nsToMs3(f.durationNs),
    server_id: clean(str(a[ATTR_MCP_AUDIT_SERVER_NAME])),
    error: clean(errorOf(str(a[ATTR_ERROR_TYPE]), f.statusIsError, f.statusMessage)),
    llm_turn_id: clean(str(a[ATTR_MCP_AUDIT_TURN_ID])),
    method: clean(method),
    trace_id: f.traceId,
    span_id: f.spanId,
    parent_span_id: f.parentSpanId,
    side: f.side,
    service_name: clean(str(f.resourceAttributes[ATTR_SERVICE_NAME])),
  };
}

// The short identifying fields (method, tool, server, session, service) repeat from record to
// record, and string redaction is deterministic: their results are remembered, in a bounded map
// emptied when full. Tool arguments are not strings here and are redacted every time.
const REMEMBER_UP_TO_CHARS = 256;
const REMEMBERED_STRINGS = 2048;
const cleaned = new Map<string, string>();

function clean(s: string | null): string | null {
  if (s === null) return null;
  if (s.length > REMEMBER_UP_TO_CHARS) return redactor.string(s).text;
  let out = cleaned.get(s);
  if (out === undefined) {
    out = redactor.string(s).text;
    if (cleaned.size >= REMEMBERED_STRINGS) cleaned.clear();
    cleaned.set(s, out);
  }
  return out;
}

function hrTimeToNs(t: readonly [number, number]): bigint {
  return BigInt(Math.trunc(t[0])) * 1_000_000_000n + BigInt(Math.trunc(t[1]));
}

/** Milliseconds with at most 3 decimals: microseconds are what clocks give us; more is noise. */
function nsToMs3(ns: bigint): number {
  if (ns <= 0n) return 0;
  return Number((ns + 500n) / 1000n) / 1000;
}

function errorOf(type: string | null, statusIsError: boolean, message: string | null): string | null {
  // error.type is set for every failure, including server-side protocol errors that do not set
  // span status ERROR (the caller's fault: docs/architecture.md, "The span contract"); status alone covers spans from other instrumentations.
  if (type !== null) return message ? `${type}: ${message}` : type;
  if (statusIsError) return message ?? 'error';
  return null;
}

function parseArguments(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    // Truncation upstream can cut the JSON; the redacted text is still the best evidence we have.
    return value;
  }
}

function str(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

function num(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return null;
}
