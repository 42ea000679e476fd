// Redaction at the door: every string a span carries out of the process — name, attributes,
// event names and attributes (exception messages and stacks), link attributes, status message,
// resource attributes — goes through the redactor once more in the exporter, so spans of other
// instrumentations and values set by hand are covered as well as the audit attributes (which the
// instrumentation has redacted already; redaction is idempotent, so they come out the same).

import type { Attributes, AttributeValue, Link, SpanStatus } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, SpanExporter, TimedEvent } from '@opentelemetry/sdk-trace';
import { createRedactor, redactionOptionsFromEnv, type Redactor } from './redact.js';

/** Attributes the SDK's process detector adds that hold the command line. */
export const COMMAND_ATTRIBUTES = ['process.command_args', 'process.command_line'] as const;

export interface ExportRedactionOptions {
  /** Keep (redacted) process.command_args / process.command_line on the resource. @default false */
  keepCommandLine?: boolean;
}

function only(out: unknown): unknown {
  return Object.values(out as Record<string, unknown>)[0];
}

// Strings go through the walker under their key, so a value under a sensitive attribute key
// (`db.password`, `http.request.header.authorization`) is masked whole. Numbers and booleans are
// masked only under such a key: counts and sizes must stay numbers.
function redactValue(
  redactor: Redactor,
  key: string,
  v: AttributeValue | undefined,
): AttributeValue | undefined {
  if (typeof v === 'string') return String(only(redactor.value({ [key]: v }).value));
  if (Array.isArray(v)) {
    // The command line is argv: `--api-key ghp_…` masks the value after the flag. Other arrays
    // are lists of values, masked one by one (or whole under a sensitive key).
    const out =
      key === 'process.command_args' ||
      typeof only(redactor.value({ [key]: 'x' }).value) !== 'string' ||
      only(redactor.value({ [key]: 'x' }).value) !== 'x'
        ? only(redactor.value({ [key]: v }).value)
        : v.map((x) => (typeof x === 'string' ? redactor.string(x).text : x));
    return Array.isArray(out) ? (out as AttributeValue) : String(out);
  }
  if (typeof v === 'number' || typeof v === 'boolean') {
    const probe = only(redactor.value({ [key]: 'x' }).value);
    return probe === 'x' ? v : String(probe);
  }
  return v;
}

export function redactAttributes(
  redactor: Redactor,
  attrs: Attributes,
  drop: readonly string[] = [],
): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(attrs)) {
    if (drop.includes(k)) continue;
    const key = redactor.string(k).text;
    out[key] = redactValue(redactor, k, v);
  }
  return out;
}

function redactedResource(resource: Resource, attributes: Attributes): Resource {
  return {
    attributes,
    schemaUrl: resource.schemaUrl,
    asyncAttributesPending: false,
    waitForAsyncAttributes: async () => undefined,
    merge: (other) => resource.merge(other),
    getRawAttributes: () => Object.entries(attributes),
  };
}

/** A copy of `span` with every exported string redacted; ids, times and counts unchanged. */
export function redactSpan(
  redactor: Redactor,
  span: ReadableSpan,
  resource: Resource = span.resource,
): ReadableSpan {
  const status: SpanStatus =
    span.status.message === undefined
      ? span.status
      : { ...span.status, message: redactor.string(span.status.message).text };
  const events: TimedEvent[] = span.events.map((e) => ({
    ...e,
    name: redactor.string(e.name).text,
    ...(e.attributes ? { attributes: redactAttributes(redactor, e.attributes) } : {}),
  }));
  const links: Link[] = span.links.map((l) => ({
    ...l,
    ...(l.attributes ? { attributes: redactAttributes(redactor, l.attributes) } : {}),
  }));
  return {
    name: redactor.string(span.name).text,
    kind: span.kind,
    spanContext: () => span.spanContext(),
    parentSpanContext: span.parentSpanContext,
    startTime: span.startTime,
    endTime: span.endTime,
    status,
    attributes: redactAttributes(redactor, span.attributes),
    links,
    events,
    duration: span.duration,
    ended: span.ended,
    resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

/** Wraps an exporter so that what it sends has been redacted (see the module comment). */
export class RedactingSpanExporter implements SpanExporter {
  // One redacted copy per resource (a process has one or two).
  private readonly resources = new WeakMap<Resource, Resource>();

  constructor(
    private readonly inner: SpanExporter,
    private readonly redactor: Redactor,
    private readonly options: ExportRedactionOptions = {},
  ) {}

  private resource(r: Resource): Resource {
    let out = this.resources.get(r);
    if (out === undefined) {
      const drop = this.options.keepCommandLine ? [] : COMMAND_ATTRIBUTES;
      out = redactedResource(r, redactAttributes(this.redactor, r.attributes, drop));
      this.resources.set(r, out);
    }
    return out;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    let redacted: ReadableSpan[];
    try {
      redacted = spans.map((s) => redactSpan(this.redactor, s, this.resource(s.resource)));
    } catch {
      // Fail closed: a span that cannot be redacted is not exported (code 1 = FAILED).
      resultCallback({ code: 1, error: new Error('mcp-audit: span redaction failed') });
      return;
    }
    this.inner.export(redacted, resultCallback);
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/** `resource` with its attributes redacted and, unless kept, the command line dropped (for metrics). */
export function redactResource(
  redactor: Redactor,
  resource: Resource,
  options: ExportRedactionOptions = {},
): Resource {
  return redactedResource(
    resource,
    redactAttributes(redactor, resource.attributes, options.keepCommandLine ? [] : COMMAND_ATTRIBUTES),
  );
}

/** The export redaction configured from the environment (MCP_AUDIT_REDACT_*, MCP_AUDIT_RESOURCE_COMMAND_ARGS). */
export function exportRedaction(env: NodeJS.ProcessEnv = process.env): {
  redactor: Redactor;
  keepCommandLine: boolean;
} {
  let redactor: Redactor;
  try {
    redactor = createRedactor(redactionOptionsFromEnv(env));
  } catch {
    // A bad redaction variable is reported by the instrumentation; the built-in rules still apply.
    redactor = createRedactor();
  }
  const keepCommandLine = /^(?:true|1|yes|on)$/i.test((env.MCP_AUDIT_RESOURCE_COMMAND_ARGS ?? '').trim());
  return { redactor, keepCommandLine };
}

/** `exporter` behind the export redaction configured from the environment. */
export function redactedExporter(exporter: SpanExporter, env: NodeJS.ProcessEnv = process.env): SpanExporter {
  const { redactor, keepCommandLine } = exportRedaction(env);
  return new RedactingSpanExporter(exporter, redactor, { keepCommandLine });
}
