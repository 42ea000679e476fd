// Audit records straight from unredacted spans, for the embedded evidence log: the same record as
// `toAuditRecord(redactSpan(span))` (the export redaction, then the record's own), without the
// cost of redacting what the record never reads. A span carries fifteen or more attributes, each
// key and value a scan of the redaction engine; the record takes eleven attributes, the status
// message and the service name. So only those are redacted for export, under their original key
// exactly as `redactAttributes` does, and keys, which are few per process, are redacted once.
// The redactor is deterministic for one configuration, so results that depend only on a key (the
// key's own redaction, the probe that decides whether a number under it is masked) are
// remembered; values are redacted every time, as before.

import type { Attributes, AttributeValue } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
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
} from '../semconv.js';
import type { Redactor } from '../redaction/redact.js';
import { COMMAND_ATTRIBUTES } from '../redaction/span-export.js';
import { isMcpSpanAttributes, spanFacts, recordFromFacts, type AuditRecord } from './record.js';

/** The span attributes `recordFromFacts` reads. */
const RECORD_KEYS: ReadonlySet<string> = new Set([
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
]);

// Attribute names are few per process; past this many distinct ones, keys are redacted each time.
const MAX_REMEMBERED_KEYS = 4096;
// Short values under one key (a method, a tool, a session id) recur; a full map is emptied.
const REMEMBER_UP_TO_CHARS = 256;
const REMEMBERED_VALUES_PER_KEY = 1024;

export interface SpanRecordOptions {
  /** The export redaction (what `redactedExporter` would apply to each span). */
  redactor: Redactor;
  /** Keep process.command_args / process.command_line on the resource. @default false */
  keepCommandLine?: boolean;
}

export class SpanRecordBuilder {
  private readonly redactor: Redactor;
  private readonly dropped: readonly string[];
  /** Key → its redacted form. */
  private readonly keys = new Map<string, string>();
  /** Key → what a plain value under it becomes: 'x' when the key masks nothing whole. */
  private readonly probes = new Map<string, unknown>();
  /** Key → short value → its redaction (identifiers: method, tool, server, session). */
  private readonly strings = new Map<string, Map<string, string>>();
  /** Resource → its redacted service.name (null when absent). */
  private readonly services = new WeakMap<Resource, Readonly<Record<string, unknown>>>();

  constructor(options: SpanRecordOptions) {
    this.redactor = options.redactor;
    this.dropped = options.keepCommandLine ? [] : COMMAND_ATTRIBUTES;
  }

  /** The record of an MCP span, or null when the span is not one. Throws if redaction does. */
  build(span: ReadableSpan): AuditRecord | null {
    const attributes = this.recordAttributes(span.attributes);
    if (!isMcpSpanAttributes(attributes)) return null;
    const message = span.status.message;
    return recordFromFacts(
      spanFacts(span, {
        attributes,
        resourceAttributes: this.resourceAttributes(span.resource),
        statusMessage: message === undefined ? undefined : this.redactor.string(message).text,
      }),
    );
  }

  /** `redactAttributes(redactor, attrs)` restricted to the keys a record reads. */
  private recordAttributes(attrs: Attributes): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(attrs)) {
      const key = this.key(k);
      if (RECORD_KEYS.has(key)) out[key] = this.value(k, attrs[k]);
    }
    return out;
  }

  private resourceAttributes(resource: Resource | undefined): Readonly<Record<string, unknown>> {
    if (!resource) return {};
    let out = this.services.get(resource);
    if (out === undefined) {
      const all = resource.attributes;
      const kept: Record<string, unknown> = {};
      for (const k of Object.keys(all)) {
        if (this.dropped.includes(k)) continue;
        if (this.key(k) === ATTR_SERVICE_NAME) kept[ATTR_SERVICE_NAME] = this.value(k, all[k]);
      }
      out = kept;
      this.services.set(resource, out);
    }
    return out;
  }

  private key(k: string): string {
    let out = this.keys.get(k);
    if (out === undefined) {
      out = this.redactor.string(k).text;
      if (this.keys.size < MAX_REMEMBERED_KEYS) this.keys.set(k, out);
    }
    return out;
  }

  private probe(key: string): unknown {
    if (this.probes.has(key)) return this.probes.get(key);
    const out = only(this.redactor.value({ [key]: 'x' }).value);
    if (this.probes.size < MAX_REMEMBERED_KEYS) this.probes.set(key, out);
    return out;
  }

  // The same decisions as the export redaction's `redactValue` (src/redaction/span-export.ts),
  // with the key-only probes remembered; held to it by test/unit/span-records.test.ts.
  private value(key: string, v: AttributeValue | undefined): AttributeValue | undefined {
    const r = this.redactor;
    if (typeof v === 'string') {
      if (key === ATTR_GEN_AI_TOOL_CALL_ARGUMENTS || v.length > REMEMBER_UP_TO_CHARS) {
        return String(only(r.value({ [key]: v }).value));
      }
      let byValue = this.strings.get(key);
      if (byValue === undefined) {
        byValue = new Map();
        if (this.strings.size < MAX_REMEMBERED_KEYS) this.strings.set(key, byValue);
      }
      let out = byValue.get(v);
      if (out === undefined) {
        out = String(only(r.value({ [key]: v }).value));
        if (byValue.size >= REMEMBERED_VALUES_PER_KEY) byValue.clear();
        byValue.set(v, out);
      }
      return out;
    }
    if (Array.isArray(v)) {
      const probe = this.probe(key);
      const out =
        key === 'process.command_args' || typeof probe !== 'string' || probe !== 'x'
          ? only(r.value({ [key]: v }).value)
          : v.map((x) => (typeof x === 'string' ? r.string(x).text : x));
      return Array.isArray(out) ? (out as AttributeValue) : String(out);
    }
    if (typeof v === 'number' || typeof v === 'boolean') {
      const probe = this.probe(key);
      return probe === 'x' ? v : String(probe);
    }
    return v;
  }
}

function only(out: unknown): unknown {
  return Object.values(out as Record<string, unknown>)[0];
}
