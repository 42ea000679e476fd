/** JSON-RPC code of a refusal by mcp-audit's own policy (implementation-defined server error range). */
export const POLICY_DENIED_CODE = -32010;

/** The JSON-RPC error of a call refused for want of a caller identity, as a proxy answers it. */
export function policyDenial(tool: string): { code: number; message: string; data: unknown } {
  return {
    code: POLICY_DENIED_CODE,
    message:
      `mcp-audit: tool "${tool}" requires a caller identity; call it inside withAuditContext({ callerId }) ` +
      '(refused by MCP_AUDIT_REQUIRE_CALLER / requireCallerFor)',
    data: { reason: 'missing_caller_identity', tool },
  };
}

/** The same refusal as the error an in-process client's `request()` rejects with. */
export function policyError(tool: string): Error & { code: number; data: unknown } {
  const denial = policyDenial(tool);
  const err = new Error(denial.message) as Error & { code: number; data: unknown };
  err.name = 'McpAuditPolicyError';
  err.code = denial.code;
  err.data = denial.data;
  return err;
}
