import { context } from '@opentelemetry/api';
import { requestedProtocolVersion, serverTransportAttributes } from './attributes.js';
import { conversationIdFor, startCall, type CallerInfo, type PatchDeps, type StartedCall } from './call.js';
import { peerAttributes } from './http-peer.js';
import { limited, readIncomingContext } from './meta-context.js';
import type { Call } from './recorder.js';
import {
  CALLER_SOURCE_AUTH,
  CALLER_SOURCE_PROPAGATED,
  ERROR_TYPE_CANCELLED,
  ERROR_TYPE_OTHER,
} from '../semconv.js';
import type {
  JsonRpcRequestLike,
  JsonRpcResponseLike,
  OnRequestFn,
  ProtocolLike,
  RequestExtraLike,
  TransportLike,
} from './protocol-shape.js';

/** Server spans waiting for their response, per transport: request ids are per connection. */
const pendingByTransport = new WeakMap<TransportLike, Map<string | number, Call>>();
const sendWrapped = new WeakSet<TransportLike>();
/** The protocol version the client asked for in initialize, per connection. */
const protocolVersions = new WeakMap<TransportLike, string>();

/**
 * The response leaves through the transport's `send`: wrapping it on each connected transport is
 * the one place that sees every reply, including the SDK's own method-not-found and the error code
 * it derives from a thrown handler error. The span ends when the response has been handed over.
 */
function ensureSendWrapped(transport: TransportLike, deps: PatchDeps): void {
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
  deps: PatchDeps,
): void {
  if (typeof message !== 'object' || message === null || message.id === undefined) return;
  if (!('result' in message) && !('error' in message)) return;
  const pending = pendingByTransport.get(transport);
  const call = pending?.get(message.id);
  if (!call) return;
  pending!.delete(message.id);
  const finish = () => deps.recorder().finishResponse(call, message);
  Promise.resolve(sent).then(finish, finish);
}

/** Patch for `Protocol.prototype._onrequest`: every incoming request becomes a SERVER span. */
export function createOnRequestPatch(deps: PatchDeps) {
  return (original: OnRequestFn): OnRequestFn =>
    function _onrequest(this: ProtocolLike, request: JsonRpcRequestLike, extra?: RequestExtraLike) {
      if (!deps.isEnabled() || typeof request?.method !== 'string') {
        return original.call(this, request, extra);
      }
      let started: StartedCall | undefined;
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
  deps: PatchDeps,
): StartedCall | undefined {
  const transport = self._transport;
  if (!transport || request.id === undefined) return undefined;
  const incoming = readIncomingContext(request);
  const connection = serverTransportAttributes(transport);
  peerAttributes(connection);
  const requested = requestedProtocolVersion(request);
  if (requested) protocolVersions.set(transport, requested);
  const clientInfo =
    request.method === 'initialize'
      ? (request.params?.clientInfo as { name?: unknown; version?: unknown } | undefined)
      : undefined;
  const started = startCall(deps.tracer(), deps.recorder(), {
    side: 'server',
    request,
    requestId: request.id,
    parent: incoming.parent,
    connection,
    protocolVersion: requested ?? protocolVersions.get(transport),
    server: self._serverInfo,
    client: clientInfo ?? self._clientVersion,
    conversationId: incoming.sessionId ?? conversationIdFor(transport.sessionId, transport),
    caller: serverCaller(extra, incoming.callerId),
    turnId: incoming.turnId,
    clientInstrumented: incoming.fromInstrumentedClient,
  });
  ensureSendWrapped(transport, deps);
  trackPending(transport, request.id, started.call, deps);
  return started;
}

/** Authenticated identity wins over the propagated claim; never the raw token or the header. */
function serverCaller(
  extra: RequestExtraLike | undefined,
  propagatedCaller: string | undefined,
): CallerInfo | undefined {
  const authClient = limited(extra?.authInfo?.clientId);
  if (authClient) {
    const scopes = extra?.authInfo?.scopes;
    return {
      id: authClient,
      source: CALLER_SOURCE_AUTH,
      scopes: Array.isArray(scopes) ? scopes.filter((s) => typeof s === 'string').slice(0, 32) : undefined,
      propagated: propagatedCaller,
    };
  }
  return propagatedCaller ? { id: propagatedCaller, source: CALLER_SOURCE_PROPAGATED } : undefined;
}

/** Registers the call to be ended by its response; beyond the limit the oldest is ended unfinished. */
function trackPending(transport: TransportLike, id: string | number, call: Call, deps: PatchDeps): void {
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
      deps.recorder().finish(stale, {
        errorType: ERROR_TYPE_OTHER,
        message: 'no response seen before the pending-span limit',
      });
    }
  }
  pending.set(id, call);
}

/** A cancelled request gets no response; its handler's abort signal tells us it ended. */
function watchCancellation(
  self: ProtocolLike,
  request: JsonRpcRequestLike,
  call: Call,
  deps: PatchDeps,
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
