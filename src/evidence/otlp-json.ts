// OTLP/JSON trace requests (what the collector's otlphttp exporter sends with `encoding: json`, and
// what the protobuf decoder in src/evidence/otlp-protobuf.ts produces) mapped to audit records through the same
// `recordFromFacts` as the in-process exporter. Input is untrusted: every field is checked, a bad
// span is rejected on its own (OTLP partial success), and nothing of the payload is echoed in errors.

import { recordFromFacts, isMcpSpanAttributes, type AuditRecord } from './record.js';

export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  /** int64: a decimal string in proto3 JSON, a number from lenient senders. */
  intValue?: string | number;
  doubleValue?: number | string;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: string;
}
export interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name?: string;
  /** OTLP enum: 1 internal, 2 server, 3 client, 4 producer, 5 consumer (or its proto name). */
  kind?: number | string;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: OtlpKeyValue[];
  status?: { code?: number | string; message?: string };
}
export interface OtlpScopeSpans {
  scope?: { name?: string; version?: string };
  spans?: OtlpSpan[];
}
export interface OtlpResourceSpans {
  resource?: { attributes?: OtlpKeyValue[] };
  scopeSpans?: OtlpScopeSpans[];
}
export interface OtlpTraceRequest {
  resourceSpans?: OtlpResourceSpans[];
}

/** The whole request is unusable (reply 400). The message never contains payload content. */
export class OtlpPayloadError extends Error {
  override name = 'OtlpPayloadError';
}

export interface OtlpMappingResult {
  records: AuditRecord[];
  /** Spans that were malformed (OTLP partialSuccess.rejectedSpans). */
  rejected: number;
  /** First reason a span was rejected, for partialSuccess.errorMessage. */
  rejectReason: string | null;
  /** Well-formed spans that are not MCP requests: accepted, not audit records. */
  ignored: number;
}

const OTLP_KIND_SERVER = 2;
const OTLP_KIND_CLIENT = 3;
const OTLP_STATUS_ERROR = 2;
const HEX32 = /^[0-9a-fA-F]{32}$/;
const HEX16 = /^[0-9a-fA-F]{16}$/;
const DECIMAL = /^\d{1,20}$/;

export function auditRecordsFromOtlp(request: unknown): OtlpMappingResult {
  if (!isObject(request))
    throw new OtlpPayloadError('request is not an OTLP ExportTraceServiceRequest object');
  const resourceSpans = optionalArray(request.resourceSpans, 'resourceSpans');
  const out: OtlpMappingResult = { records: [], rejected: 0, rejectReason: null, ignored: 0 };
  for (const rs of resourceSpans) {
    if (!isObject(rs)) throw new OtlpPayloadError('resourceSpans[] entry is not an object');
    const resource = isObject(rs.resource) ? rs.resource : {};
    const resourceAttributes = attributesToObject(resource.attributes);
    for (const ss of optionalArray(rs.scopeSpans, 'scopeSpans')) {
      if (!isObject(ss)) throw new OtlpPayloadError('scopeSpans[] entry is not an object');
      for (const span of optionalArray(ss.spans, 'spans')) {
        try {
          const record = otlpSpanToAuditRecord(span, resourceAttributes);
          if (record) out.records.push(record);
          else out.ignored++;
        } catch (err) {
          out.rejected++;
          out.rejectReason ??= err instanceof OtlpPayloadError ? err.message : 'malformed span';
        }
      }
    }
  }
  return out;
}

/** Maps one OTLP/JSON span; null for spans that are not MCP requests. Throws on a malformed span. */
export function otlpSpanToAuditRecord(
  span: unknown,
  resourceAttributes: Readonly<Record<string, unknown>>,
): AuditRecord | null {
  if (!isObject(span)) throw new OtlpPayloadError('span is not an object');
  const attributes = attributesToObject(span.attributes);
  if (!isMcpSpanAttributes(attributes)) return null;
  const traceId = span.traceId;
  const spanId = span.spanId;
  if (typeof traceId !== 'string' || !HEX32.test(traceId))
    throw new OtlpPayloadError('span.traceId is not 32 hex digits');
  if (typeof spanId !== 'string' || !HEX16.test(spanId))
    throw new OtlpPayloadError('span.spanId is not 16 hex digits');
  const parent = span.parentSpanId;
  if (parent !== undefined && parent !== '' && (typeof parent !== 'string' || !HEX16.test(parent))) {
    throw new OtlpPayloadError('span.parentSpanId is not 16 hex digits');
  }
  const start = nanos(span.startTimeUnixNano, 'startTimeUnixNano');
  const end = nanos(span.endTimeUnixNano, 'endTimeUnixNano');
  const kind = kindNumber(span.kind);
  const status = isObject(span.status) ? span.status : {};
  return recordFromFacts({
    attributes,
    resourceAttributes,
    side: kind === OTLP_KIND_CLIENT ? 'client' : kind === OTLP_KIND_SERVER ? 'server' : null,
    startNs: start,
    durationNs: end > start ? end - start : 0n,
    traceId: traceId.toLowerCase(),
    spanId: spanId.toLowerCase(),
    parentSpanId: typeof parent === 'string' && parent !== '' ? parent.toLowerCase() : null,
    statusIsError: statusCode(status.code) === OTLP_STATUS_ERROR,
    statusMessage: typeof status.message === 'string' && status.message !== '' ? status.message : null,
  });
}

export function attributesToObject(list: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (list === undefined || list === null) return out;
  if (!Array.isArray(list)) throw new OtlpPayloadError('attributes is not an array');
  for (const kv of list) {
    if (!isObject(kv) || typeof kv.key !== 'string')
      throw new OtlpPayloadError('attribute without a string key');
    setOwn(out, kv.key, anyValue(kv.value, 0));
  }
  return out;
}

// An attribute named "__proto__" must stay data: assigned, it would re-point the object's prototype
// and make its kvlist entries read as the span's own attributes (a spoofed method or tool name).
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function anyValue(v: unknown, depth: number): unknown {
  // Depth bound: a hostile payload must not be able to blow the stack of the receiver.
  if (depth > 16) throw new OtlpPayloadError('attribute value nested too deeply');
  if (!isObject(v)) return null;
  if (typeof v.stringValue === 'string') return v.stringValue;
  if (typeof v.boolValue === 'boolean') return v.boolValue;
  if (v.intValue !== undefined) {
    const n = typeof v.intValue === 'string' ? Number(v.intValue) : v.intValue;
    if (typeof n !== 'number' || !Number.isFinite(n))
      throw new OtlpPayloadError('intValue is not an integer');
    return n;
  }
  if (v.doubleValue !== undefined) {
    const n = typeof v.doubleValue === 'string' ? Number(v.doubleValue) : v.doubleValue;
    if (typeof n !== 'number') throw new OtlpPayloadError('doubleValue is not a number');
    return n;
  }
  if (isObject(v.arrayValue)) {
    return optionalArray(v.arrayValue.values, 'arrayValue.values').map((x) => anyValue(x, depth + 1));
  }
  if (isObject(v.kvlistValue)) {
    const obj: Record<string, unknown> = {};
    for (const kv of optionalArray(v.kvlistValue.values, 'kvlistValue.values')) {
      if (!isObject(kv) || typeof kv.key !== 'string')
        throw new OtlpPayloadError('kvlist entry without a key');
      setOwn(obj, kv.key, anyValue(kv.value, depth + 1));
    }
    return obj;
  }
  if (typeof v.bytesValue === 'string') return v.bytesValue;
  return null;
}

function nanos(v: unknown, field: string): bigint {
  if (typeof v === 'string' && DECIMAL.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  // Lenient senders write ns as a float beyond 2^53; microsecond precision survives that.
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return BigInt(Math.trunc(v / 1000)) * 1000n;
  throw new OtlpPayloadError(`span.${field} is not a unix-nano timestamp`);
}

function kindNumber(kind: unknown): number {
  if (typeof kind === 'number') return kind;
  if (kind === 'SPAN_KIND_SERVER') return OTLP_KIND_SERVER;
  if (kind === 'SPAN_KIND_CLIENT') return OTLP_KIND_CLIENT;
  return 0;
}

function statusCode(code: unknown): number {
  if (typeof code === 'number') return code;
  if (code === 'STATUS_CODE_ERROR') return OTLP_STATUS_ERROR;
  return 0;
}

function optionalArray(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new OtlpPayloadError(`${field} is not an array`);
  return v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
