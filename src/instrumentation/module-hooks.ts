// Where the MCP SDK's modules are seen as they load. OpenTelemetry's InstrumentationBase would put
// every require() of the app through its shared require-in-the-middle singleton (one more resolve of
// the package per file: ajv alone has ~100) and load the instrumentation package as ES modules on
// every start. Only a handful of the SDK's files matter, so the CommonJS side is one wrapper around
// Module.prototype.load (which sees each file once, by its resolved path, after it ran) that tests
// the path against one pattern. ES modules only pass through a loader hook when one is registered
// (import-in-the-middle's, by the register entry or the app), and then reach us through its Hook.
import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { join, normalize, resolve } from 'node:path';

/** What a module holds: a `Protocol` class, or one of the 1.x server HTTP transports. */
export type Holds = 'protocol' | 'server/streamableHttp' | 'server/sse';

export interface SdkModule {
  exports: unknown;
  holds: Holds;
  /** The version in the package's package.json; undefined when it could not be read. */
  version: string | undefined;
  /** `@modelcontextprotocol/sdk` (1.x) rather than the 2.x client or server package. */
  v1: boolean;
  /** The package directory, for messages. */
  baseDir: string;
}

export type OnSdkModule = (module: SdkModule) => void;

const SCOPE = '@modelcontextprotocol';
const V1_PACKAGE = `${SCOPE}/sdk`;
const V2_PACKAGES = [`${SCOPE}/client`, `${SCOPE}/server`];
// The internal 1.x files patched, by path below the package directory. 1.x's "." export points to a
// file that does not exist, so nothing is ever loaded under the package name itself.
const V1_FILES: Record<string, Holds> = {
  'shared/protocol': 'protocol',
  'server/streamableHttp': 'server/streamableHttp',
  'server/sse': 'server/sse',
};
const IN_PACKAGE = /^(.*[\\/]node_modules[\\/]@modelcontextprotocol[\\/](sdk|client|server))[\\/](.+)$/;

interface PackageInfo {
  version: string | undefined;
  /** Absolute path of the file `require('<package>')` loads. */
  cjsEntry: string | undefined;
}

const packages = new Map<string, PackageInfo>();

/** The target of a package's "." export for `require` (conditions in their order), or its main. */
function requireTarget(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    for (const item of value) {
      const target = requireTarget(item);
      if (target) return target;
    }
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [condition, target] of Object.entries(value)) {
    if (condition !== 'require' && condition !== 'node' && condition !== 'default') continue;
    const found = requireTarget(target);
    if (found) return found;
  }
  return undefined;
}

function packageInfo(baseDir: string): PackageInfo {
  let info = packages.get(baseDir);
  if (info) return info;
  info = { version: undefined, cjsEntry: undefined };
  try {
    const pkg = JSON.parse(readFileSync(join(baseDir, 'package.json'), 'utf8')) as {
      version?: unknown;
      exports?: unknown;
      main?: unknown;
    };
    if (typeof pkg.version === 'string') info.version = pkg.version;
    const exportsField = pkg.exports;
    const dot =
      typeof exportsField === 'object' &&
      exportsField !== null &&
      !Array.isArray(exportsField) &&
      Object.keys(exportsField).some((k) => k.startsWith('.'))
        ? (exportsField as Record<string, unknown>)['.']
        : exportsField;
    const entry =
      exportsField === undefined
        ? typeof pkg.main === 'string'
          ? pkg.main
          : 'index.js'
        : requireTarget(dot);
    if (entry) info.cjsEntry = resolve(baseDir, entry);
  } catch {
    // No readable package.json: no version, so nothing is patched.
  }
  packages.set(baseDir, info);
  return info;
}

/** The SDK module a CommonJS file is, if it is one we patch. */
function cjsModule(filename: string, exports: unknown): SdkModule | undefined {
  const m = IN_PACKAGE.exec(filename);
  if (!m) return undefined;
  const [, baseDir, name, rest] = m as unknown as [string, string, string, string];
  if (name === 'sdk') {
    const file = /^dist[\\/]cjs[\\/](.+)\.js$/.exec(rest)?.[1]?.replace(/\\/g, '/');
    const holds = file === undefined ? undefined : V1_FILES[file];
    if (!holds) return undefined;
    return { exports, holds, version: packageInfo(baseDir).version, v1: true, baseDir };
  }
  const info = packageInfo(baseDir);
  if (info.cjsEntry !== filename) return undefined;
  return { exports, holds: 'protocol', version: info.version, v1: false, baseDir };
}

interface LoadingModule {
  exports: unknown;
}
type Load = (this: LoadingModule, filename: string, ...rest: unknown[]) => unknown;

const cjsListeners = new Set<OnSdkModule>();
let cjsHookInstalled = false;

/** Calls `listener` for each patched CommonJS file of the SDK loaded from now on. */
export function onSdkRequire(listener: OnSdkModule): void {
  cjsListeners.add(listener);
  if (cjsHookInstalled) return;
  cjsHookInstalled = true;
  const proto = (Module as unknown as { prototype: { load: Load } }).prototype;
  const load = proto.load;
  proto.load = function loadAndReport(this: LoadingModule, filename: string, ...rest: unknown[]) {
    const result = load.call(this, filename, ...rest);
    if (cjsListeners.size > 0 && typeof filename === 'string' && filename.includes(SCOPE)) {
      let found: SdkModule | undefined;
      try {
        found = cjsModule(filename, this.exports);
      } catch {
        // Never the host's problem: an unreadable package is simply not patched.
      }
      if (found) for (const report of cjsListeners) report(found);
    }
    return result;
  };
}

const requireHere = createRequire(import.meta.url);
const V1_ESM_FILES = new Map(
  Object.entries(V1_FILES).map(([file, holds]) => [normalize(`${V1_PACKAGE}/dist/esm/${file}.js`), holds]),
);

let importHookWanted = true;

/**
 * For the register entry when it registered no loader hook and starts its own SDK: nothing would
 * report an ES module to import-in-the-middle's Hook, so that package is not even loaded.
 */
export function withoutImportHook(): void {
  importHookWanted = false;
}

/**
 * Calls `listener` for each patched ES module of the SDK that import-in-the-middle's loader hook
 * reports (none when no such hook is registered).
 */
export function onSdkImport(listener: OnSdkModule): void {
  if (!importHookWanted) return;
  const { Hook } = requireHere('import-in-the-middle') as typeof import('import-in-the-middle');
  new Hook([V1_PACKAGE, ...V2_PACKAGES], { internals: true }, (exports, name, baseDir) => {
    if (!baseDir) return exports;
    const v1Holds = V1_ESM_FILES.get(normalize(name));
    if (v1Holds)
      listener({ exports, holds: v1Holds, version: packageInfo(baseDir).version, v1: true, baseDir });
    else if (V2_PACKAGES.includes(name)) {
      listener({ exports, holds: 'protocol', version: packageInfo(baseDir).version, v1: false, baseDir });
    }
    return exports;
  });
}
