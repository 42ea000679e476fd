// Attribute and metric names. Stable ones would come from @opentelemetry/semantic-conventions;
// the MCP and GenAI names are still "development" there, so they are copied here as constants
// (semconv v1.39–v1.41 docs/gen-ai/mcp.md). The mcp_audit.* names are ours (DESIGN.md section 3):
// the collector config, the alert rules, the dashboards and the tests read exactly these strings.

export const ATTR_MCP_METHOD_NAME = 'mcp.method.name' as const;
export const ATTR_MCP_SESSION_ID = 'mcp.session.id' as const;
export const ATTR_MCP_PROTOCOL_VERSION = 'mcp.protocol.version' as const;
export const ATTR_MCP_RESOURCE_URI = 'mcp.resource.uri' as const;

export const ATTR_GEN_AI_TOOL_NAME = 'gen_ai.tool.name' as const;
export const ATTR_GEN_AI_PROMPT_NAME = 'gen_ai.prompt.name' as const;
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name' as const;
export const ATTR_GEN_AI_TOOL_CALL_ARGUMENTS = 'gen_ai.tool.call.arguments' as const;
export const ATTR_GEN_AI_TOOL_CALL_RESULT = 'gen_ai.tool.call.result' as const;
export const ATTR_GEN_AI_CONVERSATION_ID = 'gen_ai.conversation.id' as const;

export const ATTR_JSONRPC_REQUEST_ID = 'jsonrpc.request.id' as const;
export const ATTR_RPC_RESPONSE_STATUS_CODE = 'rpc.response.status_code' as const;
export const ATTR_ERROR_TYPE = 'error.type' as const;
export const ATTR_NETWORK_TRANSPORT = 'network.transport' as const;
export const ATTR_SERVER_ADDRESS = 'server.address' as const;
export const ATTR_SERVER_PORT = 'server.port' as const;
export const ATTR_CLIENT_ADDRESS = 'client.address' as const;
export const ATTR_CLIENT_PORT = 'client.port' as const;
export const ATTR_ENDUSER_ID = 'enduser.id' as const;

export const ATTR_MCP_AUDIT_CALLER_SOURCE = 'mcp_audit.caller.source' as const;
export const ATTR_MCP_AUDIT_TURN_ID = 'mcp_audit.turn.id' as const;
export const ATTR_MCP_AUDIT_CALLER_PROPAGATED = 'mcp_audit.caller.propagated' as const;
export const ATTR_MCP_AUDIT_CALLER_SCOPES = 'mcp_audit.caller.scopes' as const;
export const ATTR_MCP_AUDIT_PROMPT_ARGUMENTS = 'mcp_audit.prompt.arguments' as const;
export const ATTR_MCP_AUDIT_SERVER_NAME = 'mcp_audit.server.name' as const;
export const ATTR_MCP_AUDIT_SERVER_VERSION = 'mcp_audit.server.version' as const;
export const ATTR_MCP_AUDIT_CLIENT_NAME = 'mcp_audit.client.name' as const;
export const ATTR_MCP_AUDIT_CLIENT_VERSION = 'mcp_audit.client.version' as const;
export const ATTR_MCP_AUDIT_RESULT_SIZE = 'mcp_audit.result.size' as const;
export const ATTR_MCP_AUDIT_RESULT_SUMMARY = 'mcp_audit.result.summary' as const;
export const ATTR_MCP_AUDIT_REDACTED_COUNT = 'mcp_audit.redacted.count' as const;
/** Server side: the request carried trace context from an instrumented client, so the
 * collector counts the call on the client span only (each call counted once). */
export const ATTR_MCP_AUDIT_CLIENT_INSTRUMENTED = 'mcp_audit.client.instrumented' as const;

export const GEN_AI_OPERATION_EXECUTE_TOOL = 'execute_tool' as const;

export const NETWORK_TRANSPORT_PIPE = 'pipe' as const;
export const NETWORK_TRANSPORT_TCP = 'tcp' as const;
export const NETWORK_TRANSPORT_INPROC = 'inproc' as const;

export const CALLER_SOURCE_CONTEXT = 'context' as const;
export const CALLER_SOURCE_AUTH = 'auth' as const;
export const CALLER_SOURCE_PROPAGATED = 'propagated' as const;

/** Values of error.type besides JSON-RPC codes (DESIGN.md section 3). */
export const ERROR_TYPE_TOOL_ERROR = 'tool_error' as const;
export const ERROR_TYPE_TIMEOUT = 'timeout' as const;
export const ERROR_TYPE_CANCELLED = 'cancelled' as const;
export const ERROR_TYPE_TRANSPORT = 'transport_error' as const;
export const ERROR_TYPE_POLICY_DENIED = 'policy_denied' as const;
/** Fallback for a thrown value we cannot classify; semconv's documented catch-all. */
export const ERROR_TYPE_OTHER = '_OTHER' as const;

export const METRIC_MCP_CLIENT_OPERATION_DURATION = 'mcp.client.operation.duration' as const;
export const METRIC_MCP_SERVER_OPERATION_DURATION = 'mcp.server.operation.duration' as const;
/** Semconv's advice for MCP operation duration histograms (seconds). */
export const MCP_OPERATION_DURATION_BUCKETS = [
  0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300,
] as const;

/** Baggage keys that carry the audit context to instrumented servers through params._meta. */
export const BAGGAGE_CALLER_ID = 'mcp_audit.caller.id' as const;
export const BAGGAGE_SESSION_ID = 'mcp_audit.session.id' as const;
export const BAGGAGE_TURN_ID = 'mcp_audit.turn.id' as const;
