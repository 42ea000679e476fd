import { propagation, ROOT_CONTEXT, trace, type Context } from '@opentelemetry/api';
import { BAGGAGE_CALLER_ID, BAGGAGE_SESSION_ID, BAGGAGE_TURN_ID } from '../semconv.js';
import type { JsonRpcRequestLike } from './protocol-shape.js';

// Trace context and the audit baggage travel in the request's `params._meta`, the carrier the MCP
// specification reserves for metadata, through the configured propagators.

const metaGetter = {
  keys: (carrier: Record<string, unknown>) => Object.keys(carrier),
  get: (carrier: Record<string, unknown>, key: string) => {
    const value = carrier[key];
    return typeof value === 'string' ? value : undefined;
  },
};

/** A non-empty string cut to `max` characters, else undefined: peer-supplied values are bounded. */
export function limited(value: unknown, max = 256): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, max) : undefined;
}

/** A copy of the request with `ctx` injected into a copy of `params._meta`. */
export function injectMeta(request: JsonRpcRequestLike, ctx: Context): JsonRpcRequestLike {
  // A copy, never the caller's object: apps reuse request params across calls.
  const meta: Record<string, unknown> = { ...(request.params?._meta ?? {}) };
  propagation.inject(ctx, meta);
  return { ...request, params: { ...(request.params ?? {}), _meta: meta } };
}

/** What an incoming request's `_meta` says: its parent context and the audit baggage, bounded. */
export interface IncomingContext {
  parent: Context;
  /** The request carried a span context, so its sender is instrumented. */
  fromInstrumentedClient: boolean;
  sessionId?: string;
  callerId?: string;
  turnId?: string;
}

export function readIncomingContext(request: JsonRpcRequestLike): IncomingContext {
  const meta = request.params?._meta;
  // Against the root context: only what the request carries may parent the span (an in-process
  // transport would otherwise leak the client's active context into the server).
  const parent =
    meta && typeof meta === 'object' ? propagation.extract(ROOT_CONTEXT, meta, metaGetter) : ROOT_CONTEXT;
  const baggage = propagation.getBaggage(parent);
  return {
    parent,
    fromInstrumentedClient: trace.getSpanContext(parent) !== undefined,
    sessionId: limited(baggage?.getEntry(BAGGAGE_SESSION_ID)?.value),
    callerId: limited(baggage?.getEntry(BAGGAGE_CALLER_ID)?.value),
    turnId: limited(baggage?.getEntry(BAGGAGE_TURN_ID)?.value),
  };
}
