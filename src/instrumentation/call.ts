import { diag, SpanKind, trace, type Attributes, type Context, type Tracer } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import { implementationAttributes, requestAttributes, requestTarget, spanName } from './attributes.js';
import { armInFlightMark } from './in-flight.js';
import type { Call, Recorder, Side } from './recorder.js';
import {
  ATTR_ENDUSER_ID,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_MCP_AUDIT_CALLER_PROPAGATED,
  ATTR_MCP_AUDIT_CALLER_SCOPES,
  ATTR_MCP_AUDIT_CALLER_SOURCE,
  ATTR_MCP_AUDIT_CLIENT_INSTRUMENTED,
  ATTR_MCP_AUDIT_TURN_ID,
  ATTR_MCP_PROTOCOL_VERSION,
  type CALLER_SOURCE_AUTH,
  type CALLER_SOURCE_CONTEXT,
  type CALLER_SOURCE_PROPAGATED,
} from '../semconv.js';
import type { ImplementationInfo, JsonRpcRequestLike } from './protocol-shape.js';

/** What the client and server patches are given by the instrumentation, read lazily on each call. */
export interface PatchDeps {
  tracer: () => Tracer;
  recorder: () => Recorder;
  isEnabled: () => boolean;
  /** Upper bound on server spans waiting for their response on one connection. */
  maxPending: () => number;
  onError: (message: string, err: unknown) => void;
}

/** Who the call is for, and how that is known. */
export interface CallerInfo {
  id: string;
  source: typeof CALLER_SOURCE_CONTEXT | typeof CALLER_SOURCE_AUTH | typeof CALLER_SOURCE_PROPAGATED;
  /** The client's claimed identity, kept apart when an authenticated one won. */
  propagated?: string;
  /** The access token's scopes (never the token). */
  scopes?: string[];
}

/**
 * Everything known about one request where it was seen, as plain data: an SDK patch reads it from
 * the Protocol instance and its transport, a proxy from the JSON-RPC messages it relays and its flags.
 */
export interface CallSource {
  side: Side;
  request: JsonRpcRequestLike;
  /** The JSON-RPC id; on the client the SDK assigns it inside `request()`, so it is passed apart. */
  requestId?: string | number;
  /** The context the span starts in: the active one on the sender, the one `_meta` carried on the receiver. */
  parent: Context;
  /** Where the request travels: `network.transport`, `server.*`, `client.*`, `mcp.session.id`. */
  connection: Attributes;
  protocolVersion?: string;
  server?: ImplementationInfo;
  client?: ImplementationInfo;
  /** `gen_ai.conversation.id`: the audit session, else the MCP session, else {@link conversationIdFor}. */
  conversationId: string;
  caller?: CallerInfo;
  turnId?: string;
  /** Receiver only: the request carried trace context from an instrumented sender. */
  clientInstrumented?: boolean;
}

/** A started call and the context to run the request in (the span active). */
export interface StartedCall {
  call: Call;
  ctx: Context;
}

/**
 * Starts the span of one request and returns the call, fully built: attributes, redacted request
 * content, span. End it with `recorder.finish()` or `recorder.finishResponse()`.
 *
 * The one entry point for every place a request is seen: the SDK patches (client.ts, server.ts) and
 * the stdio and HTTP proxies, which see raw JSON-RPC messages rather than SDK Protocol instances and
 * describe the request and its connection in a {@link CallSource}. Sharing it is what keeps the span,
 * the redaction and the capture policy identical on every path.
 */
export function startCall(tracer: Tracer, recorder: Recorder, source: CallSource): StartedCall {
  const { request, side } = source;
  const target = requestTarget(request);
  const tool = request.method === 'tools/call' ? target : undefined;
  const attrs: Attributes = requestAttributes(request, source.requestId);
  Object.assign(attrs, source.connection);
  if (source.protocolVersion !== undefined) attrs[ATTR_MCP_PROTOCOL_VERSION] = source.protocolVersion;
  implementationAttributes(attrs, source.server, source.client);
  attrs[ATTR_GEN_AI_CONVERSATION_ID] = source.conversationId;
  callerAttributes(source.caller, attrs);
  if (source.turnId) attrs[ATTR_MCP_AUDIT_TURN_ID] = source.turnId;
  if (source.clientInstrumented !== undefined) {
    attrs[ATTR_MCP_AUDIT_CLIENT_INSTRUMENTED] = source.clientInstrumented;
  }
  const startedAt = performance.now();
  const redacted = recorder.requestContent(request, tool, attrs);
  const span = tracer.startSpan(
    spanName(request.method, target),
    { kind: side === 'client' ? SpanKind.CLIENT : SpanKind.SERVER, attributes: attrs },
    source.parent,
  );
  const call: Call = { span, side, method: request.method, tool, attrs, startedAt, redacted, done: false };
  if (tool !== undefined) call.args = request.params?.arguments;
  armInFlightMark(call, tracer, recorder.inFlightMarkMs, (err) =>
    diag.error('mcp-audit: could not record an in-flight call', err),
  );
  return { call, ctx: trace.setSpan(source.parent, span) };
}

function callerAttributes(caller: CallerInfo | undefined, attrs: Attributes): void {
  if (!caller) return;
  attrs[ATTR_ENDUSER_ID] = caller.id;
  attrs[ATTR_MCP_AUDIT_CALLER_SOURCE] = caller.source;
  if (caller.scopes) attrs[ATTR_MCP_AUDIT_CALLER_SCOPES] = caller.scopes;
  if (caller.propagated) attrs[ATTR_MCP_AUDIT_CALLER_PROPAGATED] = caller.propagated;
}

// One generated conversation id per connection when the app set none and the transport has no
// session: calls over one connection belong together, and nothing else can tell us more.
const connectionIds = new WeakMap<object, string>();

/** The transport's MCP session id, else one generated id per connection (`key`: the transport or its owner). */
export function conversationIdFor(sessionId: string | undefined, key: object): string {
  if (sessionId) return sessionId;
  let id = connectionIds.get(key);
  if (!id) {
    id = randomUUID();
    connectionIds.set(key, id);
  }
  return id;
}
