// The audit side of a proxied MCP connection, transport-neutral: it sees each JSON-RPC message
// in either direction and turns requests into spans through the one shared entry point
// (startCall / Recorder), correlating responses by direction and id. Every method is called with
// the audit's parsed copy; nothing here can change what is relayed except the two decisions it
// returns for a client request: refuse it (policy) or give it trace context.

import type { Attributes, Tracer } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import { startCall, type CallerInfo } from '../instrumentation/call.js';
import { injectMeta, readIncomingContext } from '../instrumentation/meta-context.js';
import { policyDenial } from '../instrumentation/policy.js';
import type { Call, Recorder } from '../instrumentation/recorder.js';
import type { ImplementationInfo } from '../instrumentation/protocol-shape.js';
import {
  ATTR_MCP_AUDIT_SERVER_NAME,
  ATTR_MCP_AUDIT_SERVER_VERSION,
  ATTR_MCP_PROTOCOL_VERSION,
  CALLER_SOURCE_AUTH,
  CALLER_SOURCE_CONTEXT,
  CALLER_SOURCE_PROPAGATED,
  ERROR_TYPE_CANCELLED,
  ERROR_TYPE_POLICY_DENIED,
  ERROR_TYPE_TRANSPORT,
  ATTR_PROXY_DIRECTION,
  ATTR_RESULT_UNPARSED,
} from '../semconv.js';
import type { JsonRpcId, RpcRequest, RpcResponse } from './jsonrpc.js';

/** Which way a message travels. A request's response travels the other way. */
export type Direction = 'to_server' | 'to_client';

export interface SessionOptions {
  tracer: Tracer;
  recorder: Recorder;
  /** `network.transport` and the other connection attributes of every span. */
  connection: Attributes;
  /** Configured caller (flag or MCP_AUDIT_CALLER); a request's propagated one is used otherwise. */
  callerId?: string;
  /** Configured session; else the request's propagated one; else one id for this connection. */
  sessionId?: string;
  /** Inject traceparent/baggage into requests toward the server that carry none. */
  inject: boolean;
  /** Server identity when the protocol has no initialize (flag). */
  serverName?: string;
  /** Bound on calls waiting for a response per direction; the oldest is ended past it. */
  maxPending?: number;
}

/** What one HTTP request adds to the connection's description (the stdio relay passes none). */
export interface RequestScope {
  /** Attributes of this request only: the peer's address, the MCP session header. */
  connection?: Attributes;
  /** The transport's session (Mcp-Session-Id): used when neither flag nor baggage names one. */
  transportSessionId?: string;
  /** A caller the proxy authenticated for this request (verified token, trusted gateway header). */
  authenticatedCaller?: { id: string; scopes?: string[] };
}

export interface ClientRequestDecision {
  /** Refuse: answer the client with this response line instead of forwarding. */
  deny?: Record<string, unknown>;
  /** Forward this request object (trace context injected) instead of the original bytes. */
  rewrite?: Record<string, unknown>;
  /** Records the request's content (redaction): call it once the line has been forwarded. */
  content?: () => void;
}

// Redacting arguments is the costly part of starting a span; it is done once the request is on its
// way to the server, so it never adds to the round trip.
function withoutArguments(request: RpcRequest): RpcRequest {
  if (request.method !== 'tools/call' && request.method !== 'prompts/get') return request;
  if (request.params?.arguments === undefined) return request;
  return { ...request, params: { ...request.params, arguments: undefined } };
}

export interface SessionStats {
  requests: number;
  unparsedLines: number;
  oversizedLines: number;
  denied: number;
}

export class ProxySession {
  readonly stats: SessionStats = { requests: 0, unparsedLines: 0, oversizedLines: 0, denied: 0 };
  private readonly pending: Record<Direction, Map<JsonRpcId, Call>> = {
    to_server: new Map(),
    to_client: new Map(),
  };
  private readonly connectionId = randomUUID();
  /** Calls handed to the recorder whose spans may still be completing (large results take turns). */
  private readonly ending = new Set<Call>();
  private server: ImplementationInfo | undefined;
  private client: ImplementationInfo | undefined;
  private protocolVersion: string | undefined;

  constructor(private readonly options: SessionOptions) {
    if (options.serverName) this.server = { name: options.serverName };
  }

  /** A request seen travelling `direction`; for requests toward the server, what to do with it. */
  request(
    direction: Direction,
    request: RpcRequest,
    raw: Record<string, unknown>,
    scope?: RequestScope,
  ): ClientRequestDecision {
    this.stats.requests++;
    const { recorder, tracer } = this.options;
    const incoming = readIncomingContext(request);
    if (request.method === 'initialize' && direction === 'to_server') {
      const info = request.params?.clientInfo;
      if (info && typeof info === 'object') this.client = info as ImplementationInfo;
      const version = request.params?.protocolVersion;
      if (typeof version === 'string') this.protocolVersion = version;
    }
    const connection: Attributes = { ...this.options.connection, ...scope?.connection };
    if (direction === 'to_client') connection[ATTR_PROXY_DIRECTION] = 'server_to_client';
    const lean = withoutArguments(request);
    const { call, ctx } = startCall(tracer, recorder, {
      side: 'server',
      request: lean,
      requestId: request.id,
      parent: incoming.parent,
      connection,
      protocolVersion: this.protocolVersion,
      server: this.server,
      client: this.client,
      conversationId:
        this.options.sessionId ?? incoming.sessionId ?? scope?.transportSessionId ?? this.connectionId,
      caller: this.caller(
        incoming.callerId,
        direction === 'to_server' ? scope?.authenticatedCaller : undefined,
      ),
      turnId: incoming.turnId,
      clientInstrumented: incoming.fromInstrumentedClient,
    });
    const content = () => {
      if (lean === request) return;
      const attrs: Attributes = {};
      call.redacted += recorder.requestContent(request, call.tool, attrs);
      if (call.tool !== undefined) call.args = request.params?.arguments;
      call.span.setAttributes(attrs);
      Object.assign(call.attrs, attrs);
    };
    if (direction === 'to_client') content();
    if (direction === 'to_server') {
      const denied = recorder.deniedTool(call);
      if (denied !== undefined) {
        this.stats.denied++;
        content();
        const error = policyDenial(denied);
        this.ending.add(call);
        recorder.finish(call, {
          errorType: ERROR_TYPE_POLICY_DENIED,
          code: error.code,
          message: error.message,
        });
        return { deny: { jsonrpc: '2.0', id: request.id, error } };
      }
    }
    this.track(direction, request.id, call);
    if (direction === 'to_server' && this.options.inject && !incoming.fromInstrumentedClient) {
      const injected = injectMeta(request, ctx);
      // Nothing to add when the span is not sampled or no propagator is set: keep the bytes.
      const before = Object.keys(request.params?._meta ?? {}).length;
      if (Object.keys(injected.params?._meta ?? {}).length > before) {
        return {
          rewrite: { ...raw, params: injected.params },
          content,
        };
      }
    }
    return direction === 'to_server' ? { content } : {};
  }

  /** A response travelling `direction` answers the request that travelled the other way. */
  response(direction: Direction, response: RpcResponse): void {
    const call = this.take(direction === 'to_client' ? 'to_server' : 'to_client', response.id);
    if (!call) return;
    if (call.method === 'initialize' && !response.error) this.learnServer(call, response.result);
    this.ending.add(call);
    this.options.recorder.finishResponse(call, response);
  }

  /** A response too large to parse: the call ends with its size and no content read. */
  oversizedResponse(direction: Direction, id: JsonRpcId, bytes: number): void {
    const call = this.take(direction === 'to_client' ? 'to_server' : 'to_client', id);
    if (!call) return;
    call.span.setAttribute(ATTR_RESULT_UNPARSED, true);
    call.attrs[ATTR_RESULT_UNPARSED] = true;
    // The recorder sizes what it is given; a stand-in of the right length keeps the size truthful
    // without holding the line.
    this.ending.add(call);
    this.options.recorder.finish(call, {}, new SizedPlaceholder(bytes));
  }

  /** `notifications/cancelled` travelling `direction` cancels a request sent the same way. */
  cancelled(direction: Direction, requestId: unknown): void {
    if (typeof requestId !== 'string' && typeof requestId !== 'number') return;
    const call = this.take(direction, requestId);
    if (call)
      this.options.recorder.finish(call, { errorType: ERROR_TYPE_CANCELLED, message: 'request cancelled' });
  }

  /** The connection ended: calls still waiting end as transport errors. */
  close(message: string): void {
    for (const map of Object.values(this.pending)) {
      for (const call of map.values()) {
        this.ending.add(call);
        this.options.recorder.finish(call, { errorType: ERROR_TYPE_TRANSPORT, message });
      }
      map.clear();
    }
  }

  /** Resolves once every ended call's span has been completed by the recorder, or at the deadline. */
  async settled(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      for (const call of this.ending) if (!call.span.isRecording()) this.ending.delete(call);
      if (this.ending.size === 0 || performance.now() > deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  private caller(
    propagated: string | undefined,
    authenticated: RequestScope['authenticatedCaller'],
  ): CallerInfo | undefined {
    if (authenticated) {
      return { id: authenticated.id, source: CALLER_SOURCE_AUTH, propagated, scopes: authenticated.scopes };
    }
    if (this.options.callerId) {
      return { id: this.options.callerId, source: CALLER_SOURCE_CONTEXT, propagated };
    }
    return propagated ? { id: propagated, source: CALLER_SOURCE_PROPAGATED } : undefined;
  }

  private track(direction: Direction, id: JsonRpcId, call: Call): void {
    const map = this.pending[direction];
    const previous = map.get(id);
    if (previous) {
      this.options.recorder.finish(previous, {
        errorType: '_OTHER',
        message: 'request id reused before a response',
      });
    }
    if (map.size >= (this.options.maxPending ?? 4096)) {
      const oldest = map.keys().next();
      if (!oldest.done) {
        const stale = map.get(oldest.value)!;
        map.delete(oldest.value);
        this.options.recorder.finish(stale, {
          errorType: '_OTHER',
          message: 'no response seen before the pending-span limit',
        });
      }
    }
    map.set(id, call);
  }

  private take(direction: Direction, id: JsonRpcId): Call | undefined {
    const map = this.pending[direction];
    const call = map.get(id);
    if (call) map.delete(id);
    return call;
  }

  private learnServer(call: Call, result: unknown): void {
    if (typeof result !== 'object' || result === null) return;
    const { serverInfo, protocolVersion } = result as { serverInfo?: unknown; protocolVersion?: unknown };
    const attrs: Attributes = {};
    if (serverInfo && typeof serverInfo === 'object') {
      this.server = serverInfo as ImplementationInfo;
      const { name, version } = this.server;
      if (typeof name === 'string' && name) attrs[ATTR_MCP_AUDIT_SERVER_NAME] = name.slice(0, 256);
      if (typeof version === 'string' && version)
        attrs[ATTR_MCP_AUDIT_SERVER_VERSION] = version.slice(0, 256);
    }
    if (typeof protocolVersion === 'string') {
      this.protocolVersion = protocolVersion;
      attrs[ATTR_MCP_PROTOCOL_VERSION] = protocolVersion;
    }
    call.span.setAttributes(attrs);
    Object.assign(call.attrs, attrs);
  }
}

/** Serialises to a JSON string of `bytes` bytes without holding them: `"` + filler + `"`. */
class SizedPlaceholder {
  constructor(private readonly bytes: number) {}
  toJSON(): string {
    return 'x'.repeat(Math.max(0, this.bytes - 2));
  }
}
