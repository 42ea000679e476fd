// `node --import mcp-audit/register app.mjs` or `node --require mcp-audit/register app.cjs`:
// audits every MCP request of the app without a line of its code changed.
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { diag } from '@opentelemetry/api';
import { planPreload, type PreloadPlan } from './instrumentation/esm-preload.js';
import { supportedSdkVersion, type McpInstrumentation } from './instrumentation/instrumentation.js';
import { withoutImportHook } from './instrumentation/module-hooks.js';
import { startMcpAudit, type McpAuditHandle } from './sdk.js';
import { detectExistingSdk, joinExistingSdk } from './sdk-detect.js';

// Set by the build: true in dist/register.js (ESM, which may wait at top level), false in the CJS one.
declare const __MCP_AUDIT_ESM__: boolean;

// The loader wraps only the MCP SDK modules: the SDK imports its Protocol file by a relative
// specifier, which the hook-by-name message channel would never include.
const MCP_MODULES = /[\\/]node_modules[\\/]@modelcontextprotocol[\\/](sdk|client|server|core)[\\/]/;

function registerEsmHook(): void {
  try {
    register('import-in-the-middle/hook.mjs', import.meta.url, { data: { include: [MCP_MODULES] } });
  } catch (err) {
    diag.warn('mcp-audit: could not register the ESM loader hook; ESM applications will not be audited', err);
  }
}

function start(): McpAuditHandle | undefined {
  try {
    return startMcpAudit();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    process.stderr.write(`mcp-audit: not started (${reason}); the application runs without MCP audit\n`);
    return undefined;
  }
}

// At exit the shutdown is bounded by MCP_AUDIT_SHUTDOWN_TIMEOUT_MS (the span queues count what they
// could not deliver and say so on stderr). The OTel exporters may still hold sockets or retry timers
// after that, so once the flush is over nothing of ours may keep the process alive: a host whose
// event loop had emptied (beforeExit) exits right away, however the collector behaves.
function flushOnExit(handle: McpAuditHandle): void {
  let flushing: Promise<void> | undefined;
  const flush = () => {
    flushing ??= handle.shutdown().catch((err: unknown) => diag.error('mcp-audit: shutdown failed', err));
    return flushing;
  };
  process.once('beforeExit', () => {
    // An app with a beforeExit listener of its own may start more work now: never cut it short.
    const appListens = process.listenerCount('beforeExit') > 0;
    void flush().then(() => {
      // Unref'd: fires only if something (an abandoned export) still holds the loop open.
      if (!appListens) setTimeout(() => process.exit(), 0).unref();
    });
  });
  const onSigterm = () => {
    void flush().finally(() => {
      // Only us listening: restore the default action so the exit status stays "killed by SIGTERM".
      if (process.listenerCount('SIGTERM') === 0) process.kill(process.pid, 'SIGTERM');
    });
  };
  process.once('SIGTERM', onSigterm);
  // process.exit() from the app: no time to deliver, but the loss is said.
  process.once('exit', () => {
    const left = handle.undelivered();
    if (left > 0 && !flushing) {
      process.stderr.write(
        `mcp-audit: process exited with ${left} spans not yet delivered (they are lost)\n`,
      );
    }
  });
}

function planEsm(): PreloadPlan {
  try {
    return planPreload(supportedSdkVersion);
  } catch (err) {
    return {
      targets: [],
      hookReason: `planning failed: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

/** Imports the app's SDK files (the instances its own imports will get) and patches them in place. */
async function preloadEsm(plan: PreloadPlan, instrumentation: McpInstrumentation): Promise<void> {
  for (const { file, holds } of plan.targets) {
    try {
      instrumentation.patchPreloaded(holds, await import(pathToFileURL(file).href));
    } catch (err) {
      // The app's own import of this file will fail the same way and tell it; we only step aside.
      diag.warn(`mcp-audit: could not load ${file} to instrument it`, err);
    }
  }
}

// `--require` preloads a CommonJS app, which the CommonJS load hook covers; registering the ESM loader
// from a CJS preload makes Node 20 initialize it twice (and warn on every start). ESM apps use --import.
const esmPlan = __MCP_AUDIT_ESM__ ? planEsm() : undefined;
if (esmPlan?.hookReason) registerEsmHook();
// An SDK the app already runs (auto-instrumentations, its own NodeSDK) gets only our
// instrumentation: one SDK, one exporter, one resource per process (src/sdk-detect.ts).
const existingSdk = detectExistingSdk();
let instrumentation: McpInstrumentation | undefined;
if (existingSdk) {
  try {
    instrumentation = joinExistingSdk(existingSdk).instrumentation;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    process.stderr.write(`mcp-audit: not started (${reason}); the application runs without MCP audit\n`);
  }
} else {
  // No loader hook of ours (CommonJS preload, or ES modules patched in place): our own SDK needs no
  // import-in-the-middle Hook either.
  if (!esmPlan?.hookReason) withoutImportHook();
  const handle = start();
  if (handle) flushOnExit(handle);
  instrumentation = handle?.instrumentation;
}
// Said only now: the diag logger is set once the SDK has started.
if (esmPlan?.hookReason) diag.debug(`mcp-audit: ESM loader hook registered (${esmPlan.hookReason})`);
// Before the app's first module loads: Node runs the main entry once every --import has settled.
if (__MCP_AUDIT_ESM__ && esmPlan && instrumentation) await preloadEsm(esmPlan, instrumentation);
