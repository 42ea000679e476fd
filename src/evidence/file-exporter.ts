// A SpanExporter that writes the hash-chained evidence log in the instrumented process
// (MCP_AUDIT_FILE). For a log the MCP servers cannot touch, run `mcp-audit sink` in another
// process/user and export to it over OTLP instead; both write through the same AuditLogWriter.
//
// Telemetry never breaks the host: export() never throws; failures become ExportResultCode.FAILED
// plus one diag line.

import { diag } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { DropReason } from './delivery-queue.js';
import { isControl, type ChainEntry } from './hash-chain.js';
import { parseByteSize } from './log-files.js';
import { AuditLogWriter } from './log-writer.js';
import { isMcpSpanAttributes, toAuditRecord, type AuditRecord } from './record.js';
import { SpanRecordBuilder, type SpanRecordOptions } from './span-records.js';

export const ENV_FILE = 'MCP_AUDIT_FILE';
export const ENV_FILE_MAX_BYTES = 'MCP_AUDIT_FILE_MAX_BYTES';
export const ENV_HMAC_KEY = 'MCP_AUDIT_HMAC_KEY';
/** The destination name of this log in DropLedger (its own losses carry no destination). */
export const AUDIT_FILE_DESTINATION = 'audit_file';

export interface AuditFileExporterOptions {
  /** Evidence log path. @default process.env.MCP_AUDIT_FILE */
  file?: string;
  /** Rotate before a file grows past this size; 0 = never. @default MCP_AUDIT_FILE_MAX_BYTES or 0 */
  maxBytes?: number;
  /** HMAC-SHA256 key for the chain. @default process.env.MCP_AUDIT_HMAC_KEY (plain SHA-256 if unset) */
  hmacKey?: string;
  /** Records waiting for disk before exports fail and a `dropped` line is written. @default 10000 */
  maxQueue?: number;
  /** Which spans are audit records. @default spans with `mcp.method.name` */
  filter?: (span: ReadableSpan) => boolean;
  /**
   * The spans arrive as they ended, not through `redactedExporter`: the export redaction is
   * applied here, to what a record reads only (the same record, for far less work). With a
   * `filter`, the filter sees the span before that redaction.
   */
  redaction?: SpanRecordOptions;
  /** Called with each record once it is durable in the log (e.g. the demo's per-session table). */
  onRecord?: (record: AuditRecord, entry: ChainEntry) => void;
}

// Records are built a slice at a time, one event-loop turn each: a batch of a thousand spans
// must not hold up the host's own I/O (a response arriving mid-batch) for tens of milliseconds.
// 4 ms bounds that wait; 0.2 ms slices measured worse on a loaded machine (more turns, a process
// that never sleeps loses the scheduler's wake-up preference): bench/NOTES.md, "Across processes".
const SLICE_MS = 4;

export class AuditFileExporter implements SpanExporter {
  private readonly writer: AuditLogWriter;
  private readonly toRecord: (span: ReadableSpan) => AuditRecord | null;
  private isShutdown = false;
  private readonly jobs: { spans: ReadableSpan[]; done: (result: ExportResult) => void }[] = [];
  private building = false;
  private readonly idleWaiters: (() => void)[] = [];

  /** Throws (at setup, never later) when no file is configured. */
  constructor(options: AuditFileExporterOptions = {}) {
    const file = options.file ?? process.env[ENV_FILE];
    if (!file) throw new TypeError(`AuditFileExporter: no file (set \`file\` or ${ENV_FILE})`);
    const onRecord = options.onRecord;
    this.writer = new AuditLogWriter({
      file,
      maxBytes: options.maxBytes ?? parseBytes(process.env[ENV_FILE_MAX_BYTES]),
      hmacKey: options.hmacKey ?? process.env[ENV_HMAC_KEY],
      maxQueue: options.maxQueue,
      onEntry: onRecord
        ? (entry) => {
            if (!isControl(entry)) onRecord(stripChain(entry), entry);
          }
        : undefined,
    });
    const filter = options.filter;
    const builder = options.redaction ? new SpanRecordBuilder(options.redaction) : undefined;
    if (builder) {
      this.toRecord = filter
        ? (span) => (filter(span) ? builder.build(span) : null)
        : (span) => builder.build(span);
    } else {
      const accept = filter ?? ((span: ReadableSpan) => isMcpSpanAttributes(span.attributes));
      this.toRecord = (span) => (accept(span) ? toAuditRecord(span) : null);
    }
  }

  /** Where the log is being written and its head (for status lines). */
  get position(): { file: string; seq: number; hash: string } {
    return this.writer.position;
  }

  get stats(): Readonly<AuditLogWriter['stats']> {
    return this.writer.stats;
  }

  /** Writes a `dropped` line for spans lost on their way elsewhere (or to this log's own queue). */
  recordDropped(reason: DropReason, count: number, destination?: string): void {
    try {
      this.writer.recordDropped(
        reason,
        count,
        destination === AUDIT_FILE_DESTINATION ? undefined : destination,
      );
    } catch (err) {
      diag.error('mcp-audit: cannot record dropped spans in the audit log', err);
    }
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.isShutdown) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('AuditFileExporter is shut down') });
      return;
    }
    // One batch at a time, in the order they came: the chain keeps the order spans were exported in.
    this.jobs.push({ spans, done: resultCallback });
    if (!this.building) this.buildNext();
  }

  private buildNext(): void {
    const job = this.jobs.shift();
    if (!job) {
      this.building = false;
      const waiters = this.idleWaiters.splice(0);
      for (const resolve of waiters) resolve();
      return;
    }
    this.building = true;
    const { spans, done } = job;
    const records: AuditRecord[] = [];
    let next = 0;
    const slice = (): void => {
      const until = performance.now() + SLICE_MS;
      try {
        while (next < spans.length) {
          const record = this.toRecord(spans[next++]!);
          if (record) records.push(record);
          if (performance.now() >= until) break;
        }
      } catch (err) {
        diag.error('mcp-audit: cannot map span to an audit record', err);
        done({ code: ExportResultCode.FAILED, error: asError(err) });
        this.buildNext();
        return;
      }
      if (next < spans.length) {
        setImmediate(slice);
        return;
      }
      this.write(records, done);
      this.buildNext();
    };
    slice();
  }

  /** Resolves once no batch is being turned into records. */
  private built(): Promise<void> {
    return this.building ? new Promise((resolve) => this.idleWaiters.push(resolve)) : Promise.resolve();
  }

  private write(records: AuditRecord[], resultCallback: (result: ExportResult) => void): void {
    if (records.length === 0) {
      resultCallback({ code: ExportResultCode.SUCCESS });
      return;
    }
    this.writer.append(records).then(
      () => resultCallback({ code: ExportResultCode.SUCCESS }),
      (err: unknown) => {
        diag.error(`mcp-audit: audit log write failed (${records.length} records): ${asError(err).message}`);
        resultCallback({ code: ExportResultCode.FAILED, error: asError(err) });
      },
    );
  }

  async forceFlush(): Promise<void> {
    await this.built();
    await this.writer.flush();
  }

  async shutdown(): Promise<void> {
    if (this.isShutdown) return;
    this.isShutdown = true;
    try {
      // Batches already taken are written, not lost: their records are being built now.
      await this.built();
      await this.writer.close();
    } catch (err) {
      diag.error('mcp-audit: closing the audit log failed', err);
    }
  }
}

function stripChain(entry: ChainEntry): AuditRecord {
  const { seq: _seq, prev_hash: _prev, hash: _hash, ...record } = entry;
  return record as AuditRecord;
}

function parseBytes(v: string | undefined): number {
  if (!v) return 0;
  const n = parseByteSize(v);
  if (n === null) {
    diag.warn(
      `mcp-audit: ignoring ${ENV_FILE_MAX_BYTES}=${JSON.stringify(v)} (not a size like 67108864 or 64MiB)`,
    );
    return 0;
  }
  return n;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
