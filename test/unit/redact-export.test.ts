// Redaction at the exporter: a span produced by the real SDK, carrying secrets in every exported
// string (name, attributes, events with an exception, links, status, resource), reaches the
// wrapped exporter with each of them masked and nothing else changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanStatusCode, trace, type Link } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { createRedactor } from '../../src/redaction/redact.js';
import {
  auditResourceDetectors,
  keepCommandLine,
  redactedEnvResourceAttributes,
} from '../../src/redaction/resource.js';
import { RedactingSpanExporter, redactResource } from '../../src/redaction/span-export.js';

const TOKEN = 'ghp_16C7e42F292c6912E7710c838347Ae178B4a';
const DB = 'postgres://u:pass1234@db/x';
const redactor = createRedactor();

function exported(keepCommand = false) {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'agent',
      'process.command_args': ['node', 'app.mjs', '--api-key', TOKEN, '--db', DB],
      'process.command_line': `node app.mjs --api-key ${TOKEN} --db ${DB}`,
      'deployment.owner': 'sarah@example.com',
    }),
    spanProcessors: [
      new SimpleSpanProcessor({
        exporter: new RedactingSpanExporter(memory, redactor, { keepCommandLine: keepCommand }),
      }),
    ],
  });
  const tracer = provider.getTracer('t');
  const other = tracer.startSpan('other');
  const link: Link = { context: other.spanContext(), attributes: { 'link.note': `from ${TOKEN}` } };
  const span = tracer.startSpan(`call for sarah@example.com`, {
    attributes: {
      'http.url': `https://api.example.com/x?access_token=${TOKEN}`,
      'db.password': 'hunter2',
      'db.connection_string': DB,
      'mcp_audit.result.size': 412551234,
      'peer.cards': ['4111 1111 1111 1111', 'ok'],
      'detector.classes': ['github_token', 'key'],
    },
    links: [link],
  });
  span.recordException(new Error(`bad key ${TOKEN} for 412-55-1234`));
  span.addEvent(`retry sarah@example.com`, { 'event.detail': DB });
  span.setStatus({ code: SpanStatusCode.ERROR, message: `denied ${TOKEN}` });
  span.end();
  other.end();
  const spans = memory.getFinishedSpans();
  return { spans, span: spans.find((s) => s.name !== 'other')!, provider };
}

test('every exported string of a span is redacted; ids, numbers and structure stay', async () => {
  const { span, spans, provider } = exported();
  assert.equal(spans.length, 2);
  assert.equal(span.name, 'call for [REDACTED:email]');
  assert.deepEqual(span.attributes, {
    'http.url': 'https://api.example.com/x?access_token=[REDACTED:github_token]',
    'db.password': '[REDACTED:key]',
    'db.connection_string': '[REDACTED:key]',
    'mcp_audit.result.size': 412551234,
    'peer.cards': ['[REDACTED:card]', 'ok'],
    'detector.classes': ['github_token', 'key'],
  });
  const exception = span.events.find((e) => e.name === 'exception')!;
  assert.equal(
    exception.attributes?.['exception.message'],
    'bad key [REDACTED:github_token] for [REDACTED:ssn]',
  );
  assert.ok(!String(exception.attributes?.['exception.stacktrace']).includes(TOKEN));
  assert.match(String(exception.attributes?.['exception.stacktrace']), /\[REDACTED:github_token\]/);
  const retry = span.events.find((e) => e.name.startsWith('retry'))!;
  assert.equal(retry.name, 'retry [REDACTED:email]');
  assert.deepEqual(retry.attributes, { 'event.detail': 'postgres://u:[REDACTED:url_password]@db/x' });
  assert.deepEqual(span.links[0]!.attributes, { 'link.note': 'from [REDACTED:github_token]' });
  assert.equal(span.links[0]!.context.spanId, spans.find((s) => s.name === 'other')!.spanContext().spanId);
  assert.equal(span.status.message, 'denied [REDACTED:github_token]');
  assert.equal(span.status.code, SpanStatusCode.ERROR);
  assert.deepEqual(span.resource.attributes, {
    'service.name': 'agent',
    'deployment.owner': '[REDACTED:email]',
  });
  await provider.shutdown();
});

test('the command line stays on the resource, redacted, only when asked', async () => {
  const { span, provider } = exported(true);
  assert.deepEqual(span.resource.attributes['process.command_args'], [
    'node',
    'app.mjs',
    '--api-key',
    '[REDACTED:key]',
    '--db',
    'postgres://u:[REDACTED:url_password]@db/x',
  ]);
  assert.equal(
    span.resource.attributes['process.command_line'],
    'node app.mjs --api-key [REDACTED:github_token] --db postgres://u:[REDACTED:url_password]@db/x',
  );
  await provider.shutdown();
  assert.equal(keepCommandLine({ MCP_AUDIT_RESOURCE_COMMAND_ARGS: 'TRUE' }), true);
  assert.equal(keepCommandLine({}), false);
});

test('resource detectors drop the command line by default; env resource attributes are redacted', () => {
  const detected = auditResourceDetectors({}, redactor).map((d) => d.detect().attributes ?? {});
  const merged = Object.assign({}, ...detected) as Record<string, unknown>;
  assert.ok('process.pid' in merged && 'host.name' in merged);
  assert.ok(!('process.command_args' in merged) && !('process.command_line' in merged));
  const kept = auditResourceDetectors({ MCP_AUDIT_RESOURCE_COMMAND_ARGS: 'true' }, redactor).map(
    (d) => d.detect().attributes ?? {},
  );
  assert.ok(kept.some((a) => Array.isArray(a['process.command_args'])));
  assert.deepEqual(auditResourceDetectors({ OTEL_NODE_RESOURCE_DETECTORS: 'none' }, redactor), []);
  assert.deepEqual(
    redactedEnvResourceAttributes(
      { OTEL_RESOURCE_ATTRIBUTES: `team=core,owner=sarah%40example.com,api_key=${TOKEN}` },
      redactor,
    ),
    { owner: '[REDACTED:email]', api_key: '[REDACTED:key]' },
  );
  const r = redactResource(
    redactor,
    resourceFromAttributes({ 'process.command_args': ['x', TOKEN], 'service.name': 's' }),
  );
  assert.deepEqual(r.attributes, { 'service.name': 's' });
  assert.ok(trace !== undefined);
});

test('the evidence record is redacted whatever reached it (the sink path included)', async () => {
  const { recordFromFacts } = await import('../../src/evidence/record.js');
  const record = recordFromFacts({
    attributes: {
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'db_query',
      'enduser.id': 'user:sarah@example.com',
      'gen_ai.tool.call.arguments': JSON.stringify({ q: 'ssn 412-55-1234', password: 'hunter2' }),
      'mcp_audit.result.summary': `token ${TOKEN}`,
      'error.type': 'tool_error',
    },
    resourceAttributes: { 'service.name': 'agent' },
    side: 'client',
    startNs: 1_700_000_000_000_000_000n,
    durationNs: 1_000_000n,
    traceId: 'a'.repeat(32),
    spanId: 'b'.repeat(16),
    parentSpanId: null,
    statusIsError: true,
    statusMessage: `failed for ${DB}`,
  });
  assert.equal(record.caller_identity, 'user:[REDACTED:email]');
  assert.deepEqual(record.tool_parameters, { q: 'ssn [REDACTED:ssn]', password: '[REDACTED:key]' });
  assert.equal(record.result_summary, 'token [REDACTED:github_token]');
  assert.equal(record.error, 'tool_error: failed for postgres://u:[REDACTED:url_password]@db/x');
  assert.equal(record.tool_name, 'db_query');
});
