// A default timeout for every test and hook, preloaded by scripts/run-tests.mjs into each test
// process (`--import`). Node 20's `--test-timeout` bounds a whole test file when files run under
// `--test`, not each test in it; this gives each `it`/`test` and each `before`/`after`/`beforeEach`/
// `afterEach` a timeout of its own unless it sets one, so a hang (a regex that backtracks, a
// process that never answers) fails that test and names it instead of stalling the run.
//   unit and integration files: 120 s; test/e2e files (real collector, Jaeger, Prometheus): 600 s;
//   MCP_AUDIT_TEST_TIMEOUT_MS overrides both.
import { createRequire, syncBuiltinESMExports } from 'node:module';

const require = createRequire(import.meta.url);
const nodeTest = require('node:test');

const file = process.argv[1] ?? '';
const fromEnv = Number(process.env.MCP_AUDIT_TEST_TIMEOUT_MS);
export const DEFAULT_TEST_TIMEOUT_MS =
  Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : /[\\/]test[\\/]e2e[\\/]/.test(file) ? 600_000 : 120_000;

const isOptions = (value) => value !== null && typeof value === 'object';

/** `test(name?, options?, fn?)` with `timeout` defaulted in the options. */
function withDefaultTimeout(original) {
  const wrapped = function (...args) {
    const at = args.findIndex(isOptions);
    if (at >= 0) {
      if (args[at].timeout === undefined) args[at] = { ...args[at], timeout: DEFAULT_TEST_TIMEOUT_MS };
    } else {
      args.splice(typeof args[0] === 'string' ? 1 : 0, 0, { timeout: DEFAULT_TEST_TIMEOUT_MS });
    }
    return original.apply(this, args);
  };
  for (const key of ['skip', 'todo', 'only']) {
    if (typeof original[key] === 'function') wrapped[key] = withDefaultTimeout(original[key]);
  }
  return wrapped;
}

/** `before(fn, options?)` with `timeout` defaulted in the options. */
function hookWithDefaultTimeout(original) {
  return function (fn, options) {
    return original.call(this, fn, { timeout: DEFAULT_TEST_TIMEOUT_MS, ...options });
  };
}

nodeTest.test = withDefaultTimeout(nodeTest.test);
nodeTest.it = withDefaultTimeout(nodeTest.it);
for (const hook of ['before', 'after', 'beforeEach', 'afterEach']) {
  nodeTest[hook] = hookWithDefaultTimeout(nodeTest[hook]);
}
// The ESM named exports of node:test (`import { it } from 'node:test'`) follow the CJS object.
syncBuiltinESMExports();
