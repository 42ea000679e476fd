// The shape of collector/rules/thresholds.json: the one definition of every detection threshold.
// The rule generator (src/detection/rules/) turns it into Prometheus alerts; the demo's
// evaluator (src/demo/thresholds.ts) applies it to evidence-log records. Both read this type.
import type { ArgumentRiskLists } from '../instrumentation/argument-risk.js';

export type { ArgumentRiskLists };

export interface Thresholds {
  /** One call returning more than this many bytes; per-tool overrides for tools large by design. */
  bulk_extraction: { default_bytes: number; per_tool_bytes: Record<string, number> };
  /** More than max_calls tool calls in one session within window_seconds. */
  call_frequency: { max_calls: number; window_seconds: number };
  /** Sensitive tools called with no caller identity. */
  missing_caller: { sensitive_tools: string[] };
  /** A failed call followed by a call to a different tool in the same session. */
  error_then_retry: { window_seconds: number };
  /** A session's total result bytes or call count over the window. */
  session_exfiltration: { max_bytes: number; max_calls: number; window_seconds: number };
  /** A data tool returning at least min_data_bytes, or any personal data, then an egress tool, in one session. */
  data_then_egress: {
    data_tools: string[];
    egress_tools: string[];
    window_seconds: number;
    min_data_bytes?: number;
  };
  /** A tool's p95 latency over the window, and single calls longer than hanging_seconds. */
  latency: {
    p95_seconds: number;
    per_tool_p95_seconds: Record<string, number>;
    hanging_seconds: number;
    /** A tool call still running after this many seconds emits its in-flight marker (a duration bucket bound below hanging_seconds). */
    in_flight_mark_seconds: number;
    window_seconds: number;
    /** Calls of the tool needed in the window before its p95 counts. @default 1 */
    min_calls?: number;
    /** Alert `for:` of the latency rule. */
    for_seconds?: number;
  };
  /** A server's or tool's error ratio over the window, with at least min_calls calls. */
  error_burst: { ratio: number; min_calls: number; window_seconds: number; for_seconds?: number };
  /** A write tool given a path under a system or credential location (risk tag system_path), whoever the caller. */
  system_write: { write_tools: string[] };
  /** A whole-table read (risk tag unbounded_read) through a sensitive tool. */
  unbounded_read: { sensitive_tools: string[] };
  /** A sensitive write with no LLM turn, in a session whose calls carry turn ids within the window. */
  write_without_turn: { write_tools: string[]; window_seconds: number };
  /** The lists the instrumentation derives `mcp_audit.arguments.risk` from (read at the source, not by a rule). */
  argument_risk: ArgumentRiskLists;
  /** Alert timing only (Prometheus); the offline evaluation ignores it. */
  alerting?: {
    event_window_seconds?: number;
    keep_firing_for_seconds?: number;
    subquery_step_seconds?: number;
    ordering_record_seconds?: number;
  };
}

/** The detection rules, by their key in thresholds.json. */
export type ThresholdRule = Exclude<keyof Thresholds, 'alerting' | 'argument_risk'>;
