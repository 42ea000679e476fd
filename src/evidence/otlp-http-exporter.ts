// OTLP/HTTP span and metric exporters that make exactly one attempt per export() and say whether
// a retry could help. The stock exporter retries inside export() (up to 5 attempts over its whole
// timeout, on timers that keep the event loop alive), so a process with an unreachable collector
// could not exit until those ran out. Here DeliveryQueue owns retry, backoff and the exit deadline.
// Configuration comes from the standard OTEL_EXPORTER_OTLP_* variables, parsed by the OTel helper.

import type { Agent, ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { convertLegacyHttpOptions } from '@opentelemetry/otlp-exporter-base/node-http';
import type {
  AggregationTemporality,
  InstrumentType,
  PushMetricExporter,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';

// The serializers (protobufjs among them), the OTLP option parser and the metrics SDK load with the
// first exporter: a process that writes only the local evidence log never needs them, and they were
// a large part of its start-up.
const requireHere = createRequire(import.meta.url);
const transformer = () =>
  requireHere('@opentelemetry/otlp-transformer') as typeof import('@opentelemetry/otlp-transformer');
const exporterBase = () =>
  requireHere(
    '@opentelemetry/otlp-exporter-base/node-http',
  ) as typeof import('@opentelemetry/otlp-exporter-base/node-http');
const metricsSdk = () =>
  requireHere('@opentelemetry/sdk-metrics') as typeof import('@opentelemetry/sdk-metrics');

/** The reason an export failed, and whether sending the same batch again later could succeed. */
export class ExportAttemptError extends Error {
  override name = 'ExportAttemptError';
  constructor(
    message: string,
    readonly retryable: boolean,
    /** The server's Retry-After, when it sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

type Request = (url: URL, options: RequestOptions, callback: (res: IncomingMessage) => void) => ClientRequest;

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * One OTLP/HTTP endpoint for one signal. Its sockets are unref'd: an export waiting on a
 * collector that never answers must not keep the host process alive once the host is done
 * (the SDK's bounded shutdown then decides how long to wait).
 */
class OtlpHttpSender<Items> {
  readonly url: string;
  private readonly config: ReturnType<typeof convertLegacyHttpOptions>;
  private readonly serialize: (items: Items) => Uint8Array | undefined;
  private transport: Promise<{ request: Request; agent: Agent }> | undefined;
  private readonly inFlight = new Set<ClientRequest>();

  constructor(
    signal: 'TRACES' | 'METRICS',
    encoding: 'protobuf' | 'json',
    serializer: { serializeRequest(items: Items): Uint8Array | undefined },
  ) {
    const contentType = encoding === 'json' ? 'application/json' : 'application/x-protobuf';
    const path = signal === 'TRACES' ? 'v1/traces' : 'v1/metrics';
    this.config = exporterBase().convertLegacyHttpOptions({}, signal, path, {
      'Content-Type': contentType,
    });
    this.url = this.config.url;
    this.serialize = (items) => serializer.serializeRequest(items);
  }

  async send(items: Items): Promise<void> {
    const body = this.serialize(items);
    if (!body) throw new ExportAttemptError('nothing could be serialized', false);
    const { request, agent } = await (this.transport ??= this.loadTransport());
    const headers: Record<string, string> = { ...(await this.config.headers()) };
    let payload: Uint8Array = body;
    if (this.config.compression === 'gzip') {
      payload = gzipSync(body);
      headers['Content-Encoding'] = 'gzip';
    }
    headers['Content-Length'] = String(payload.byteLength);
    headers['User-Agent'] = this.config.userAgent ? `${this.config.userAgent} mcp-audit` : 'mcp-audit';
    await new Promise<void>((resolve, reject) => {
      const req = request(new URL(this.url), { method: 'POST', headers, agent }, (res) => {
        let size = 0;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_RESPONSE_BYTES) chunks.push(chunk);
        });
        res.on('error', (err) => reject(new ExportAttemptError(err.message, true)));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve();
          const text = Buffer.concat(chunks).toString('utf8').slice(0, 200);
          const retryAfter = retryAfterMs(res.headers['retry-after']);
          reject(
            new ExportAttemptError(
              `HTTP ${status}${text ? `: ${text}` : ''}`,
              RETRYABLE_STATUS.has(status),
              retryAfter,
            ),
          );
        });
      });
      this.inFlight.add(req);
      req.on('socket', (socket) => socket.unref());
      req.on('close', () => this.inFlight.delete(req));
      req.setTimeout(this.config.timeoutMillis, () => {
        req.destroy(new ExportAttemptError(`no answer within ${this.config.timeoutMillis} ms`, true));
      });
      // Network errors (refused, reset, unreachable, timeouts): the collector may come back.
      req.on('error', (err) =>
        reject(err instanceof ExportAttemptError ? err : new ExportAttemptError(err.message, true)),
      );
      req.end(payload);
    });
  }

  private async loadTransport(): Promise<{ request: Request; agent: Agent }> {
    const protocol = new URL(this.url).protocol;
    const agent = (await this.config.agentFactory(protocol)) as Agent;
    const { request } = protocol === 'https:' ? await import('node:https') : await import('node:http');
    return { request: request as Request, agent };
  }

  /** Abandons the requests still waiting for an answer and closes idle connections. */
  async close(): Promise<void> {
    for (const req of this.inFlight) req.destroy(new ExportAttemptError('abandoned at exit', false));
    this.inFlight.clear();
    const transport = await this.transport?.catch(() => undefined);
    transport?.agent.destroy();
  }
}

function toResult(promise: Promise<void>, resultCallback: (result: ExportResult) => void): void {
  promise.then(
    () => resultCallback({ code: ExportResultCode.SUCCESS }),
    (err: unknown) =>
      resultCallback({
        code: ExportResultCode.FAILED,
        error: err instanceof Error ? err : new ExportAttemptError(String(err), false),
      }),
  );
}

export class OtlpHttpSpanExporter implements SpanExporter {
  private readonly sender: OtlpHttpSender<ReadableSpan[]>;

  constructor(encoding: 'protobuf' | 'json') {
    this.sender = new OtlpHttpSender(
      'TRACES',
      encoding,
      encoding === 'json' ? transformer().JsonTraceSerializer : transformer().ProtobufTraceSerializer,
    );
  }

  get url(): string {
    return this.sender.url;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    toResult(this.sender.send(spans), resultCallback);
  }

  async forceFlush(): Promise<void> {}

  shutdown(): Promise<void> {
    return this.sender.close();
  }
}

/** The SDK's metrics (including mcp_audit.dropped_spans) over the same kind of sender. */
export class OtlpHttpMetricExporter implements PushMetricExporter {
  private readonly sender: OtlpHttpSender<ResourceMetrics>;
  private readonly temporality: AggregationTemporality;
  private readonly cumulative: AggregationTemporality;
  private readonly upDown: ReadonlySet<InstrumentType>;

  constructor(encoding: 'protobuf' | 'json', temporality: 'cumulative' | 'delta' = 'cumulative') {
    this.sender = new OtlpHttpSender(
      'METRICS',
      encoding,
      encoding === 'json' ? transformer().JsonMetricsSerializer : transformer().ProtobufMetricsSerializer,
    );
    const { AggregationTemporality: Temporality } = metricsSdk();
    this.temporality = temporality === 'delta' ? Temporality.DELTA : Temporality.CUMULATIVE;
    this.cumulative = Temporality.CUMULATIVE;
    this.upDown = new Set([
      metricsSdk().InstrumentType.UP_DOWN_COUNTER,
      metricsSdk().InstrumentType.OBSERVABLE_UP_DOWN_COUNTER,
    ]);
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    toResult(this.sender.send(metrics), resultCallback);
  }

  selectAggregationTemporality(instrumentType: InstrumentType): AggregationTemporality {
    // Up-down counters and gauges stay cumulative, as the OTLP exporter's delta preference does.
    return this.upDown.has(instrumentType) ? this.cumulative : this.temporality;
  }

  async forceFlush(): Promise<void> {}

  shutdown(): Promise<void> {
    return this.sender.close();
  }
}

function retryAfterMs(header: string | undefined): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
