import { defineConfig } from 'tsup';

// One source tree, two module systems: `import` gets dist/esm, `require` gets dist/cjs.
// The SDK we patch ships both builds, and applications load either.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    register: 'src/register.ts',
    'cli/main': 'src/cli/main.ts',
    'demo/agent': 'src/demo/agent.ts',
    'demo/servers/db': 'src/demo/servers/db.ts',
    'demo/servers/messaging': 'src/demo/servers/messaging.ts',
    'demo/servers/files': 'src/demo/servers/files.ts',
  },
  format: ['esm', 'cjs'],
  outDir: 'dist',
  target: 'node20',
  platform: 'node',
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  splitting: false,
  // Keep dependencies external: the host app's copy of @opentelemetry/api must be the one we use, and
  // the instrumentation base shares its require hook with the app's other instrumentations.
  skipNodeModulesBundle: true,
  // Except the SDK pieces every start loads: as hundreds of small ES modules they cost more to load
  // than the rest of the register entry (one bundled file instead); they keep no state of their own
  // that another copy in the app would need to see (context keys are global symbols).
  noExternal: [
    /^@opentelemetry\/(core|resources|sdk-trace|context-async-hooks|semantic-conventions)(\/|$)/,
    // Their own `imports` subpaths (`#platform`), resolved inside each package.
    /^#/,
  ],
  shims: true,
  outExtension: ({ format }) => ({ js: format === 'cjs' ? '.cjs' : '.js' }),
  // The register entry waits at top level for its ESM preload; the CJS build drops that branch
  // (esbuild refuses a live top-level await in CommonJS output).
  esbuildOptions(options, { format }) {
    options.define = { ...options.define, __MCP_AUDIT_ESM__: format === 'esm' ? 'true' : 'false' };
  },
});
