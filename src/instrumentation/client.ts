import { context, propagation, SpanKind, trace, type Attributes, type Tracer } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import { getAuditContext } from './audit-context.js';
import {
  classifyClientError,
  clientTransportAttributes,
  implementationAttributes,
  requestAttributes,
  requestTarget,
  spanName,
} from './attributes.js';
import type { Call, Recorder } from './recorder.js';
import {
  ATTR_ENDUSER_ID,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_MCP_AUDIT_CALLER_SOURCE,
  ATTR_MCP_AUDIT_TURN_ID,
  ATTR_MCP_PROTOCOL_VERSION,
  CALLER_SOURCE_CONTEXT,
  ERROR_TYPE_POLICY_DENIED,
} from '../semconv.js';
import type {
  ImplementationInfo,
  JsonRpcRequestLike,
  ProtocolLike,
  RequestFn,
  RequestOptionsLike,
  TransportLike,
} from './protocol-shape.js';

/** JSON-RPC code of a refusal by mcp-audit's own policy (implementation-defined server error range). */
export const POLICY_DENIED_CODE = -32010;

export interface ClientPatchDeps {
  tracer: () => Tracer;
  recorder: () => Recorder;
  isEnabled: () => boolean;
  onError: (message: string, err: unknown) => void;
}

// One generated conversation id per connection when the app set none and the transport has no
// session: calls over one connection belong together, and nothing else can tell us more.
const connectionIds = new WeakMap<object, string>();
// Learnt from the initialize result, so later spans carry the negotiated protocol version.
const negotiated = new WeakMap<object, { protocolVersion?: string; serverInfo?: ImplementationInfo }>();

export function conversationIdFor(transport: TransportLike | undefined, owner: object): string {
  if (transport?.sessionId) return transport.sessionId;
  const key = transport ?? owner;
  let id = connectionIds.get(key);
  if (!id) {
    id = randomUUID();
    connectionIds.set(key, id);
  }
  return id;
}

function injectMeta(request: JsonRpcRequestLike, ctx: ReturnType<typeof context.active>): JsonRpcRequestLike {
  // A copy, never the caller's object: apps reuse request params across calls.
  const meta: Record<string, unknown> = { ...(request.params?._meta ?? {}) };
  propagation.inject(ctx, meta);
  return { ...request, params: { ...(request.params ?? {}), _meta: meta } };
}

function policyError(tool: string): Error {
  const err = new Error(
    `mcp-audit: tool "${tool}" requires a caller identity; call it inside withAuditContext({ callerId }) ` +
      '(refused by MCP_AUDIT_REQUIRE_CALLER / requireCallerFor)',
  ) as Error & { code: number; data: unknown };
  err.name = 'McpAuditPolicyError';
  err.code = POLICY_DENIED_CODE;
  err.data = { reason: 'missing_caller_identity', tool };
  return err;
}

/**
 * Patch for `Protocol.prototype.request`: every outgoing request, from a Client (tools/call, ...) or
 * a Server (sampling, elicitation), becomes a CLIENT span whose context travels in `params._meta`.
 */
export function createRequestPatch(deps: ClientPatchDeps) {
  return (original: RequestFn): RequestFn =>
    function request(this: ProtocolLike, req: JsonRpcRequestLike, ...rest: unknown[]) {
      if (!deps.isEnabled() || typeof req?.method !== 'string') {
        return original.apply(this, [req, ...rest]);
      }
      const options = findOptions(rest);
      let call: Call | undefined;
      let outgoing = req;
      let denied: Error | undefined;
      let spanCtx = context.active();
      try {
        const started = startClientCall(this, req, deps);
        call = started.call;
        spanCtx = started.ctx;
        outgoing = injectMeta(req, spanCtx);
        if (started.deniedTool !== undefined) denied = policyError(started.deniedTool);
      } catch (err) {
        deps.onError('mcp-audit: could not start a client span', err);
      }
      if (!call) return original.apply(this, [req, ...rest]);
      const active = call;
      if (denied) {
        const err = denied as Error & { code: number };
        deps
          .recorder()
          .finish(active, { errorType: ERROR_TYPE_POLICY_DENIED, code: err.code, message: err.message });
        return Promise.reject(denied);
      }
      let pending: Promise<unknown>;
      try {
        pending = context.with(spanCtx, () => original.apply(this, [outgoing, ...rest]));
      } catch (err) {
        deps.recorder().finish(active, classifyClientError(err, false));
        throw err;
      }
      const self = this;
      return pending.then(
        (result) => {
          try {
            if (req.method === 'initialize') learnFromInitialize(self, active, result);
            deps.recorder().finish(active, {}, result);
          } catch (err) {
            deps.onError('mcp-audit: could not end a client span', err);
          }
          return result;
        },
        (err: unknown) => {
          try {
            deps.recorder().finish(active, classifyClientError(err, options?.signal?.aborted === true));
          } catch (inner) {
            deps.onError('mcp-audit: could not end a client span', inner);
          }
          throw err;
        },
      );
    };
}

/** The request options, wherever this SDK version takes them: the object with an abort signal. */
function findOptions(rest: unknown[]): RequestOptionsLike | undefined {
  for (let i = rest.length - 1; i >= 0; i--) {
    const arg = rest[i];
    if (typeof arg === 'object' && arg !== null && 'signal' in arg) return arg as RequestOptionsLike;
  }
  return undefined;
}

function startClientCall(self: ProtocolLike, req: JsonRpcRequestLike, deps: ClientPatchDeps) {
  const recorder = deps.recorder();
  const target = requestTarget(req);
  const transport = self._transport;
  // The SDK numbers requests with this counter synchronously inside request(): read it first.
  const id = typeof self._requestMessageId === 'number' ? self._requestMessageId : undefined;
  const attrs: Attributes = requestAttributes(req, id);
  clientTransportAttributes(transport, attrs);
  const learnt = transport ? negotiated.get(transport) : undefined;
  if (learnt?.protocolVersion && attrs[ATTR_MCP_PROTOCOL_VERSION] === undefined) {
    attrs[ATTR_MCP_PROTOCOL_VERSION] = learnt.protocolVersion;
  }
  implementationAttributes(
    attrs,
    self._serverVersion ?? learnt?.serverInfo ?? self._serverInfo,
    self._clientInfo ?? self._clientVersion,
  );

  const audit = getAuditContext();
  attrs[ATTR_GEN_AI_CONVERSATION_ID] = audit.sessionId ?? conversationIdFor(transport, self);
  if (audit.callerId) {
    attrs[ATTR_ENDUSER_ID] = audit.callerId;
    attrs[ATTR_MCP_AUDIT_CALLER_SOURCE] = CALLER_SOURCE_CONTEXT;
  }
  if (audit.turnId) attrs[ATTR_MCP_AUDIT_TURN_ID] = audit.turnId;

  const call: Call = {
    span: undefined as never,
    side: 'client',
    method: req.method,
    tool: req.method === 'tools/call' ? target : undefined,
    attrs,
    startedAt: performance.now(),
    redacted: 0,
    done: false,
  };
  recorder.requestContent(req, call, attrs);
  const deniedTool =
    req.method === 'tools/call' &&
    target !== undefined &&
    !audit.callerId &&
    recorder.requireCaller.has(target)
      ? target
      : undefined;
  call.span = deps
    .tracer()
    .startSpan(spanName(req.method, target), { kind: SpanKind.CLIENT, attributes: attrs });
  return { call, ctx: trace.setSpan(context.active(), call.span), deniedTool };
}

function learnFromInitialize(self: ProtocolLike, call: Call, result: unknown): void {
  if (typeof result !== 'object' || result === null) return;
  const { protocolVersion, serverInfo } = result as {
    protocolVersion?: unknown;
    serverInfo?: ImplementationInfo;
  };
  const transport = self._transport;
  if (transport) {
    negotiated.set(transport, {
      protocolVersion: typeof protocolVersion === 'string' ? protocolVersion : undefined,
      serverInfo,
    });
  }
  const attrs: Attributes = {};
  if (typeof protocolVersion === 'string') attrs[ATTR_MCP_PROTOCOL_VERSION] = protocolVersion;
  implementationAttributes(attrs, serverInfo, undefined);
  call.span.setAttributes(attrs);
  Object.assign(call.attrs, attrs);
}
