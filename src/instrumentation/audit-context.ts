import { context, propagation, type Baggage, type Context } from '@opentelemetry/api';
import { BAGGAGE_CALLER_ID, BAGGAGE_SESSION_ID, BAGGAGE_TURN_ID } from '../semconv.js';

/** Who and what an MCP call happens for. Every field is optional; set what the app knows. */
export interface AuditContext {
  /** The user or service that triggered the agent, e.g. `user:sarah`, `service:batch-job`. */
  callerId?: string;
  /** The agent session: one agent run. */
  sessionId?: string;
  /** The LLM turn that triggered the calls, e.g. `turn-003`. */
  turnId?: string;
}

// Baggage rather than a private context key: W3C baggage travels to instrumented servers in
// params._meta through the configured propagators, so the server span knows the session too.
const FIELDS = [
  ['callerId', BAGGAGE_CALLER_ID],
  ['sessionId', BAGGAGE_SESSION_ID],
  ['turnId', BAGGAGE_TURN_ID],
] as const;

/** Returns `ctx` with the audit fields set (fields left undefined keep their outer value). */
export function setAuditContext(ctx: Context, audit: AuditContext): Context {
  let baggage: Baggage = propagation.getBaggage(ctx) ?? propagation.createBaggage();
  for (const [field, key] of FIELDS) {
    const value = audit[field];
    if (typeof value === 'string' && value.length > 0) baggage = baggage.setEntry(key, { value });
  }
  return propagation.setBaggage(ctx, baggage);
}

/** Reads the audit fields from a context (the active one by default). */
export function getAuditContext(ctx: Context = context.active()): AuditContext {
  const baggage = propagation.getBaggage(ctx);
  const out: AuditContext = {};
  if (!baggage) return out;
  for (const [field, key] of FIELDS) {
    const value = baggage.getEntry(key)?.value;
    if (value) out[field] = value;
  }
  return out;
}

/**
 * Runs `fn` with the audit context attached: every MCP call made inside it, however deep in
 * async code, carries this caller, session and turn.
 *
 * @example
 * await withAuditContext({ callerId: 'user:sarah', sessionId: 'a3f8c', turnId: 'turn-003' }, () =>
 *   client.callTool({ name: 'db_query', arguments: { sql } }),
 * );
 */
export function withAuditContext<T>(audit: AuditContext, fn: () => T): T {
  return context.with(setAuditContext(context.active(), audit), fn);
}
