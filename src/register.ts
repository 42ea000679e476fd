// `node --import mcp-audit/register app.mjs` or `node --require mcp-audit/register app.cjs`:
// audits every MCP request of the app without a line of its code changed.
import { register } from 'node:module';
import { diag } from '@opentelemetry/api';
import { startMcpAudit, type McpAuditHandle } from './sdk.js';
import { detectExistingSdk, joinExistingSdk } from './sdk-detect.js';

const SHUTDOWN_TIMEOUT_MS = 5000;

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

function flushOnExit(handle: McpAuditHandle): void {
  let flushing: Promise<void> | undefined;
  const flush = () => {
    flushing ??= Promise.race([
      handle.shutdown().catch((err: unknown) => diag.error('mcp-audit: shutdown failed', err)),
      new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_TIMEOUT_MS).unref()),
    ]);
    return flushing;
  };
  process.once('beforeExit', () => void flush());
  const onSigterm = () => {
    void flush().finally(() => {
      // Only us listening: restore the default action so the exit status stays "killed by SIGTERM".
      if (process.listenerCount('SIGTERM') === 0) process.kill(process.pid, 'SIGTERM');
    });
  };
  process.once('SIGTERM', onSigterm);
}

// `--require` preloads a CommonJS app, which require-in-the-middle covers; registering the ESM loader
// from a CJS preload makes Node 20 initialize it twice (and warn on every start). ESM apps use --import.
if (typeof module === 'undefined') registerEsmHook();
// An SDK the app already runs (auto-instrumentations, its own NodeSDK) gets only our
// instrumentation: one SDK, one exporter, one resource per process (src/sdk-detect.ts).
const existingSdk = detectExistingSdk();
if (existingSdk) {
  try {
    joinExistingSdk(existingSdk);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    process.stderr.write(`mcp-audit: not started (${reason}); the application runs without MCP audit\n`);
  }
} else {
  const handle = start();
  if (handle) flushOnExit(handle);
}
