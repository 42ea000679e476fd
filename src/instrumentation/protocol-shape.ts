// The parts of the SDK's Protocol, Client, Server and transports that the instrumentation reads.
// Structural on purpose: SDK 1.x (one Protocol per build) and 2.x (one bundled Protocol per package)
// differ in class identity and private fields, not in these shapes. Every field is optional because
// any of them may be missing in a version we have not seen; readers must cope.

export interface ImplementationInfo {
  name?: unknown;
  version?: unknown;
}

export interface JsonRpcRequestLike {
  method: string;
  id?: string | number;
  params?: Record<string, unknown> & { _meta?: Record<string, unknown> };
}

export interface JsonRpcResponseLike {
  id?: string | number;
  result?: unknown;
  error?: { code?: unknown; message?: unknown };
}

export interface TransportLike {
  sessionId?: string;
  send?: (message: unknown, options?: unknown) => Promise<void>;
  /** Streamable HTTP and SSE clients. */
  _url?: URL;
  /** Streamable HTTP client, set after initialize. */
  _protocolVersion?: string;
  /** Stdio client (its spawn parameters). */
  _serverParams?: unknown;
  /** Stdio server. */
  _stdin?: unknown;
}

export interface RequestOptionsLike {
  signal?: AbortSignal;
  timeout?: number;
}

export interface AuthInfoLike {
  clientId?: unknown;
  scopes?: unknown;
}

export interface RequestExtraLike {
  authInfo?: AuthInfoLike;
  requestInfo?: { headers?: Record<string, unknown> };
}

export interface ProtocolLike {
  _transport?: TransportLike;
  _requestMessageId?: number;
  _requestHandlerAbortControllers?: Map<unknown, AbortController>;
  /** Client: what it sent in initialize. */
  _clientInfo?: ImplementationInfo;
  /** Client: what the server answered in initialize. */
  _serverVersion?: ImplementationInfo;
  /** Server: its own identity. */
  _serverInfo?: ImplementationInfo;
  /** Server: the client's identity from initialize. */
  _clientVersion?: ImplementationInfo;
}

/** 1.x: `request(request, resultSchema, options)`; 2.x: `request(request, schemaOrOptions, options)`
 * and `_requestWithSchema(request, resultSchema, options)`. Only the request comes first in all. */
export type RequestFn = (
  this: ProtocolLike,
  request: JsonRpcRequestLike,
  ...rest: unknown[]
) => Promise<unknown>;

export type OnRequestFn = (this: ProtocolLike, request: JsonRpcRequestLike, extra?: RequestExtraLike) => void;

export interface ProtocolClassLike {
  prototype: {
    request?: RequestFn;
    _requestWithSchema?: RequestFn;
    _onrequest?: OnRequestFn;
  };
}
