// Every attribute, baggage and metric name mcp-audit writes or reads, each defined once. Stable names
// could come from @opentelemetry/semantic-conventions; the MCP and GenAI names are still
// "development" there, so they are copied here as constants from the MCP semantic conventions
// (https://opentelemetry.io/docs/specs/semconv/gen-ai/mcp/). The mcp_audit.* names are ours: the
// collector config, the alert rules, the dashboards and the tests read exactly these strings
// (docs/architecture.md, "The span contract" and "The metric contract").

// ---- the request --------------------------------------------------------------------------------

/** The JSON-RPC method, e.g. `tools/call`. */
export const ATTR_MCP_METHOD_NAME = 'mcp.method.name' as const;
/** The MCP session id of a Streamable HTTP connection. */
export const ATTR_MCP_SESSION_ID = 'mcp.session.id' as const;
/** The protocol version asked for in initialize, or negotiated. */
export const ATTR_MCP_PROTOCOL_VERSION = 'mcp.protocol.version' as const;
/** The resource a `resources/read` is about (redacted). */
export const ATTR_MCP_RESOURCE_URI = 'mcp.resource.uri' as const;
/** The JSON-RPC request id, as a string. */
export const ATTR_JSONRPC_REQUEST_ID = 'jsonrpc.request.id' as const;

// ---- what the call is about ---------------------------------------------------------------------

/** The tool of a `tools/call`. */
export const ATTR_GEN_AI_TOOL_NAME = 'gen_ai.tool.name' as const;
/** The prompt of a `prompts/get`. */
export const ATTR_GEN_AI_PROMPT_NAME = 'gen_ai.prompt.name' as const;
/** `execute_tool` on a `tools/call`. */
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name' as const;
/** The tool's arguments as JSON, redacted and bounded. */
export const ATTR_GEN_AI_TOOL_CALL_ARGUMENTS = 'gen_ai.tool.call.arguments' as const;
/** The tool's result as JSON, redacted and bounded; opt-in. */
export const ATTR_GEN_AI_TOOL_CALL_RESULT = 'gen_ai.tool.call.result' as const;
/** The agent session the call belongs to. */
export const ATTR_GEN_AI_CONVERSATION_ID = 'gen_ai.conversation.id' as const;
/** A `prompts/get`'s arguments as JSON, redacted and bounded. */
export const ATTR_MCP_AUDIT_PROMPT_ARGUMENTS = 'mcp_audit.prompt.arguments' as const;

// ---- the outcome --------------------------------------------------------------------------------

/** The JSON-RPC error code as a string, when the peer answered with one. */
export const ATTR_RPC_RESPONSE_STATUS_CODE = 'rpc.response.status_code' as const;
/** A JSON-RPC code as a string or one of the `ERROR_TYPE_*` values; absent on success. */
export const ATTR_ERROR_TYPE = 'error.type' as const;
/** Bytes of the result as serialized JSON (0 on a JSON-RPC error). */
export const ATTR_MCP_AUDIT_RESULT_SIZE = 'mcp_audit.result.size' as const;
/** Counts only, redacted: what came back without the data itself. */
export const ATTR_MCP_AUDIT_RESULT_SUMMARY = 'mcp_audit.result.summary' as const;
/** How many values redaction masked in the span. */
export const ATTR_MCP_AUDIT_REDACTED_COUNT = 'mcp_audit.redacted.count' as const;

/** Classes of personal data and secrets found in the result (sorted names, never values). */
export const ATTR_MCP_AUDIT_RESULT_PII_CLASSES = 'mcp_audit.result.pii.classes' as const;
/** Matches of each class in `mcp_audit.result.pii.classes`, in the same order. */
export const ATTR_MCP_AUDIT_RESULT_PII_CLASS_COUNTS = 'mcp_audit.result.pii.class_counts' as const;
/** Matches of personal data and secrets in the result's scanned prefix, all classes (0: none). */
export const ATTR_MCP_AUDIT_RESULT_PII_COUNT = 'mcp_audit.result.pii.count' as const;
/** On the marker span a call emits when still in flight at the in-flight mark (`true`). */
export const ATTR_MCP_AUDIT_IN_FLIGHT = 'mcp_audit.in_flight' as const;
/** Name of that marker span, a child of the call's span. */
export const SPAN_NAME_IN_FLIGHT = 'mcp_audit in_flight' as const;
/** Risk tags of the raw arguments, from a fixed vocabulary (`system_path`, `unbounded_read`, `egress_unlisted`). */
export const ATTR_MCP_AUDIT_ARGUMENTS_RISK = 'mcp_audit.arguments.risk' as const;

// ---- where it went ------------------------------------------------------------------------------

/** `pipe` (stdio) or `tcp` (HTTP, SSE). */
export const ATTR_NETWORK_TRANSPORT = 'network.transport' as const;
/** Client side: the server's host. */
export const ATTR_SERVER_ADDRESS = 'server.address' as const;
/** Client side: the server's port. */
export const ATTR_SERVER_PORT = 'server.port' as const;
/** Server side: the peer's address, from the HTTP socket. */
export const ATTR_CLIENT_ADDRESS = 'client.address' as const;
/** Server side: the peer's port, from the HTTP socket. */
export const ATTR_CLIENT_PORT = 'client.port' as const;
/** The server's name from initialize. */
export const ATTR_MCP_AUDIT_SERVER_NAME = 'mcp_audit.server.name' as const;
/** The server's version from initialize. */
export const ATTR_MCP_AUDIT_SERVER_VERSION = 'mcp_audit.server.version' as const;
/** The client's name from initialize. */
export const ATTR_MCP_AUDIT_CLIENT_NAME = 'mcp_audit.client.name' as const;
/** The client's version from initialize. */
export const ATTR_MCP_AUDIT_CLIENT_VERSION = 'mcp_audit.client.version' as const;
/** Server side: the request carried trace context from an instrumented client, so the
 * collector counts the call on the client span only (each call counted once). */
export const ATTR_MCP_AUDIT_CLIENT_INSTRUMENTED = 'mcp_audit.client.instrumented' as const;

// ---- who it was for -----------------------------------------------------------------------------

/** The caller: the user or service the agent acts for. */
export const ATTR_ENDUSER_ID = 'enduser.id' as const;
/** Where `enduser.id` came from: one of the `CALLER_SOURCE_*` values. */
export const ATTR_MCP_AUDIT_CALLER_SOURCE = 'mcp_audit.caller.source' as const;
/** Server side: the client's claimed identity, kept apart when an authenticated one won. */
export const ATTR_MCP_AUDIT_CALLER_PROPAGATED = 'mcp_audit.caller.propagated' as const;
/** Server side: the access token's scopes (never the token). */
export const ATTR_MCP_AUDIT_CALLER_SCOPES = 'mcp_audit.caller.scopes' as const;
/** The LLM turn that made the call. */
export const ATTR_MCP_AUDIT_TURN_ID = 'mcp_audit.turn.id' as const;

// ---- stdio and HTTP proxies ---------------------------------------------------------------------

/** Which proxy recorded the span (`wrap`, `proxy`); absent on in-process spans. */
export const ATTR_MCP_AUDIT_PROXY = 'mcp_audit.proxy' as const;
/** Which way the proxied request travelled: toward the server or back toward the client. */
export const ATTR_MCP_AUDIT_PROXY_DIRECTION = 'mcp_audit.proxy.direction' as const;
/** Stdio has no authentication: the OS user that started the proxy, recorded as unverified. */
export const ATTR_MCP_AUDIT_UNVERIFIED_OS_USER = 'mcp_audit.unverified.os_user' as const;
/** The proxy's parent process id, unverified. */
export const ATTR_MCP_AUDIT_UNVERIFIED_PARENT_PID = 'mcp_audit.unverified.parent_pid' as const;
/** The proxy's parent process command, unverified. */
export const ATTR_MCP_AUDIT_UNVERIFIED_PARENT_COMMAND = 'mcp_audit.unverified.parent_command' as const;
/** The response was too large to parse and was relayed untouched. */
export const ATTR_MCP_AUDIT_RESULT_UNPARSED = 'mcp_audit.result.unparsed' as const;

// ---- attribute values ---------------------------------------------------------------------------

/** `gen_ai.operation.name` of a tool call. */
export const GEN_AI_OPERATION_EXECUTE_TOOL = 'execute_tool' as const;

/** `network.transport` of stdio. */
export const NETWORK_TRANSPORT_PIPE = 'pipe' as const;
/** `network.transport` of HTTP and SSE. */
export const NETWORK_TRANSPORT_TCP = 'tcp' as const;

/** Caller from the app's audit context (client side). */
export const CALLER_SOURCE_CONTEXT = 'context' as const;
/** Caller from the server's authentication (`authInfo.clientId`). */
export const CALLER_SOURCE_AUTH = 'auth' as const;
/** Caller from the client's baggage: recorded, not trusted as authentication. */
export const CALLER_SOURCE_PROPAGATED = 'propagated' as const;

/** `isError: true` in a tool result (McpServer also uses it for thrown tool errors). */
export const ERROR_TYPE_TOOL_ERROR = 'tool_error' as const;
/** The request timed out. */
export const ERROR_TYPE_TIMEOUT = 'timeout' as const;
/** The caller aborted the request, or the server saw it cancelled. */
export const ERROR_TYPE_CANCELLED = 'cancelled' as const;
/** The connection failed or closed before the response. */
export const ERROR_TYPE_TRANSPORT = 'transport_error' as const;
/** Refused by mcp-audit's own policy (a sensitive tool without a caller identity). */
export const ERROR_TYPE_POLICY_DENIED = 'policy_denied' as const;
/** Fallback for a thrown value we cannot classify; semconv's documented catch-all. */
export const ERROR_TYPE_OTHER = '_OTHER' as const;

// ---- baggage ------------------------------------------------------------------------------------

/** Baggage carrying the caller to instrumented servers through `params._meta`. */
export const BAGGAGE_CALLER_ID = 'mcp_audit.caller.id' as const;
/** Baggage carrying the agent session. */
export const BAGGAGE_SESSION_ID = 'mcp_audit.session.id' as const;
/** Baggage carrying the LLM turn. */
export const BAGGAGE_TURN_ID = 'mcp_audit.turn.id' as const;

// ---- metrics the SDK records --------------------------------------------------------------------

/** Semconv histogram: request duration on the sender, in seconds. */
export const METRIC_MCP_CLIENT_OPERATION_DURATION = 'mcp.client.operation.duration' as const;
/** Semconv histogram: request duration on the receiver, in seconds. */
export const METRIC_MCP_SERVER_OPERATION_DURATION = 'mcp.server.operation.duration' as const;
/** Semconv's advice for MCP operation duration histograms (seconds). */
export const MCP_OPERATION_DURATION_BUCKETS = [
  0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300,
] as const;
/** Counter of spans lost before export (Prometheus: `mcp_audit_dropped_spans_total`). */
export const METRIC_MCP_AUDIT_DROPPED_SPANS = 'mcp_audit.dropped_spans' as const;

// ---- attributes of the proxies (mcp-audit wrap) -----------------------------------------------

/** Which proxy recorded the span. */
export const ATTR_PROXY = 'mcp_audit.proxy' as const;
/** Server-to-client requests (sampling, elicitation, roots) are marked so. */
export const ATTR_PROXY_DIRECTION = 'mcp_audit.proxy.direction' as const;
/** Context the proxy cannot verify: never `enduser.id`. */
export const ATTR_UNVERIFIED_OS_USER = 'mcp_audit.unverified.os_user' as const;
export const ATTR_UNVERIFIED_PARENT_PID = 'mcp_audit.unverified.parent_pid' as const;
export const ATTR_UNVERIFIED_PARENT_COMMAND = 'mcp_audit.unverified.parent_command' as const;
/** Set on a span whose response was too large to parse: its size is the line's length. */
export const ATTR_RESULT_UNPARSED = 'mcp_audit.result.unparsed' as const;

// ---- metrics the collector derives (names as Prometheus stores them) ----------------------------

/** Histogram (s) of tools/call duration per tool and server, without the session label: what latency alerts read. */
export const METRIC_TOOL_LATENCY = 'mcp_audit_tool_latency_seconds' as const;
/** Counter: tools/call requests, each call counted once. */
export const METRIC_TOOL_CALLS = 'mcp_audit_tool_calls_total' as const;
/** Counter: tools/call requests that failed (any `error.type`). */
export const METRIC_TOOL_ERRORS = 'mcp_audit_tool_errors_total' as const;
/** Counter: bytes of tools/call results. */
export const METRIC_RESULT_BYTES = 'mcp_audit_result_bytes_total' as const;
/** Histogram: bytes of one tools/call result. */
export const METRIC_RESULT_SIZE = 'mcp_audit_result_size_bytes' as const;
/** Histogram: duration of one tools/call, in seconds. */
export const METRIC_TOOL_CALL_DURATION = 'mcp_audit_tool_call_duration_seconds' as const;
/** Counter: tools/call requests whose arguments carry a risk tag; a `true`/`false` label per tag. */
export const METRIC_RISKY_CALLS = 'mcp_audit_risky_calls_total' as const;
/** Counter: tools/call requests whose result held personal data or secrets. */
export const METRIC_PII_RESULT_CALLS = 'mcp_audit_pii_result_calls_total' as const;
/** Counter: tools/call requests made within an LLM turn (`mcp_audit.turn.id` set). */
export const METRIC_TURN_CALLS = 'mcp_audit_turn_calls_total' as const;
/** Counter: tools/call requests still in flight at the in-flight mark (one marker span each). */
export const METRIC_IN_FLIGHT_MARKS = 'mcp_audit_in_flight_marks_total' as const;
/** Labels of every collector-derived metric; a missing value is the literal `none`. */
export const METRIC_LABELS = [
  'session_id',
  'tool',
  'caller',
  'server',
  'error_type',
  'service_name',
] as const;
