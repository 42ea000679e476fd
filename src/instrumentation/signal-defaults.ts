// The default lists and timings of the detection signals, read from collector/rules/thresholds.json:
// the file the alert rules are generated from stays the one definition of every list and threshold,
// and the instrumentation (below detection in the layers) reads it as data, not through detection.
import thresholds from '../../collector/rules/thresholds.json' with { type: 'json' };
import type { ArgumentRiskLists } from './argument-risk.js';

/** The `argument_risk` lists. */
export const DEFAULT_ARGUMENT_RISK: ArgumentRiskLists = thresholds.argument_risk;
/** The egress tools (`data_then_egress.egress_tools`), whose destinations the allow-list checks. */
export const DEFAULT_EGRESS_TOOLS: readonly string[] = thresholds.data_then_egress.egress_tools;
/** Seconds a tool call runs before its in-flight marker span (`latency.in_flight_mark_seconds`). */
export const DEFAULT_IN_FLIGHT_MARK_SECONDS: number = thresholds.latency.in_flight_mark_seconds;
