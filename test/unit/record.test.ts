import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { context, trace, SpanKind, SpanStatusCode, TraceFlags, type Attributes } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { toAuditRecord, type AuditRecord } from '../../src/evidence/record.js';
import { auditRecordsFromOtlp, OtlpPayloadError } from '../../src/evidence/otlp-json.js';
import { decodeTraceRequest } from '../../src/evidence/otlp-protobuf.js';
import {
  ATTR_ENDUSER_ID,
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_MCP_AUDIT_CALLER_SOURCE,
  ATTR_MCP_AUDIT_RESULT_SIZE,
  ATTR_MCP_AUDIT_RESULT_SUMMARY,
  ATTR_MCP_AUDIT_SERVER_NAME,
  ATTR_MCP_AUDIT_TURN_ID,
  ATTR_MCP_METHOD_NAME,
  CALLER_SOURCE_CONTEXT,
  ERROR_TYPE_TOOL_ERROR,
  GEN_AI_OPERATION_EXECUTE_TOOL,
} from '../../src/semconv.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT_ID = 'b7ad6b7169203331';

interface SpanSpec {
  name: string;
  kind: SpanKind;
  attributes: Attributes;
  /** [seconds, nanos] */
  start: [number, number];
  end: [number, number];
  status?: { code: SpanStatusCode; message?: string };
  parent?: boolean;
}

/** Real SDK spans (not hand-made objects), so the mapper sees exactly what an exporter gets. */
function makeSpans(specs: SpanSpec[]): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'finance-agent' }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer('test');
  for (const s of specs) {
    const ctx = s.parent
      ? trace.setSpanContext(context.active(), {
          traceId: TRACE_ID,
          spanId: PARENT_ID,
          traceFlags: TraceFlags.SAMPLED,
        })
      : context.active();
    const span = tracer.startSpan(
      s.name,
      { kind: s.kind, attributes: s.attributes, startTime: s.start },
      ctx,
    );
    if (s.status) span.setStatus(s.status);
    span.end(s.end);
  }
  return exporter.getFinishedSpans();
}

const toolCall: SpanSpec = {
  name: 'tools/call db_query',
  kind: SpanKind.CLIENT,
  parent: true,
  start: [1773825263, 400_123_456],
  end: [1773825263, 650_246_912],
  attributes: {
    [ATTR_MCP_METHOD_NAME]: 'tools/call',
    [ATTR_GEN_AI_TOOL_NAME]: 'db_query',
    [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_EXECUTE_TOOL,
    [ATTR_GEN_AI_CONVERSATION_ID]: 'a3f8c',
    [ATTR_ENDUSER_ID]: 'user:sarah',
    [ATTR_MCP_AUDIT_CALLER_SOURCE]: CALLER_SOURCE_CONTEXT,
    [ATTR_GEN_AI_TOOL_CALL_ARGUMENTS]:
      '{"sql":"SELECT name, email, ssn FROM customers WHERE balance > ?","database":"production"}',
    [ATTR_MCP_AUDIT_RESULT_SUMMARY]: 'content: 1 text; rows: 2400',
    [ATTR_MCP_AUDIT_RESULT_SIZE]: 487200,
    [ATTR_MCP_AUDIT_SERVER_NAME]: 'mcp-db-prod-01',
    [ATTR_MCP_AUDIT_TURN_ID]: 'turn-7',
  },
};

describe('toAuditRecord (ReadableSpan)', () => {
  it('maps a client tools/call span to the whole flat record', () => {
    const [span] = makeSpans([toolCall]);
    const expected: AuditRecord = {
      timestamp: '2026-03-18T09:14:23.400Z',
      session_id: 'a3f8c',
      caller_identity: 'user:sarah',
      caller_source: 'context',
      tool_name: 'db_query',
      tool_parameters: {
        sql: 'SELECT name, email, ssn FROM customers WHERE balance > ?',
        database: 'production',
      },
      result_summary: 'content: 1 text; rows: 2400',
      result_size_bytes: 487200,
      latency_ms: 250.123, // 250.123456 ms, rounded to microseconds
      server_id: 'mcp-db-prod-01',
      error: null,
      llm_turn_id: 'turn-7',
      method: 'tools/call',
      trace_id: TRACE_ID,
      span_id: span!.spanContext().spanId,
      parent_span_id: PARENT_ID,
      side: 'client',
      service_name: 'finance-agent',
    };
    assert.deepStrictEqual(toAuditRecord(span!), expected);
  });

  it('maps a failed server span: error.type plus the status message; absent fields are null', () => {
    const [span] = makeSpans([
      {
        name: 'tools/call file_read',
        kind: SpanKind.SERVER,
        start: [1773825264, 0],
        end: [1773825264, 1_500],
        status: { code: SpanStatusCode.ERROR, message: 'path outside the sandbox' },
        attributes: {
          [ATTR_MCP_METHOD_NAME]: 'tools/call',
          [ATTR_GEN_AI_TOOL_NAME]: 'file_read',
          [ATTR_GEN_AI_TOOL_CALL_ARGUMENTS]: '{"path":"../etc/pas', // truncated upstream: not JSON
          [ATTR_ERROR_TYPE]: ERROR_TYPE_TOOL_ERROR,
          [ATTR_MCP_AUDIT_RESULT_SIZE]: 0,
        },
      },
    ]);
    assert.deepStrictEqual(toAuditRecord(span!), {
      timestamp: '2026-03-18T09:14:24.000Z',
      session_id: null,
      caller_identity: null,
      caller_source: null,
      tool_name: 'file_read',
      tool_parameters: '{"path":"../etc/pas',
      result_summary: null,
      result_size_bytes: 0,
      latency_ms: 0.002,
      server_id: null,
      error: 'tool_error: path outside the sandbox',
      llm_turn_id: null,
      method: 'tools/call',
      trace_id: span!.spanContext().traceId,
      span_id: span!.spanContext().spanId,
      parent_span_id: null,
      side: 'server',
      service_name: 'finance-agent',
    } satisfies AuditRecord);
  });

  it('uses the method as tool_name for non-tool requests, and error.type alone when status is unset', () => {
    const [span] = makeSpans([
      {
        name: 'tools/list',
        kind: SpanKind.SERVER,
        start: [1773825265, 0],
        end: [1773825265, 0],
        attributes: { [ATTR_MCP_METHOD_NAME]: 'tools/list', [ATTR_ERROR_TYPE]: '-32602' },
      },
    ]);
    const r = toAuditRecord(span!);
    assert.equal(r.tool_name, 'tools/list');
    assert.equal(r.tool_parameters, null);
    assert.equal(r.error, '-32602');
    assert.equal(r.latency_ms, 0);
  });
});

describe('OTLP mappers share the field logic', () => {
  const specs: SpanSpec[] = [
    toolCall,
    {
      ...toolCall,
      kind: SpanKind.SERVER,
      status: { code: SpanStatusCode.ERROR, message: 'boom' },
      attributes: { ...toolCall.attributes, [ATTR_ERROR_TYPE]: '-32603' },
    },
    {
      name: 'GET /',
      kind: SpanKind.SERVER,
      start: [1, 0],
      end: [2, 0],
      attributes: { 'http.method': 'GET' },
    },
  ];

  it('OTLP/JSON from the JS serializer gives the same records as the ReadableSpans', () => {
    const spans = makeSpans(specs);
    const json = JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans)));
    const mapped = auditRecordsFromOtlp(json);
    assert.deepStrictEqual(mapped.records, spans.slice(0, 2).map(toAuditRecord));
    assert.equal(mapped.ignored, 1, 'the HTTP span is not an MCP request');
    assert.equal(mapped.rejected, 0);
  });

  it('OTLP/protobuf decoded by the sink gives the same records', () => {
    const spans = makeSpans(specs);
    const decoded = decodeTraceRequest(ProtobufTraceSerializer.serializeRequest(spans)!);
    assert.deepStrictEqual(auditRecordsFromOtlp(decoded).records, spans.slice(0, 2).map(toAuditRecord));
  });

  it('maps a collector-style OTLP/JSON span (int64 as strings, kind as number) to the whole record', () => {
    const request = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'mcp-db' } }] },
          scopeSpans: [
            {
              scope: { name: 'mcp-audit' },
              spans: [
                {
                  traceId: TRACE_ID.toUpperCase(),
                  spanId: '00f067aa0ba902b7',
                  parentSpanId: PARENT_ID,
                  name: 'tools/call db_query',
                  kind: 2,
                  startTimeUnixNano: '1773825263400000000',
                  endTimeUnixNano: '1773825263650000500',
                  attributes: [
                    { key: ATTR_MCP_METHOD_NAME, value: { stringValue: 'tools/call' } },
                    { key: ATTR_GEN_AI_TOOL_NAME, value: { stringValue: 'db_query' } },
                    { key: ATTR_GEN_AI_CONVERSATION_ID, value: { stringValue: 'a3f8c' } },
                    { key: ATTR_ENDUSER_ID, value: { stringValue: 'user:sarah' } },
                    { key: ATTR_MCP_AUDIT_CALLER_SOURCE, value: { stringValue: 'propagated' } },
                    { key: ATTR_GEN_AI_TOOL_CALL_ARGUMENTS, value: { stringValue: '{"sql":"***"}' } },
                    { key: ATTR_MCP_AUDIT_RESULT_SIZE, value: { intValue: '487200' } },
                    { key: ATTR_MCP_AUDIT_SERVER_NAME, value: { stringValue: 'mcp-db-prod-01' } },
                    { key: 'mcp.extra', value: { arrayValue: { values: [{ boolValue: true }] } } },
                  ],
                  status: {},
                },
              ],
            },
          ],
        },
      ],
    };
    assert.deepStrictEqual(auditRecordsFromOtlp(request), {
      records: [
        {
          timestamp: '2026-03-18T09:14:23.400Z',
          session_id: 'a3f8c',
          caller_identity: 'user:sarah',
          caller_source: 'propagated',
          tool_name: 'db_query',
          tool_parameters: { sql: '***' },
          result_summary: null,
          result_size_bytes: 487200,
          latency_ms: 250.001,
          server_id: 'mcp-db-prod-01',
          error: null,
          llm_turn_id: null,
          method: 'tools/call',
          trace_id: TRACE_ID,
          span_id: '00f067aa0ba902b7',
          parent_span_id: PARENT_ID,
          side: 'server',
          service_name: 'mcp-db',
        },
      ],
      rejected: 0,
      rejectReason: null,
      ignored: 0,
    });
  });

  it('rejects malformed spans one by one and malformed requests as a whole, without echoing data', () => {
    const mcp = [{ key: ATTR_MCP_METHOD_NAME, value: { stringValue: 'tools/call' } }];
    const result = auditRecordsFromOtlp({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: 'secret-token-123',
                  spanId: '00f067aa0ba902b7',
                  startTimeUnixNano: '1',
                  endTimeUnixNano: '2',
                  attributes: mcp,
                },
                {
                  traceId: TRACE_ID,
                  spanId: '00f067aa0ba902b7',
                  startTimeUnixNano: 'soon',
                  endTimeUnixNano: '2',
                  attributes: mcp,
                },
              ],
            },
          ],
        },
      ],
    });
    assert.equal(result.records.length, 0);
    assert.equal(result.rejected, 2);
    assert.doesNotMatch(result.rejectReason!, /secret/);
    assert.throws(() => auditRecordsFromOtlp([]), OtlpPayloadError);
    assert.throws(() => auditRecordsFromOtlp({ resourceSpans: 'x' }), OtlpPayloadError);
    assert.throws(() => decodeTraceRequest(Uint8Array.from([0x0a, 0x05, 0x01])), OtlpPayloadError);
  });
});
