// A call that hangs must be seen while it hangs, but a span is exported only when it ends. So a
// tool call still running at the in-flight mark (a few seconds, a bucket bound of the collector's
// duration histogram) emits one marker span: a zero-length child of the call's span carrying only
// the labels the collector counts by. The collector counts markers per session and tool; a marker
// older than the hanging threshold with no call ending slower than the mark to match it is a call
// still in flight (the rule is in collector/rules/). Fast calls cost one timer and emit nothing.
import { ROOT_CONTEXT, SpanKind, trace, type Attributes, type Tracer } from '@opentelemetry/api';
import {
  ATTR_ENDUSER_ID,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_MCP_AUDIT_CLIENT_INSTRUMENTED,
  ATTR_MCP_AUDIT_IN_FLIGHT,
  ATTR_MCP_AUDIT_SERVER_NAME,
  SPAN_NAME_IN_FLIGHT,
} from '../semconv.js';
import type { Call } from './recorder.js';

/** The attributes the marker copies from its call: what the collector labels metrics by. */
const MARKER_ATTRIBUTES = [
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_ENDUSER_ID,
  ATTR_MCP_AUDIT_SERVER_NAME,
  ATTR_MCP_AUDIT_CLIENT_INSTRUMENTED,
] as const;

/**
 * Arms the call's in-flight mark: after `delayMs`, if the call has not ended, one marker span.
 * The timer is unref'd (it never holds the process open) and cleared when the call ends.
 */
export function armInFlightMark(
  call: Call,
  tracer: Tracer,
  delayMs: number,
  onError: (err: unknown) => void,
): void {
  if (call.method !== 'tools/call' || !(delayMs > 0)) return;
  const timer = setTimeout(() => {
    call.inFlightTimer = undefined;
    if (call.done) return;
    try {
      const attributes: Attributes = { [ATTR_MCP_AUDIT_IN_FLIGHT]: true };
      for (const key of MARKER_ATTRIBUTES) {
        const value = call.attrs[key];
        if (value !== undefined) attributes[key] = value;
      }
      const parent = trace.setSpan(ROOT_CONTEXT, call.span);
      tracer.startSpan(SPAN_NAME_IN_FLIGHT, { kind: SpanKind.INTERNAL, attributes }, parent).end();
    } catch (err) {
      onError(err);
    }
  }, delayMs);
  timer.unref();
  call.inFlightTimer = timer;
}

/** Disarms the mark of a call that ended first. */
export function disarmInFlightMark(call: Call): void {
  if (call.inFlightTimer === undefined) return;
  clearTimeout(call.inFlightTimer);
  call.inFlightTimer = undefined;
}
