import { context, type Attributes } from '@opentelemetry/api';
import { getAuditContext } from './audit-context.js';
import {
  classifyClientError,
  clientTransportAttributes,
  implementationAttributes,
  requestedProtocolVersion,
} from './attributes.js';
import { conversationIdFor, startCall, type PatchDeps, type StartedCall } from './call.js';
import { injectMeta } from './meta-context.js';
import { policyError } from './policy.js';
import type { Call } from './recorder.js';
import { ATTR_MCP_PROTOCOL_VERSION, CALLER_SOURCE_CONTEXT, ERROR_TYPE_POLICY_DENIED } from '../semconv.js';
import type {
  ImplementationInfo,
  JsonRpcRequestLike,
  ProtocolLike,
  RequestFn,
  RequestOptionsLike,
} from './protocol-shape.js';

// Learnt from the initialize result, so later spans carry the negotiated protocol version.
const negotiated = new WeakMap<object, { protocolVersion?: string; serverInfo?: ImplementationInfo }>();

/**
 * Patch for `Protocol.prototype.request`: every outgoing request, from a Client (tools/call, ...) or
 * a Server (sampling, elicitation), becomes a CLIENT span whose context travels in `params._meta`.
 */
export function createRequestPatch(deps: PatchDeps) {
  return (original: RequestFn): RequestFn =>
    function request(this: ProtocolLike, req: JsonRpcRequestLike, ...rest: unknown[]) {
      if (!deps.isEnabled() || typeof req?.method !== 'string') {
        return original.apply(this, [req, ...rest]);
      }
      let started: StartedCall | undefined;
      let outgoing = req;
      try {
        started = startClientCall(this, req, deps);
        outgoing = injectMeta(req, started.ctx);
      } catch (err) {
        deps.onError('mcp-audit: could not start a client span', err);
      }
      if (!started) return original.apply(this, [req, ...rest]);
      const { call, ctx } = started;
      const recorder = deps.recorder();
      const deniedTool = recorder.deniedTool(call);
      if (deniedTool !== undefined) {
        const err = policyError(deniedTool);
        recorder.finish(call, { errorType: ERROR_TYPE_POLICY_DENIED, code: err.code, message: err.message });
        return Promise.reject(err);
      }
      let pending: Promise<unknown>;
      try {
        pending = context.with(ctx, () => original.apply(this, [outgoing, ...rest]));
      } catch (err) {
        recorder.finish(call, classifyClientError(err, false));
        throw err;
      }
      const self = this;
      const aborted = () => findOptions(rest)?.signal?.aborted === true;
      return pending.then(
        (result) => {
          try {
            if (req.method === 'initialize') learnFromInitialize(self, call, result);
            recorder.finish(call, {}, result);
          } catch (err) {
            deps.onError('mcp-audit: could not end a client span', err);
          }
          return result;
        },
        (err: unknown) => {
          try {
            recorder.finish(call, classifyClientError(err, aborted()));
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

function startClientCall(self: ProtocolLike, req: JsonRpcRequestLike, deps: PatchDeps): StartedCall {
  const transport = self._transport;
  const learnt = transport ? negotiated.get(transport) : undefined;
  const audit = getAuditContext();
  return startCall(deps.tracer(), deps.recorder(), {
    side: 'client',
    request: req,
    // The SDK numbers requests with this counter synchronously inside request(): read it first.
    requestId: typeof self._requestMessageId === 'number' ? self._requestMessageId : undefined,
    parent: context.active(),
    connection: clientTransportAttributes(transport),
    protocolVersion:
      (typeof transport?._protocolVersion === 'string' ? transport._protocolVersion : undefined) ??
      requestedProtocolVersion(req) ??
      learnt?.protocolVersion,
    server: self._serverVersion ?? learnt?.serverInfo ?? self._serverInfo,
    client: self._clientInfo ?? self._clientVersion,
    conversationId: audit.sessionId ?? conversationIdFor(transport?.sessionId, transport ?? self),
    caller: audit.callerId ? { id: audit.callerId, source: CALLER_SOURCE_CONTEXT } : undefined,
    turnId: audit.turnId,
  });
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
