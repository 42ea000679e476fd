// The embedded evidence log builds its records from unredacted spans, redacting only what a
// record reads. It must write exactly the record that the export redaction followed by the
// record mapping gives (`toAuditRecord(redactSpan(span))`), for every span and every redaction
// setting: same masks, same keys, same spans left out.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind, SpanStatusCode, type AttributeValue, type Attributes } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import fc from '../support/property.js';
import { createRedactor, redactionOptionsFromEnv } from '../../src/redaction/redact.js';
import { RedactingSpanExporter, exportRedaction } from '../../src/redaction/span-export.js';
import { isMcpSpanAttributes, toAuditRecord, type AuditRecord } from '../../src/evidence/record.js';
import { SpanRecordBuilder } from '../../src/evidence/span-records.js';
import { AuditFileExporter } from '../../src/evidence/file-exporter.js';
import { verifyLog } from '../../src/evidence/verify.js';
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
} from '../../src/semconv.js';

const SECRETS = [
  'sarah@example.com',
  '4111 1111 1111 1111',
  'ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8',
  'AKIAIOSFODNN7EXAMPLE',
  'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
  '078-05-1120',
  '+44 20 7946 0958',
  'password=hunter2',
];
const KEYS = [
  ATTR_MCP_METHOD_NAME,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_ENDUSER_ID,
  ATTR_MCP_AUDIT_CALLER_SOURCE,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_MCP_AUDIT_RESULT_SUMMARY,
  ATTR_MCP_AUDIT_RESULT_SIZE,
  ATTR_MCP_AUDIT_SERVER_NAME,
  ATTR_ERROR_TYPE,
  ATTR_MCP_AUDIT_TURN_ID,
  'jsonrpc.request.id',
  'db.password',
  'http.request.header.authorization',
  'api_key',
  'customer',
  'process.command_args',
  'ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8',
  'note sarah@example.com',
];

const text = fc.oneof(
  fc.constantFrom('tools/call', 'db_query', 'bench-server', 'content: 1 text (2 chars)', 'ok', ''),
  fc.constantFrom(...SECRETS),
  fc.tuple(fc.string(), fc.constantFrom(...SECRETS), fc.string()).map((p) => p.join(' ')),
  fc.string(),
);
const argumentsJson = fc
  .dictionary(fc.constantFrom('sql', 'to', 'password', 'customer', 'body', 'n'), fc.oneof(text, fc.integer()))
  .map((o) => JSON.stringify(o));
const value: fc.Arbitrary<AttributeValue> = fc.oneof(
  text,
  argumentsJson,
  fc.integer(),
  fc.constantFrom(4111111111111111, 0, 41, 1.5),
  fc.boolean(),
  fc.array(text, { maxLength: 3 }),
  fc.array(fc.integer(), { maxLength: 3 }),
);
const attributes: fc.Arbitrary<Attributes> = fc.dictionary(fc.constantFrom(...KEYS), value, {
  maxKeys: 12,
});
const spanSpec = fc.record({
  attributes,
  mcp: fc.boolean(),
  kind: fc.constantFrom(SpanKind.CLIENT, SpanKind.SERVER, SpanKind.INTERNAL),
  status: fc.option(fc.record({ error: fc.boolean(), message: fc.option(text, { nil: undefined }) }), {
    nil: undefined,
  }),
  service: fc.oneof(fc.constantFrom('finance-agent', 'agent sarah@example.com'), text),
});
type Spec = typeof spanSpec extends fc.Arbitrary<infer T> ? T : never;

const providers = new Map<string, { provider: TracerProvider; exporter: InMemorySpanExporter }>();

/** A real SDK span, from a provider (a resource) per service name. */
function spanOf(spec: Spec): ReadableSpan {
  let entry = providers.get(spec.service);
  if (!entry) {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({
      resource: resourceFromAttributes({
        'service.name': spec.service,
        'process.command_args': ['node', 'agent.js', '--token', SECRETS[2]!],
        'process.command_line': `node agent.js --token ${SECRETS[2]}`,
      }),
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    entry = { provider, exporter };
    providers.set(spec.service, entry);
  }
  const { provider, exporter } = entry;
  exporter.reset();
  const attrs = spec.mcp ? { [ATTR_MCP_METHOD_NAME]: 'tools/call', ...spec.attributes } : spec.attributes;
  const span = provider
    .getTracer('t')
    .startSpan('tools/call db_query', { kind: spec.kind, attributes: attrs });
  if (spec.status) {
    span.setStatus({
      code: spec.status.error ? SpanStatusCode.ERROR : SpanStatusCode.OK,
      ...(spec.status.message === undefined ? {} : { message: spec.status.message }),
    });
  }
  span.end();
  return exporter.getFinishedSpans()[0]!;
}

/** What the embedded log wrote before: the export redaction, the MCP filter, the record. */
function throughExportRedaction(spans: ReadableSpan[], env: NodeJS.ProcessEnv): (AuditRecord | null)[] {
  const { redactor, keepCommandLine } = exportRedaction(env);
  let redacted: ReadableSpan[] = [];
  const capture: SpanExporter = {
    export: (s, done) => {
      redacted = s;
      done({ code: ExportResultCode.SUCCESS });
    },
    shutdown: async () => undefined,
  };
  new RedactingSpanExporter(capture, redactor, { keepCommandLine }).export(spans, () => undefined);
  return redacted.map((s) => (isMcpSpanAttributes(s.attributes) ? toAuditRecord(s) : null));
}

const SETTINGS: Record<string, NodeJS.ProcessEnv> = {
  default: {},
  'extra keys, allowed keys, extra pattern': {
    MCP_AUDIT_REDACT_KEYS: 'customer,sql',
    MCP_AUDIT_ALLOW_KEYS: 'api_key',
    MCP_AUDIT_REDACT_PATTERNS: '[{"name":"bench","pattern":"bench-[a-z]+"}]',
  },
  'email detector disabled, command line kept': {
    MCP_AUDIT_REDACT_DISABLE: 'email',
    MCP_AUDIT_RESOURCE_COMMAND_ARGS: 'true',
  },
};

describe('SpanRecordBuilder', () => {
  for (const [name, env] of Object.entries(SETTINGS)) {
    it(`writes the record of the export redaction, for every span (${name}; property)`, () => {
      // Checks the environment parses: a setting that failed would test the fallback twice.
      redactionOptionsFromEnv(env);
      const { redactor, keepCommandLine } = exportRedaction(env);
      // One builder across all runs: what it remembers must never change a later record.
      const builder = new SpanRecordBuilder({ redactor, keepCommandLine });
      fc.assert(
        fc.property(fc.array(spanSpec, { minLength: 1, maxLength: 4 }), (specs) => {
          const spans = specs.map(spanOf);
          const expected = throughExportRedaction(spans, env);
          assert.deepStrictEqual(
            spans.map((s) => builder.build(s)),
            expected,
          );
          // Built again (everything remembered now): the same records.
          assert.deepStrictEqual(
            spans.map((s) => builder.build(s)),
            expected,
          );
        }),
        { numRuns: 300 },
      );
    });
  }

  it('masks what the spans carry in clear (not only what the instrumentation redacted)', () => {
    const builder = new SpanRecordBuilder({ redactor: createRedactor() });
    const record = builder.build(
      spanOf({
        mcp: true,
        kind: SpanKind.CLIENT,
        service: 'agent sarah@example.com',
        status: { error: true, message: `failed for ${SECRETS[0]}` },
        attributes: {
          [ATTR_GEN_AI_TOOL_CALL_ARGUMENTS]: JSON.stringify({ to: SECRETS[0], password: 'hunter2' }),
          [ATTR_GEN_AI_CONVERSATION_ID]: SECRETS[2]!,
          [ATTR_ERROR_TYPE]: 'tool_error',
        },
      }),
    );
    const line = JSON.stringify(record);
    for (const secret of [SECRETS[0]!, SECRETS[2]!, 'hunter2']) assert.ok(!line.includes(secret), line);
    assert.deepStrictEqual(record?.tool_parameters, { to: '[REDACTED:email]', password: '[REDACTED:key]' });
  });
});

describe('AuditFileExporter with the export redaction', () => {
  it('writes every record of a large batch, in order, in a log that verifies', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mcp-audit-span-records-')), 'audit.jsonl');
    const exporter = new AuditFileExporter({ file, redaction: exportRedaction({}) });
    const spans: ReadableSpan[] = [];
    for (let i = 0; i < 2000; i++) {
      spans.push(
        spanOf({
          mcp: i % 10 !== 0,
          kind: SpanKind.SERVER,
          service: 'finance-agent',
          status: undefined,
          attributes: {
            [ATTR_GEN_AI_TOOL_NAME]: 'db_query',
            [ATTR_GEN_AI_TOOL_CALL_ARGUMENTS]: JSON.stringify({ sql: `SELECT ${i}`, to: SECRETS[0] }),
            [ATTR_MCP_AUDIT_RESULT_SIZE]: i,
          },
        }),
      );
    }
    const result = await new Promise<ExportResult>((resolve) => exporter.export(spans, resolve));
    assert.equal(result.code, ExportResultCode.SUCCESS);
    await exporter.shutdown();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const expected = throughExportRedaction(spans, {}).filter((r) => r !== null);
    assert.equal(lines.length, 1800);
    assert.deepStrictEqual(
      lines.map((l) => {
        const { seq: _s, prev_hash: _p, hash: _h, ...record } = JSON.parse(l) as Record<string, unknown>;
        return record;
      }),
      expected,
    );
    const v = await verifyLog([file]);
    assert.equal(v.ok, true);
  });
});
