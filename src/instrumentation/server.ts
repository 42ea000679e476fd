import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type Attributes,
  type Tracer,
} from '@opentelemetry/api';
import {
  classifyErrorResponse,
  implementationAttributes,
  requestAttributes,
  requestTarget,
  serverTransportAttributes,
} from './attributes.js';
import { conversationIdFor } from './client.js';
import { peerAttributes } from './http-peer.js';
import type { Call, Recorder } from './recorder.js';
import {
  ATTR_ENDUSER_ID,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_MCP_AUDIT_CALLER_SOURCE,
  ATTR_MCP_AUDIT_CLIENT_INSTRUMENTED,
  ATTR_MCP_AUDIT_TURN_ID,
  ATTR_MCP_PROTOCOL_VERSION,
  BAGGAGE_CALLER_ID,
  BAGGAGE_SESSION_ID,
  BAGGAGE_TURN_ID,
  CALLER_SOURCE_AUTH,
  CALLER_SOURCE_PROPAGATED,
  ERROR_TYPE_CANCELLED,
} from '../semconv.js';
import type {
  JsonRpcRequestLike,
  JsonRpcResponseLike,
  OnRequestFn,
  ProtocolLike,
  RequestExtraLike,
  TransportLike,
} from './protocol-shape.js';

export const ATTR_CALLER_PROPAGATED = 'mcp_audit.caller.propagated' as const;
export const ATTR_CALLER_SCOPES = 'mcp_audit.caller.scopes' as const;

export interface ServerPatchDeps {
  tracer: () => Tracer;
  recorder: () => Recorder;
  isEnabled: () => boolean;
  maxPending: () => number;
  onError: (message: string, err: unknown) => void;
}

/** Server spans waiting for their response, per transport: request ids are per connection. */
const pendingByTransport = new WeakMap<TransportLike, Map<string | number, Call>>();
const sendWrapped = new WeakSet<TransportLike>();
/** The protocol version the client asked for in initialize, per connection. */
const protocolVersions = new WeakMap<TransportLike, string>();

const metaGetter = {
  keys: (carrier: Record<string, unknown>) => Object.keys(carrier),
  get: (carrier: Record<string, unknown>, key: string) => {
    const value = carrier[key];
    return typeof value === 'string' ? value : undefined;
  },
};

function limited(value: unknown, max = 256): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, max) : undefined;
}

/**
 * The response leaves through the transport's `send`: wrapping it on each connected transport is
 * the one place that sees every reply, including the SDK's own method-not-found and the error code
 * it derives from a thrown handler error. The span ends when the response has been handed over.
 */
function ensureSendWrapped(transport: TransportLike, deps: ServerPatchDeps): void {
  if (sendWrapped.has(transport) || typeof transport.send !== 'function') return;
  sendWrapped.add(transport);
  const originalSend = transport.send;
  transport.send = function send(this: TransportLike, message: unknown, options?: unknown) {
    const sent = originalSend.call(this, message, options);
    try {
      if (deps.isEnabled()) onOutgoing(transport, message as JsonRpcResponseLike, sent, deps);
    } catch (err) {
      deps.onError('mcp-audit: could not match a response to its span', err);
    }
    return sent;
  };
}

function onOutgoing(
  transport: TransportLike,
  message: JsonRpcResponseLike,
  sent: Promise<void>,
  deps: ServerPatchDeps,
): void {
  if (typeof message !== 'object' || message === null || message.id === undefined) return;
  if (!('result' in message) && !('error' in message)) return;
  const pending = pendingByTransport.get(transport);
  const call = pending?.get(message.id);
  if (!call) return;
  pending!.delete(message.id);
  const finish = () =>
    message.error
      ? deps.recorder().finish(call, classifyErrorResponse(message.error))
      : deps.recorder().finish(call, {}, message.result);
  Promise.resolve(sent).then(finish, finish);
}

/** Patch for `Protocol.prototype._onrequest`: every incoming request becomes a SERVER span. */
export function createOnRequestPatch(deps: ServerPatchDeps) {
  return (original: OnRequestFn): OnRequestFn =>
    function _onrequest(this: ProtocolLike, request: JsonRpcRequestLike, extra?: RequestExtraLike) {
      if (!deps.isEnabled() || typeof request?.method !== 'string') {
        return original.call(this, request, extra);
      }
      let started: { call: Call; ctx: ReturnType<typeof context.active> } | undefined;
      try {
        started = startServerCall(this, request, extra, deps);
      } catch (err) {
        deps.onError('mcp-audit: could not start a server span', err);
      }
      if (!started) return original.call(this, request, extra);
      const { call, ctx } = started;
      try {
        return context.with(ctx, () => original.call(this, request, extra));
      } finally {
        try {
          watchCancellation(this, request, call, deps);
        } catch (err) {
          deps.onError('mcp-audit: could not watch a request for cancellation', err);
        }
      }
    };
}

function startServerCall(
  self: ProtocolLike,
  request: JsonRpcRequestLike,
  extra: RequestExtraLike | undefined,
  deps: ServerPatchDeps,
) {
  const transport = self._transport;
  if (!transport || request.id === undefined) return undefined;
  const meta = request.params?._meta;
  // Against the root context: only what the request carries may parent the span (an in-process
  // transport would otherwise leak the client's active context into the server).
  const parentCtx =
    meta && typeof meta === 'object' ? propagation.extract(ROOT_CONTEXT, meta, metaGetter) : ROOT_CONTEXT;
  const fromInstrumentedClient = trace.getSpanContext(parentCtx) !== undefined;
  const baggage = propagation.getBaggage(parentCtx);

  const target = requestTarget(request);
  const attrs: Attributes = requestAttributes(request, request.id);
  serverTransportAttributes(transport, attrs);
  peerAttributes(attrs);
  if (request.method === 'initialize' && typeof attrs[ATTR_MCP_PROTOCOL_VERSION] === 'string') {
    protocolVersions.set(transport, attrs[ATTR_MCP_PROTOCOL_VERSION] as string);
  } else {
    const version = protocolVersions.get(transport);
    if (version) attrs[ATTR_MCP_PROTOCOL_VERSION] = version;
  }
  const clientInfo =
    request.method === 'initialize'
      ? (request.params?.clientInfo as { name?: unknown; version?: unknown } | undefined)
      : undefined;
  implementationAttributes(attrs, self._serverInfo, clientInfo ?? self._clientVersion);

  attrs[ATTR_GEN_AI_CONVERSATION_ID] =
    limited(baggage?.getEntry(BAGGAGE_SESSION_ID)?.value) ?? conversationIdFor(transport, self);
  const authClient = limited(extra?.authInfo?.clientId);
  const propagatedCaller = limited(baggage?.getEntry(BAGGAGE_CALLER_ID)?.value);
  if (authClient) {
    // Authenticated identity wins; never the raw token or the authorization header.
    attrs[ATTR_ENDUSER_ID] = authClient;
    attrs[ATTR_MCP_AUDIT_CALLER_SOURCE] = CALLER_SOURCE_AUTH;
    const scopes = extra?.authInfo?.scopes;
    if (Array.isArray(scopes))
      attrs[ATTR_CALLER_SCOPES] = scopes.filter((s) => typeof s === 'string').slice(0, 32);
    if (propagatedCaller) attrs[ATTR_CALLER_PROPAGATED] = propagatedCaller;
  } else if (propagatedCaller) {
    attrs[ATTR_ENDUSER_ID] = propagatedCaller;
    attrs[ATTR_MCP_AUDIT_CALLER_SOURCE] = CALLER_SOURCE_PROPAGATED;
  }
  const turn = limited(baggage?.getEntry(BAGGAGE_TURN_ID)?.value);
  if (turn) attrs[ATTR_MCP_AUDIT_TURN_ID] = turn;
  attrs[ATTR_MCP_AUDIT_CLIENT_INSTRUMENTED] = fromInstrumentedClient;

  const call: Call = {
    span: undefined as never,
    side: 'server',
    method: request.method,
    tool: request.method === 'tools/call' ? target : undefined,
    attrs,
    startedAt: performance.now(),
    redacted: 0,
    done: false,
  };
  deps.recorder().requestContent(request, call, attrs);
  call.span = deps
    .tracer()
    .startSpan(
      target ? `${request.method} ${target}` : request.method,
      { kind: SpanKind.SERVER, attributes: attrs },
      parentCtx,
    );

  ensureSendWrapped(transport, deps);
  let pending = pendingByTransport.get(transport);
  if (!pending) {
    pending = new Map();
    pendingByTransport.set(transport, pending);
  }
  if (pending.size >= deps.maxPending()) {
    const oldest = pending.keys().next();
    if (!oldest.done) {
      const stale = pending.get(oldest.value)!;
      pending.delete(oldest.value);
      deps
        .recorder()
        .finish(stale, { errorType: '_OTHER', message: 'no response seen before the pending-span limit' });
    }
  }
  pending.set(request.id, call);
  return { call, ctx: trace.setSpan(parentCtx, call.span) };
}

/** A cancelled request gets no response; its handler's abort signal tells us it ended. */
function watchCancellation(
  self: ProtocolLike,
  request: JsonRpcRequestLike,
  call: Call,
  deps: ServerPatchDeps,
): void {
  const controller = self._requestHandlerAbortControllers?.get(request.id);
  if (!controller) return;
  const transport = self._transport;
  controller.signal.addEventListener(
    'abort',
    () => {
      if (call.done) return;
      const pending = transport ? pendingByTransport.get(transport) : undefined;
      if (pending?.get(request.id!) === call) pending.delete(request.id!);
      deps.recorder().finish(call, { errorType: ERROR_TYPE_CANCELLED, message: 'request cancelled' });
    },
    { once: true },
  );
}
