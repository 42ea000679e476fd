// The offline checks of the alerts on what a call touched (McpSystemPathWrite, McpUnboundedRead,
// McpWriteWithoutTurn), applied to evidence-log records: the risk tags come from the same
// derivation the instrumentation runs at the source, here over the record's (redacted) parameters,
// which keep paths and SQL text; the turn from the record's llm_turn_id.
import {
  argumentRisk,
  compileArgumentRisk,
  RISK_SYSTEM_PATH,
  RISK_UNBOUNDED_READ,
  type ArgumentRiskRules,
} from '../instrumentation/argument-risk.js';
import type { Thresholds } from '../detection/thresholds.js';

/** What these checks read of a call. */
export interface ContentCall {
  t: number;
  tool: string;
  args: unknown;
  turn: string | null;
}

export interface ContentCrossing {
  rule: 'system_write' | 'unbounded_read' | 'write_without_turn';
  detail: string;
}

const compiled = new WeakMap<Thresholds, ArgumentRiskRules>();
function rules(t: Thresholds): ArgumentRiskRules {
  let r = compiled.get(t);
  if (!r) {
    r = compileArgumentRisk(t.argument_risk, t.data_then_egress.egress_tools);
    compiled.set(t, r);
  }
  return r;
}

/** The first write tool call naming a system or credential path, whoever the caller. */
export function systemWrite(calls: readonly ContentCall[], t: Thresholds): ContentCrossing | undefined {
  const hit = calls.find(
    (c) =>
      t.system_write.write_tools.includes(c.tool) &&
      argumentRisk(c.tool, c.args, rules(t)).includes(RISK_SYSTEM_PATH),
  );
  return hit && { rule: 'system_write', detail: `${hit.tool} to a system or credential path` };
}

/** The first whole-table read through a sensitive tool. */
export function unboundedRead(calls: readonly ContentCall[], t: Thresholds): ContentCrossing | undefined {
  const hit = calls.find(
    (c) =>
      t.unbounded_read.sensitive_tools.includes(c.tool) &&
      argumentRisk(c.tool, c.args, rules(t)).includes(RISK_UNBOUNDED_READ),
  );
  return hit && { rule: 'unbounded_read', detail: `${hit.tool} read a whole table (no WHERE or LIMIT)` };
}

/** A sensitive write with no LLM turn, when another call of the session within the window had one. */
export function writeWithoutTurn(calls: readonly ContentCall[], t: Thresholds): ContentCrossing | undefined {
  const wt = t.write_without_turn;
  const hit = calls.find(
    (c) =>
      c.turn === null &&
      wt.write_tools.includes(c.tool) &&
      calls.some((o) => o.turn !== null && Math.abs(o.t - c.t) <= wt.window_seconds * 1000),
  );
  return (
    hit && { rule: 'write_without_turn', detail: `${hit.tool} with no LLM turn in a session that has them` }
  );
}
