// fast-check with a fixed seed, so `npm test` is deterministic: a property that fails, fails on
// every run and on every machine. `npm run fuzz` explores with random seeds instead (scripts/fuzz.mjs
// sets MCP_AUDIT_PROPERTY_SEED per run) and records each counterexample as a fixed regression case.
import fc from 'fast-check';

const fromEnv = process.env.MCP_AUDIT_PROPERTY_SEED;
/** The seed every property in this process runs with. */
export const PROPERTY_SEED = fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : 0x6d637061;
if (!Number.isSafeInteger(PROPERTY_SEED))
  throw new Error(`MCP_AUDIT_PROPERTY_SEED is not an integer: ${fromEnv}`);

fc.configureGlobal({ seed: PROPERTY_SEED });

export default fc;
