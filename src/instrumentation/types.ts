import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import type { CaptureMode, RedactionOptions } from '../redaction/redact.js';
import type { ArgumentRiskLists } from './argument-risk.js';

export type { CaptureMode };

/** Per-tool capture switches; they override the instrumentation-wide defaults. */
export interface ToolCaptureConfig {
  /** How `gen_ai.tool.call.arguments` is recorded for this tool. */
  arguments?: CaptureMode;
  /** How `gen_ai.tool.call.result` is recorded for this tool. */
  result?: CaptureMode;
}

export interface McpInstrumentationConfig extends InstrumentationConfig {
  /**
   * How tool-call arguments are recorded. Logging parameters is what an audit trail needs; values are
   * masked by the redaction engine before the span leaves the process.
   * Env: `MCP_AUDIT_CAPTURE_ARGUMENTS`.
   * @default 'redacted'
   */
  captureArguments?: CaptureMode;
  /**
   * How tool results are recorded in `gen_ai.tool.call.result`. Opt-in: results are the data an
   * attacker is after. Sizes and the summary are always recorded.
   * Env: `MCP_AUDIT_CAPTURE_RESULTS`, or `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true` for 'redacted'.
   * @default 'none'
   */
  captureResults?: CaptureMode;
  /** Overrides by tool name, e.g. `{ report_export: { arguments: 'shape' } }`. */
  tools?: Record<string, ToolCaptureConfig>;
  /** Redaction engine options (extra patterns and keys, allow-listed keys, size limits). */
  redaction?: RedactionOptions;
  /**
   * Tools that may only be called with a caller identity in the audit context. A call without one is
   * refused before it reaches the server (`block_and_alert` in the problem statement), and the refusal is a span
   * with `error.type=policy_denied`. Empty: no enforcement.
   * Env: `MCP_AUDIT_REQUIRE_CALLER` (comma-separated tool names).
   * @default []
   */
  requireCallerFor?: string[];
  /**
   * Upper bound on server spans waiting for their response on one connection; beyond it the oldest
   * is ended unfinished, so a transport that never answers cannot grow memory without bound.
   * @default 4096
   */
  maxPendingServerSpans?: number;
  /**
   * Characters of each result scanned for classes of personal data and secrets
   * (`mcp_audit.result.pii.*`, recorded whatever the capture mode, never the values): a result up
   * to that size whole; of a larger one the first 64 KiB whole, then windows spread evenly across
   * the rest (the counts are those of the sample). Up to 64 KiB: a prefix. 0 turns it off; anything
   * but a whole number is reported and the default applies. Env: `MCP_AUDIT_RESULT_SCAN_CHARS`.
   * @default 524288
   */
  resultScanChars?: number;
  /** The lists behind `mcp_audit.arguments.risk`. @default `argument_risk` of collector/rules/thresholds.json */
  argumentRisk?: ArgumentRiskLists;
  /** Tools whose destinations are checked against the egress allow-list. @default `data_then_egress.egress_tools` */
  egressTools?: string[];
  /**
   * Seconds after which a tool call still in flight emits its marker span (so a hanging call is
   * seen before it ends); must be a bucket bound of the collector's duration histogram; 0: never.
   * @default `latency.in_flight_mark_seconds` of collector/rules/thresholds.json (5)
   */
  inFlightMarkSeconds?: number;
}
