// The hostile-input corpus, generated (deterministic, no randomness): malformed and hostile MCP
// frames for a stdio server, hostile replies for a stdio client, and malformed or oversized OTLP
// bodies for an OTLP/HTTP receiver. Every hostile item carries a secret, so a test can check that
// none of them reaches an exported span, a log or an evidence file.
// Deep structures are built as text, never by recursion, so the corpus itself cannot blow a stack.
import { SpanKind } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

/** Secrets the redaction engine detects, one per hiding place (from test/fixtures/secrets-corpus.json). */
export const HOSTILE_SECRETS = {
  invalidJson: 'ghp_EBHWKAZdKA44JhNm1svkyhpQSZOWrDgZ05hU',
  hugeId: 'AKIAIOSFODNN7EXAMPLE',
  deep: 'sk_live_51bFi0cl1UJU7rqQRUAy0GF1ug3tN16OKKNwx1BZ0x6wrC9EfMmSJAgaRkHOq5',
  proto: 'xoxb-796777280182-4727388481098-pfEfWrNJ0qWl06P0Ngpad0y6',
  surrogate: 'npm_KWoCFuTLxdfhIjWOjaEav6wHkmxv5Z4N0HXz',
  binary: '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',
  big: 'glrt-89c3AXRYPtrfpUIfHbhe',
  otlp: 'sk-ant-api03-HrHvER4vf8wD-5ataDcZ1mGaABDgQ91j7qBCoL7_8P06GZQJTka1I1A06',
} as const;

export const DEEP_LEVELS = 10_000;
export const BIG_BYTES = 50 * 1024 * 1024;

/** `{"a":{"a":…leaf…}}` nested `levels` deep, as JSON text. */
export function nestedObjectJson(levels: number, leafJson: string): string {
  return '{"a":'.repeat(levels) + leafJson + '}'.repeat(levels);
}

/** `[[[…leaf…]]]` nested `levels` deep, as JSON text. */
export function nestedArrayJson(levels: number, leafJson: string): string {
  return '['.repeat(levels) + leafJson + ']'.repeat(levels);
}

const line = (s: string | Buffer): Buffer => Buffer.concat([Buffer.from(s), Buffer.from('\n')]);
const call = (id: string, name: string, argumentsJson: string): string =>
  `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":${JSON.stringify(name)},"arguments":${argumentsJson}}}`;

export interface HostileFrame {
  name: string;
  /** The bytes written to the server's stdin, one or more newline-terminated lines. */
  bytes: Buffer;
  /** The secret hidden in it ('' when the frame carries none). */
  secret: string;
}

/**
 * Frames a client could send to an MCP stdio server, after the handshake. The server under test
 * registers `mirror` (answers its arguments as text) and `big` (answers `bytes` bytes of text
 * with `secret` at both ends).
 */
export function serverFrames(): HostileFrame[] {
  const s = HOSTILE_SECRETS;
  const bin = Buffer.concat([
    Buffer.from(`${call('"bin-1"', 'mirror', `{"payload":"bytes `)}`),
    Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x00, 0xe2, 0x82]),
    Buffer.from(` ${s.binary} `),
    Buffer.from([0xed, 0xa0, 0x80, 0xf8, 0x88, 0x80, 0x80, 0x80]),
    Buffer.from(`"}}}`),
  ]);
  return [
    {
      name: 'truncated JSON',
      bytes: line(
        `{"jsonrpc":"2.0","id":"trunc-1","method":"tools/call","params":{"name":"mirror","arguments":{"token":"${s.invalidJson}"`,
      ),
      secret: s.invalidJson,
    },
    { name: 'not JSON at all', bytes: line(`token=${s.invalidJson} \u0000\u0007 }{`), secret: s.invalidJson },
    {
      name: 'JSON that is not JSON-RPC',
      bytes: line(`[1,2,{"token":"${s.invalidJson}"}]`),
      secret: s.invalidJson,
    },
    {
      name: 'a 1 MB string id',
      bytes: line(
        call(JSON.stringify(`${'x'.repeat(1024 * 1024)}${s.hugeId}`), 'mirror', '{"payload":"long id"}'),
      ),
      secret: s.hugeId,
    },
    {
      name: 'a short string id holding a secret',
      bytes: line(call(JSON.stringify(`req-${s.hugeId}`), 'mirror', '{"payload":"secret id"}')),
      secret: s.hugeId,
    },
    { name: 'id 1e400', bytes: line(call('1e400', 'mirror', '{"payload":"inf id"}')), secret: '' },
    {
      name: 'a 40-digit integer id',
      bytes: line(call('1234567890123456789012345678901234567890', 'mirror', '{"payload":"big id"}')),
      secret: '',
    },
    { name: 'id -0.5', bytes: line(call('-0.5', 'mirror', '{"payload":"fraction id"}')), secret: '' },
    {
      name: `arguments nested ${DEEP_LEVELS} levels`,
      bytes: line(
        call('"deep-1"', 'mirror', `{"payload":${nestedObjectJson(DEEP_LEVELS, JSON.stringify(s.deep))}}`),
      ),
      secret: s.deep,
    },
    {
      name: `an array nested ${DEEP_LEVELS} levels`,
      bytes: line(
        call('"deep-2"', 'mirror', `{"payload":${nestedArrayJson(DEEP_LEVELS, JSON.stringify(s.deep))}}`),
      ),
      secret: s.deep,
    },
    {
      name: `params nested ${DEEP_LEVELS} levels (no tool name)`,
      bytes: line(
        `{"jsonrpc":"2.0","id":"deep-3","method":"tools/call","params":${nestedObjectJson(DEEP_LEVELS, JSON.stringify(s.deep))}}`,
      ),
      secret: s.deep,
    },
    {
      name: '__proto__ and constructor keys',
      bytes: line(
        call(
          '"proto-1"',
          'mirror',
          `{"payload":{"__proto__":{"isAdmin":true,"token":"${s.proto}"},"constructor":{"prototype":{"polluted":"${s.proto}"}},"toString":"${s.proto}"},"__proto__":{"payload":"shadow"}}`,
        ),
      ),
      secret: s.proto,
    },
    {
      name: '__proto__ as the params object key',
      bytes: line(
        `{"jsonrpc":"2.0","id":"proto-2","method":"tools/call","params":{"__proto__":{"name":"mirror","arguments":{"payload":"${s.proto}"}}}}`,
      ),
      secret: s.proto,
    },
    {
      name: 'unpaired surrogates',
      bytes: line(
        call(
          '"sur-1"',
          'mirror',
          `{"payload":"\\ud800${s.surrogate}\\udc00 and \\udfff${s.surrogate.slice(0, 10)}\\ud83d${s.surrogate.slice(10)}","\\ud800key":"\\udc00"}`,
        ),
      ),
      secret: s.surrogate,
    },
    {
      name: 'a lone surrogate in the tool name',
      bytes: line(call('"sur-2"', '\ud800mirror', '{}')),
      secret: '',
    },
    { name: 'invalid UTF-8 and NUL bytes inside a string', bytes: line(bin), secret: s.binary },
    {
      name: 'a 50 MB result',
      bytes: line(call('"big-1"', 'big', `{"bytes":${BIG_BYTES},"secret":"${s.big}"}`)),
      secret: s.big,
    },
  ];
}

/**
 * A well-formed call the test sends after each frame: its answer proves the server still serves.
 * A tools/call like the frames (not a ping), so it is answered after whatever the frame asked for.
 */
export function syncLine(id: string): Buffer {
  return line(call(JSON.stringify(id), 'mirror', `{"payload":${JSON.stringify(id)}}`));
}

export const INITIALIZE_LINES = Buffer.concat([
  line(
    '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"hostile-client","version":"1.0.0"}}}',
  ),
  line('{"jsonrpc":"2.0","method":"notifications/initialized"}'),
]);

/**
 * What a hostile stdio server answers to `tools/call` of each tool name: raw lines, `__ID__`
 * standing for the request's id. The last line of each is the real answer (a well-formed result
 * or error), so a client that survives what comes before gets a result to compare.
 * Served by test/fixtures/apps/hostile-peer.mjs.
 */
export function clientReplies(): Record<string, Buffer> {
  const s = HOSTILE_SECRETS;
  const ok = (resultJson: string) => line(`{"jsonrpc":"2.0","id":__ID__,"result":${resultJson}}`);
  const text = (t: string) => `{"content":[{"type":"text","text":${JSON.stringify(t)}}]}`;
  const nine = 'y'.repeat(9 * 1024 * 1024);
  return {
    garbage: Buffer.concat([
      line(`token=${s.invalidJson} }{`),
      line('{"jsonrpc":"2.0","id":'),
      ok(text('after garbage')),
    ]),
    wrong_id: Buffer.concat([
      line(
        `{"jsonrpc":"2.0","id":${JSON.stringify('y'.repeat(1024 * 1024) + s.hugeId)},"result":${text(s.hugeId)}}`,
      ),
      line(`{"jsonrpc":"2.0","id":1e400,"result":${text('inf')}}`),
      ok(text('after wrong ids')),
    ]),
    deep: ok(
      `{"content":[{"type":"text","text":"deep"}],"structuredContent":${nestedObjectJson(DEEP_LEVELS, JSON.stringify(s.deep))}}`,
    ),
    proto: ok(
      `{"content":[{"type":"text","text":"proto"}],"structuredContent":{"__proto__":{"isAdmin":true,"token":"${s.proto}"},"constructor":{"prototype":{"polluted":"${s.proto}"}}},"__proto__":{"isError":true}}`,
    ),
    surrogate: ok(`{"content":[{"type":"text","text":"\\ud800${s.surrogate}\\udc00 \\udfff"}]}`),
    // A raw NUL inside a string is not JSON (that line is dropped); other invalid UTF-8 decodes as U+FFFD.
    binary: Buffer.concat([
      Buffer.from('{"jsonrpc":"2.0","id":__ID__,"result":{"content":[{"type":"text","text":"'),
      Buffer.from([0x00, 0x01]),
      Buffer.from(`${s.binary}"}]}}\n`),
      Buffer.from('{"jsonrpc":"2.0","id":__ID__,"result":{"content":[{"type":"text","text":"'),
      Buffer.from([0xff, 0xfe, 0xc3, 0x28]),
      Buffer.from(s.binary),
      Buffer.from([0xed, 0xa0, 0x80, 0xf8, 0x88, 0x80, 0x80, 0x80]),
      Buffer.from('"}]}}\n'),
    ]),
    nine_mb: ok(text(`${s.big} ${nine} ${s.big}`)),
    error_secret: line(
      `{"jsonrpc":"2.0","id":__ID__,"error":{"code":-32000,"message":"lookup failed for ${s.proto}","data":{"__proto__":{"token":"${s.proto}"}}}}`,
    ),
  };
}

export interface OtlpBody {
  name: string;
  contentType: string;
  body: Buffer;
  /** HTTP statuses a receiver may answer with (4xx, or 200 for a well-formed request). */
  expect: number[];
  /** Audit records a receiver that answers 200 writes for it (default 0: refused or not an MCP span). */
  records?: number;
}

/**
 * Malformed OTLP/HTTP trace requests. `valid` is a well-formed OTLP/JSON request (one MCP span),
 * `validProto` the same as protobuf; the corpus is derived from them.
 */
export function otlpBodies(valid: Buffer, validProto: Buffer, maxBodyBytes: number): OtlpBody[] {
  const s = HOSTILE_SECRETS.otlp;
  const json = 'application/json';
  const proto = 'application/x-protobuf';
  const span = (attributesJson: string) =>
    Buffer.from(
      `{"resourceSpans":[{"resource":{"attributes":[]},"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"tools/call x","kind":3,"startTimeUnixNano":"1","endTimeUnixNano":"2","attributes":${attributesJson}}]}]}]}`,
    );
  const deepValue =
    '{"kvlistValue":{"values":[{"key":"k","value":'.repeat(5000) +
    `{"stringValue":"${s}"}` +
    '}]}}'.repeat(5000);
  return [
    {
      name: 'truncated protobuf',
      contentType: proto,
      body: validProto.subarray(0, Math.floor(validProto.length / 2)),
      expect: [400],
    },
    {
      name: 'protobuf with a length past the end',
      contentType: proto,
      body: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]),
      expect: [400],
    },
    {
      name: 'random bytes as protobuf',
      contentType: proto,
      body: Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 17) % 256)),
      expect: [400],
    },
    { name: 'JSON sent as protobuf', contentType: proto, body: valid, expect: [400] },
    { name: 'protobuf sent as JSON', contentType: json, body: validProto, expect: [400] },
    { name: 'wrong content type', contentType: 'text/plain', body: valid, expect: [415] },
    { name: 'no content type', contentType: '', body: valid, expect: [415] },
    {
      name: 'invalid JSON',
      contentType: json,
      body: Buffer.from(`{"resourceSpans":[{"token":"${s}"`),
      expect: [400],
    },
    { name: 'empty body as JSON', contentType: json, body: Buffer.alloc(0), expect: [400] },
    {
      name: 'JSON nested 100,000 levels',
      contentType: json,
      body: Buffer.from(nestedArrayJson(100_000, `"${s}"`)),
      expect: [400],
    },
    {
      name: 'an attribute value nested 5,000 levels',
      contentType: json,
      body: span(
        `[{"key":"mcp.method.name","value":{"stringValue":"tools/call"}},{"key":"deep","value":${deepValue}}]`,
      ),
      expect: [200, 400],
    },
    {
      name: 'resourceSpans is a string',
      contentType: json,
      body: Buffer.from(`{"resourceSpans":"${s}"}`),
      expect: [400],
    },
    {
      name: 'spans is a number',
      contentType: json,
      body: Buffer.from('{"resourceSpans":[{"scopeSpans":[{"spans":42}]}]}'),
      expect: [400],
    },
    {
      name: 'wrong types in span fields',
      contentType: json,
      body: Buffer.from(
        `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":42,"spanId":{"x":"${s}"},"startTimeUnixNano":"soon","attributes":[{"key":"mcp.method.name","value":{"stringValue":"tools/call"}}]}]}]}]}`,
      ),
      expect: [200, 400],
    },
    {
      name: 'unpaired surrogates in strings',
      contentType: json,
      body: span(
        `[{"key":"mcp.method.name","value":{"stringValue":"tools/call"}},{"key":"gen_ai.tool.name","value":{"stringValue":"\\ud800x\\udfff"}},{"key":"gen_ai.tool.call.arguments","value":{"stringValue":"{\\"t\\":\\"\\udc00${s}\\ud800\\"}"}}]`,
      ),
      expect: [200, 400],
      records: 1,
    },
    {
      // The kvlist under a "__proto__" key must not become the span's own attributes.
      name: 'an attribute named __proto__',
      contentType: json,
      body: span(
        `[{"key":"__proto__","value":{"kvlistValue":{"values":[{"key":"mcp.method.name","value":{"stringValue":"tools/call"}},{"key":"gen_ai.tool.name","value":{"stringValue":"${s}"}}]}}}]`,
      ),
      expect: [200, 400],
    },
    {
      name: 'a body over the size limit',
      contentType: json,
      body: Buffer.concat([
        Buffer.from('{"x":"'),
        Buffer.alloc(maxBodyBytes + 1024, 0x61),
        Buffer.from('"}'),
      ]),
      expect: [413],
    },
  ];
}

/** A well-formed trace request holding one MCP client span (a new span id each call), as OTLP/JSON and OTLP/protobuf. */
export function validOtlpBodies(): { json: Buffer; proto: Buffer; spanIds: string[] } {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = provider.getTracer('hostile-corpus');
  for (let i = 0; i < 2; i++) {
    tracer
      .startSpan('tools/call mirror', {
        kind: SpanKind.CLIENT,
        attributes: { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'mirror' },
      })
      .end();
  }
  const [a, b] = exporter.getFinishedSpans();
  return {
    json: Buffer.from(JsonTraceSerializer.serializeRequest([a!])!),
    proto: Buffer.from(ProtobufTraceSerializer.serializeRequest([b!])!),
    spanIds: [a!.spanContext().spanId, b!.spanContext().spanId],
  };
}

/** Hostile tool arguments for an in-process call, as JSON text (name → payload). */
export function hostileArguments(): Array<[string, string]> {
  const s = HOSTILE_SECRETS;
  return [
    ['deep_object', nestedObjectJson(DEEP_LEVELS, JSON.stringify(s.deep))],
    ['deep_array', nestedArrayJson(DEEP_LEVELS, JSON.stringify(s.deep))],
    [
      'proto',
      `{"__proto__":{"isAdmin":true,"token":"${s.proto}"},"constructor":{"prototype":{"polluted":"${s.proto}"}}}`,
    ],
    ['surrogate', `"\\ud800${s.surrogate}\\udc00 \\udfff"`],
    ['huge_string', JSON.stringify(`${s.hugeId} ${'q'.repeat(8 * 1024 * 1024)} ${s.hugeId}`)],
  ];
}
