import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROMPT_NAME,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_JSONRPC_REQUEST_ID,
  ATTR_MCP_AUDIT_CLIENT_NAME,
  ATTR_MCP_AUDIT_CLIENT_VERSION,
  ATTR_MCP_AUDIT_SERVER_NAME,
  ATTR_MCP_AUDIT_SERVER_VERSION,
  ATTR_MCP_METHOD_NAME,
  ATTR_MCP_SESSION_ID,
  ATTR_NETWORK_TRANSPORT,
  ATTR_RPC_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ERROR_TYPE_CANCELLED,
  ERROR_TYPE_OTHER,
  ERROR_TYPE_TIMEOUT,
  ERROR_TYPE_TRANSPORT,
  GEN_AI_OPERATION_EXECUTE_TOOL,
  NETWORK_TRANSPORT_PIPE,
  NETWORK_TRANSPORT_TCP,
} from '../semconv.js';
import type { ImplementationInfo, JsonRpcRequestLike, TransportLike } from './protocol-shape.js';

// JSON-RPC codes the SDK uses for its own failures (ErrorCode in types.ts).
const CODE_CONNECTION_CLOSED = -32000;
const CODE_REQUEST_TIMEOUT = -32001;

/**
 * Server-side codes that describe a bad request rather than a server failure: recorded, but they
 * leave the span status unset (GenAI semantic conventions #404).
 */
export const CLIENT_FAULT_CODES: ReadonlySet<number> = new Set([-32700, -32600, -32601, -32602, -32002]);

/** The tool, prompt or resource a request is about: the second half of the span name. */
export function requestTarget(request: JsonRpcRequestLike): string | undefined {
  const params = request.params;
  if (!params) return undefined;
  switch (request.method) {
    case 'tools/call':
    case 'prompts/get':
      return typeof params.name === 'string' ? params.name : undefined;
    default:
      return undefined;
  }
}

export function spanName(method: string, target: string | undefined): string {
  return target ? `${method} ${target}` : method;
}

/** Attributes read from the request alone, the same on both sides. */
export function requestAttributes(request: JsonRpcRequestLike, id: string | number | undefined): Attributes {
  const attrs: Attributes = { [ATTR_MCP_METHOD_NAME]: request.method };
  if (id !== undefined) attrs[ATTR_JSONRPC_REQUEST_ID] = String(id);
  const params = request.params;
  if (request.method === 'tools/call') {
    attrs[ATTR_GEN_AI_OPERATION_NAME] = GEN_AI_OPERATION_EXECUTE_TOOL;
    if (typeof params?.name === 'string') attrs[ATTR_GEN_AI_TOOL_NAME] = params.name;
  } else if (request.method === 'prompts/get' && typeof params?.name === 'string') {
    attrs[ATTR_GEN_AI_PROMPT_NAME] = params.name;
  }
  return attrs;
}

/** The protocol version an initialize request asks for. */
export function requestedProtocolVersion(request: JsonRpcRequestLike): string | undefined {
  const version = request.params?.protocolVersion;
  return request.method === 'initialize' && typeof version === 'string' ? version : undefined;
}

/** Where the transport goes: stdio is a pipe, HTTP and SSE are TCP to the URL's host. */
export function clientTransportAttributes(transport: TransportLike | undefined): Attributes {
  const attrs: Attributes = {};
  if (!transport) return attrs;
  if (transport.sessionId) attrs[ATTR_MCP_SESSION_ID] = transport.sessionId;
  const url = transport._url;
  if (url instanceof URL) {
    attrs[ATTR_NETWORK_TRANSPORT] = NETWORK_TRANSPORT_TCP;
    attrs[ATTR_SERVER_ADDRESS] = url.hostname.replace(/^\[|\]$/g, '');
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    attrs[ATTR_SERVER_PORT] = port;
  } else if (transport._serverParams !== undefined) {
    attrs[ATTR_NETWORK_TRANSPORT] = NETWORK_TRANSPORT_PIPE;
  }
  return attrs;
}

/** The receiving end: a session means HTTP (TCP), a stdin a pipe. */
export function serverTransportAttributes(transport: TransportLike | undefined): Attributes {
  const attrs: Attributes = {};
  if (!transport) return attrs;
  if (transport.sessionId) {
    attrs[ATTR_MCP_SESSION_ID] = transport.sessionId;
    attrs[ATTR_NETWORK_TRANSPORT] = NETWORK_TRANSPORT_TCP;
  } else if (transport._stdin !== undefined) {
    attrs[ATTR_NETWORK_TRANSPORT] = NETWORK_TRANSPORT_PIPE;
  }
  return attrs;
}

function infoString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, 256) : undefined;
}

export function implementationAttributes(
  attrs: Attributes,
  server: ImplementationInfo | undefined,
  client: ImplementationInfo | undefined,
): void {
  const serverName = infoString(server?.name);
  const serverVersion = infoString(server?.version);
  const clientName = infoString(client?.name);
  const clientVersion = infoString(client?.version);
  if (serverName) attrs[ATTR_MCP_AUDIT_SERVER_NAME] = serverName;
  if (serverVersion) attrs[ATTR_MCP_AUDIT_SERVER_VERSION] = serverVersion;
  if (clientName) attrs[ATTR_MCP_AUDIT_CLIENT_NAME] = clientName;
  if (clientVersion) attrs[ATTR_MCP_AUDIT_CLIENT_VERSION] = clientVersion;
}

export interface Outcome {
  errorType?: string;
  /** JSON-RPC error code, when the peer answered with one. */
  code?: number;
  /** Status description: the error message, redacted by the caller before use. */
  message?: string;
}

// SDK 2.x reports its own failures with string codes (SdkErrorCode); the peer's errors stay numeric.
const SDK_STRING_CODES: Record<string, string> = {
  REQUEST_TIMEOUT: ERROR_TYPE_TIMEOUT,
  CONNECTION_CLOSED: ERROR_TYPE_TRANSPORT,
  SEND_FAILED: ERROR_TYPE_TRANSPORT,
  NOT_CONNECTED: ERROR_TYPE_TRANSPORT,
};

function stringCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function numericCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' && Number.isSafeInteger(code) ? code : undefined;
}

function messageOf(err: unknown): string | undefined {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') {
    return (err as { message: string }).message;
  }
  return err === undefined ? undefined : String(err);
}

/**
 * Classifies a rejected client request. The SDK reports both timeouts and aborts as RequestTimeout,
 * so the caller's abort signal tells them apart.
 */
export function classifyClientError(err: unknown, aborted: boolean): Outcome {
  const message = messageOf(err);
  if (aborted) return { errorType: ERROR_TYPE_CANCELLED, message };
  const code = numericCode(err);
  if (code === CODE_REQUEST_TIMEOUT) return { errorType: ERROR_TYPE_TIMEOUT, code, message };
  if (code === CODE_CONNECTION_CLOSED) return { errorType: ERROR_TYPE_TRANSPORT, code, message };
  if (code !== undefined) return { errorType: String(code), code, message };
  const sdkCode = stringCode(err);
  if (sdkCode !== undefined && SDK_STRING_CODES[sdkCode])
    return { errorType: SDK_STRING_CODES[sdkCode], message };
  if (
    message === 'Not connected' ||
    (err instanceof Error && /ECONN|EPIPE|socket|fetch failed|closed/i.test(err.message))
  ) {
    return { errorType: ERROR_TYPE_TRANSPORT, message };
  }
  return { errorType: ERROR_TYPE_OTHER, message };
}

/** Classifies a JSON-RPC error response as it goes out of the server. */
export function classifyErrorResponse(error: { code?: unknown; message?: unknown }): Outcome {
  const code = typeof error.code === 'number' && Number.isSafeInteger(error.code) ? error.code : undefined;
  return {
    errorType: code !== undefined ? String(code) : ERROR_TYPE_OTHER,
    code,
    message: typeof error.message === 'string' ? error.message : undefined,
  };
}

export function outcomeAttributes(outcome: Outcome, attrs: Attributes): void {
  if (outcome.errorType) attrs[ATTR_ERROR_TYPE] = outcome.errorType;
  if (outcome.code !== undefined) attrs[ATTR_RPC_RESPONSE_STATUS_CODE] = String(outcome.code);
}
