// A minimal decoder for OTLP/protobuf ExportTraceServiceRequest, the collector's default otlphttp
// encoding. @opentelemetry/otlp-transformer 0.301 only encodes requests (its reader is internal
// and decodes responses), and protobufjs is only a transitive dependency here, so the ~15 message
// fields the audit record needs are read by hand (opentelemetry/proto/trace/v1/trace.proto,
// common/v1/common.proto). Output is the OTLP/JSON shape, so one mapper serves both encodings.
// Unknown fields are skipped per the wire format; any malformation throws OtlpPayloadError.

import {
  OtlpPayloadError,
  type OtlpAnyValue,
  type OtlpKeyValue,
  type OtlpResourceSpans,
  type OtlpScopeSpans,
  type OtlpSpan,
  type OtlpTraceRequest,
} from './otlp-json.js';

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;
const MAX_DEPTH = 16;

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new OtlpPayloadError('protobuf: truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
    throw new OtlpPayloadError('protobuf: varint too long');
  }

  uint(): number {
    const v = this.varint();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new OtlpPayloadError('protobuf: length out of range');
    return Number(v);
  }

  tag(): { field: number; wire: number } {
    const t = this.uint();
    return { field: Math.floor(t / 8), wire: t & 7 };
  }

  bytes(): Uint8Array {
    const len = this.uint();
    if (this.pos + len > this.end) throw new OtlpPayloadError('protobuf: length exceeds message');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  sub(): Reader {
    const b = this.bytes();
    return new Reader(
      this.buf,
      b.byteOffset - this.buf.byteOffset,
      b.byteOffset - this.buf.byteOffset + b.length,
    );
  }

  string(): string {
    return new TextDecoder('utf-8', { fatal: false }).decode(this.bytes());
  }

  fixed64(): bigint {
    if (this.pos + 8 > this.end) throw new OtlpPayloadError('protobuf: truncated fixed64');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getBigUint64(0, true);
    this.pos += 8;
    return v;
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new OtlpPayloadError('protobuf: truncated double');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  skip(wire: number): void {
    if (wire === VARINT) this.varint();
    else if (wire === I64) this.advance(8);
    else if (wire === LEN) this.bytes();
    else if (wire === I32) this.advance(4);
    else throw new OtlpPayloadError(`protobuf: unsupported wire type ${wire}`);
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new OtlpPayloadError('protobuf: truncated field');
    this.pos += n;
  }
}

export function decodeTraceRequest(buf: Uint8Array): OtlpTraceRequest {
  const r = new Reader(buf);
  const resourceSpans: OtlpResourceSpans[] = [];
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === LEN) resourceSpans.push(resourceSpansOf(r.sub()));
    else r.skip(wire);
  }
  return { resourceSpans };
}

function resourceSpansOf(r: Reader): OtlpResourceSpans {
  const out: OtlpResourceSpans = { scopeSpans: [] };
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === LEN) out.resource = { attributes: attributesOf(r.sub(), 1) };
    else if (field === 2 && wire === LEN) out.scopeSpans!.push(scopeSpansOf(r.sub()));
    else r.skip(wire);
  }
  return out;
}

function scopeSpansOf(r: Reader): OtlpScopeSpans {
  const out: OtlpScopeSpans = { spans: [] };
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 2 && wire === LEN) out.spans!.push(spanOf(r.sub()));
    else r.skip(wire);
  }
  return out;
}

function spanOf(r: Reader): OtlpSpan {
  const span: OtlpSpan = {
    traceId: '',
    spanId: '',
    startTimeUnixNano: '0',
    endTimeUnixNano: '0',
    attributes: [],
  };
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === LEN) span.traceId = hex(r.bytes());
    else if (field === 2 && wire === LEN) span.spanId = hex(r.bytes());
    else if (field === 4 && wire === LEN) span.parentSpanId = hex(r.bytes());
    else if (field === 5 && wire === LEN) span.name = r.string();
    else if (field === 6 && wire === VARINT) span.kind = Number(r.varint() & 0xffn);
    else if (field === 7 && wire === I64) span.startTimeUnixNano = r.fixed64().toString();
    else if (field === 8 && wire === I64) span.endTimeUnixNano = r.fixed64().toString();
    else if (field === 9 && wire === LEN) span.attributes!.push(keyValueOf(r.sub(), 1));
    else if (field === 15 && wire === LEN) span.status = statusOf(r.sub());
    else r.skip(wire);
  }
  return span;
}

function statusOf(r: Reader): { code?: number; message?: string } {
  const out: { code?: number; message?: string } = {};
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 2 && wire === LEN) out.message = r.string();
    else if (field === 3 && wire === VARINT) out.code = Number(r.varint() & 0xffn);
    else r.skip(wire);
  }
  return out;
}

function attributesOf(r: Reader, depth: number): OtlpKeyValue[] {
  const out: OtlpKeyValue[] = [];
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === LEN) out.push(keyValueOf(r.sub(), depth));
    else r.skip(wire);
  }
  return out;
}

function keyValueOf(r: Reader, depth: number): OtlpKeyValue {
  const kv: OtlpKeyValue = { key: '' };
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === LEN) kv.key = r.string();
    else if (field === 2 && wire === LEN) kv.value = anyValueOf(r.sub(), depth);
    else r.skip(wire);
  }
  return kv;
}

function anyValueOf(r: Reader, depth: number): OtlpAnyValue {
  if (depth > MAX_DEPTH) throw new OtlpPayloadError('protobuf: attribute value nested too deeply');
  const v: OtlpAnyValue = {};
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === LEN) v.stringValue = r.string();
    else if (field === 2 && wire === VARINT) v.boolValue = r.varint() !== 0n;
    else if (field === 3 && wire === VARINT) v.intValue = BigInt.asIntN(64, r.varint()).toString();
    else if (field === 4 && wire === I64) v.doubleValue = r.double();
    else if (field === 5 && wire === LEN) v.arrayValue = { values: arrayValuesOf(r.sub(), depth + 1) };
    else if (field === 6 && wire === LEN) v.kvlistValue = { values: attributesOf(r.sub(), depth + 1) };
    else if (field === 7 && wire === LEN) v.bytesValue = Buffer.from(r.bytes()).toString('base64');
    else r.skip(wire);
  }
  return v;
}

function arrayValuesOf(r: Reader, depth: number): OtlpAnyValue[] {
  const out: OtlpAnyValue[] = [];
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === LEN) out.push(anyValueOf(r.sub(), depth));
    else r.skip(wire);
  }
  return out;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** ExportTraceServiceResponse: empty on full success, else partial_success{rejected_spans, error_message}. */
export function encodeTraceResponse(rejectedSpans: number, errorMessage: string): Uint8Array {
  if (rejectedSpans === 0 && errorMessage === '') return new Uint8Array(0);
  const inner = concat([
    rejectedSpans > 0 ? concat([varint(1 * 8 + VARINT), varint(rejectedSpans)]) : new Uint8Array(0),
    errorMessage ? lenField(2, Buffer.from(errorMessage, 'utf8')) : new Uint8Array(0),
  ]);
  return lenField(1, inner);
}

/** google.rpc.Status{code, message}: the body of an OTLP/HTTP error reply in protobuf. */
export function encodeStatus(code: number, message: string): Uint8Array {
  return concat([varint(1 * 8 + VARINT), varint(code), lenField(2, Buffer.from(message, 'utf8'))]);
}

function lenField(field: number, payload: Uint8Array): Uint8Array {
  return concat([varint(field * 8 + LEN), varint(payload.length), payload]);
}

function varint(n: number): Uint8Array {
  const out: number[] = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Uint8Array.from(out);
}

function concat(parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}
