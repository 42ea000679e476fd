// Sessions of the scale-out tests (test/e2e/scale-out*.test.ts): a real instrumented agent and
// its instrumented stdio server (the sampling fixture) making a listed set of calls, to completion.
import { strict as assert } from 'node:assert';
import { FIXTURES, REGISTER_ESM, runNode } from './proc.js';
import type { Stack } from './stack.js';

export type Call = { tool: string; arguments: Record<string, string> };
export const lookup = (label: string): Call => ({ tool: 'lookup', arguments: { label } });

export interface Session {
  id: string;
  caller: string;
  calls: Call[];
}

/** Runs session `s` as service `service` against the stack's agent collector; fails on a non-zero exit. */
export async function runSession(stack: Stack, s: Session, service: string): Promise<void> {
  const run = await runNode(
    [
      '--import',
      REGISTER_ESM,
      `${FIXTURES}listed-calls-agent.mjs`,
      `${FIXTURES}sampling-server.mjs`,
      '--import',
      REGISTER_ESM,
    ],
    {
      OTEL_EXPORTER_OTLP_ENDPOINT: stack.otlpHttpEndpoint,
      OTEL_SERVICE_NAME: service,
      SERVER_SERVICE_NAME: 'scale-server',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_METRICS_EXPORTER: 'none',
      MCP_AUDIT_FILE: 'off',
      CALLER: s.caller,
      SESSION: s.id,
      CALLS: JSON.stringify(s.calls),
    },
    120_000,
  );
  assert.equal(run.code, 0, run.stderr);
}

/** Calls per session id, sorted by id: what a count query should answer. */
export const expectedCounts = (sessions: Session[]): Record<string, number> =>
  Object.fromEntries(sessions.map((s) => [s.id, s.calls.length]).sort());
