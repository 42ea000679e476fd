// `mcp-audit sink`: a small OTLP/HTTP trace receiver that writes the evidence log, so the log lives
// in a process (and ideally a user and a folder) the MCP servers cannot touch — the collector
// exports to it like to any OTLP backend.
//
// Acknowledgement is durability: a 200 is sent only after the batch's lines are fsync'd. Anything
// else is a retryable or a permanent error per the OTLP/HTTP spec: 400 (payload unusable, do not
// retry), 413 (body too large), 415 (content type), 503 + Retry-After (queue full or disk error:
// the collector's retry queue keeps the data). Error bodies never quote the payload.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { auditRecordsFromOtlp, OtlpPayloadError } from './otlp-json.js';
import { AuditLogWriter, QueueFullError } from './log-writer.js';
import { decodeTraceRequest, encodeStatus, encodeTraceResponse } from './otlp-protobuf.js';

const gunzipAsync = promisify(gunzip);

export const TRACES_PATH = '/v1/traces';
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface SinkOptions {
  host: string;
  /** 0 picks a free port (see `address` on the result). */
  port: number;
  file: string;
  maxBytes?: number;
  hmacKey?: string;
  /** Largest request body accepted, compressed and decompressed. @default 16 MiB */
  maxBodyBytes?: number;
  maxQueue?: number;
}

export interface RunningSink {
  readonly url: string;
  readonly server: Server;
  readonly writer: AuditLogWriter;
  /** Stops accepting, finishes in-flight requests, fsyncs and closes the log. */
  close(): Promise<void>;
}

/** gRPC status codes used in google.rpc.Status bodies. */
const RPC_INVALID_ARGUMENT = 3;
const RPC_RESOURCE_EXHAUSTED = 8;
const RPC_UNAVAILABLE = 14;

type Encoding = 'json' | 'protobuf';

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly rpcCode: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startSink(options: SinkOptions): Promise<RunningSink> {
  const writer = new AuditLogWriter({
    file: options.file,
    maxBytes: options.maxBytes,
    hmacKey: options.hmacKey,
    maxQueue: options.maxQueue,
  });
  // Open (and repair a torn tail) before listening: a broken disk fails the start, not the first request.
  await writer.open();
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const server = createServer((req, res) => {
    handle(req, res, writer, maxBody).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${host}:${addr.port}`,
    server,
    writer,
    close() {
      closing ??= (async () => {
        // server.close() waits for in-flight requests (each awaits its fsync) and drops idle keep-alives.
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await writer.close();
      })();
      return closing;
    },
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  writer: AuditLogWriter,
  maxBody: number,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
    reply(res, 200, 'application/json', Buffer.from('{"status":"ok"}'));
    return;
  }
  if (path !== TRACES_PATH) {
    req.resume();
    reply(res, 404, 'text/plain', Buffer.from('not found: this sink accepts POST /v1/traces\n'));
    return;
  }
  if (req.method !== 'POST') {
    req.resume();
    res.setHeader('Allow', 'POST');
    reply(res, 405, 'text/plain', Buffer.from('method not allowed: use POST\n'));
    return;
  }
  const encoding = encodingOf(req.headers['content-type']);
  if (!encoding) {
    req.resume();
    reply(
      res,
      415,
      'text/plain',
      Buffer.from('unsupported content type: send application/json (OTLP/JSON) or application/x-protobuf\n'),
    );
    return;
  }
  try {
    const body = await readBody(req, maxBody);
    const request = decode(encoding, body);
    const mapped = auditRecordsFromOtlp(request);
    await writer.append(mapped.records).catch((err: unknown) => {
      const full = err instanceof QueueFullError;
      throw new HttpError(
        503,
        full ? RPC_RESOURCE_EXHAUSTED : RPC_UNAVAILABLE,
        full ? 'audit log queue full, retry later' : 'audit log write failed, retry later',
      );
    });
    sendSuccess(
      res,
      encoding,
      mapped.rejected,
      mapped.rejected > 0 ? `rejected ${mapped.rejected} malformed span(s): ${mapped.rejectReason}` : '',
    );
  } catch (err) {
    const e =
      err instanceof HttpError
        ? err
        : err instanceof OtlpPayloadError
          ? new HttpError(400, RPC_INVALID_ARGUMENT, `bad OTLP payload: ${err.message}`)
          : new HttpError(500, RPC_UNAVAILABLE, 'internal error');
    if (e.status === 503) res.setHeader('Retry-After', '1');
    if (e.status === 413) res.setHeader('Connection', 'close');
    sendError(res, encoding, e);
  }
}

function encodingOf(contentType: string | undefined): Encoding | null {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (media === 'application/json') return 'json';
  if (media === 'application/x-protobuf' || media === 'application/protobuf') return 'protobuf';
  return null;
}

async function readBody(req: IncomingMessage, maxBody: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBody) {
    req.resume();
    throw new HttpError(413, RPC_RESOURCE_EXHAUSTED, `body larger than ${maxBody} bytes`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBody) {
      req.resume();
      throw new HttpError(413, RPC_RESOURCE_EXHAUSTED, `body larger than ${maxBody} bytes`);
    }
    chunks.push(chunk);
  }
  const raw = Buffer.concat(chunks);
  const contentEncoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (contentEncoding === 'identity' || contentEncoding === '') return raw;
  if (contentEncoding !== 'gzip')
    throw new HttpError(415, RPC_INVALID_ARGUMENT, `unsupported content encoding: use gzip or none`);
  try {
    // maxOutputLength: a small gzip bomb must not become gigabytes in memory.
    return await gunzipAsync(raw, { maxOutputLength: maxBody });
  } catch (err) {
    if (err instanceof RangeError || (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new HttpError(413, RPC_RESOURCE_EXHAUSTED, `decompressed body larger than ${maxBody} bytes`);
    }
    throw new HttpError(400, RPC_INVALID_ARGUMENT, 'body is not valid gzip');
  }
}

function decode(encoding: Encoding, body: Buffer): unknown {
  if (encoding === 'protobuf') return decodeTraceRequest(body);
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    // V8's message quotes the input; say what is wrong without echoing it.
    throw new OtlpPayloadError('body is not valid JSON');
  }
}

function sendSuccess(res: ServerResponse, encoding: Encoding, rejected: number, message: string): void {
  if (encoding === 'protobuf') {
    reply(res, 200, 'application/x-protobuf', Buffer.from(encodeTraceResponse(rejected, message)));
    return;
  }
  // int64 fields are strings in proto3 JSON.
  const body =
    rejected > 0 ? { partialSuccess: { rejectedSpans: String(rejected), errorMessage: message } } : {};
  reply(res, 200, 'application/json', Buffer.from(JSON.stringify(body)));
}

function sendError(res: ServerResponse, encoding: Encoding | null, e: HttpError): void {
  if (encoding === 'protobuf') {
    reply(res, e.status, 'application/x-protobuf', Buffer.from(encodeStatus(e.rpcCode, e.message)));
    return;
  }
  reply(
    res,
    e.status,
    'application/json',
    Buffer.from(JSON.stringify({ code: e.rpcCode, message: e.message })),
  );
}

function reply(res: ServerResponse, status: number, contentType: string, body: Buffer): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': body.length });
  res.end(body);
}
