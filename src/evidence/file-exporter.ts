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
  /** Called with each record once it is durable in the log (e.g. the demo's per-session table). */
  onRecord?: (record: AuditRecord, entry: ChainEntry) => void;
}

export class AuditFileExporter implements SpanExporter {
  private readonly writer: AuditLogWriter;
  private readonly filter: (span: ReadableSpan) => boolean;
  private isShutdown = false;

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
    this.filter = options.filter ?? ((span) => isMcpSpanAttributes(span.attributes));
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
    let records: AuditRecord[];
    try {
      records = [];
      for (const span of spans) if (this.filter(span)) records.push(toAuditRecord(span));
    } catch (err) {
      diag.error('mcp-audit: cannot map span to an audit record', err);
      resultCallback({ code: ExportResultCode.FAILED, error: asError(err) });
      return;
    }
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
    await this.writer.flush();
  }

  async shutdown(): Promise<void> {
    if (this.isShutdown) return;
    this.isShutdown = true;
    try {
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
