import type { Histogram } from '@opentelemetry/api';
import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  InstrumentationNodeModuleFile,
  isWrapped,
  type InstrumentationModuleFile,
} from '@opentelemetry/instrumentation';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hook as RequireHook } from 'require-in-the-middle';
import type { PatchDeps } from './call.js';
import { createRequestPatch } from './client.js';
import { createHttpEntryPatch, type HttpEntryFn } from './http-peer.js';
import type { ProtocolClassLike, RequestFn, OnRequestFn } from './protocol-shape.js';
import { createDurationHistograms, createRecorder, type Recorder } from './recorder.js';
import { createOnRequestPatch } from './server.js';
import type { McpInstrumentationConfig } from './types.js';
import type { PreloadTarget } from './esm-preload.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from '../version.js';

const SDK_V1 = '@modelcontextprotocol/sdk';
const SDK_V1_RANGE = '>=1.17.0 <2';
const SDK_V2_RANGE = '>=2.0.0 <3';
// The internal files patched in 1.x, by path below dist/{esm,cjs}/ (without extension).
const V1_PROTOCOL = 'shared/protocol';
const V1_STREAMABLE_HTTP = 'server/streamableHttp';
const V1_SSE = 'server/sse';
const V1_FILES = [V1_PROTOCOL, V1_STREAMABLE_HTTP, V1_SSE] as const;
type V1File = (typeof V1_FILES)[number];

interface ProtocolModule {
  Protocol?: ProtocolClassLike;
}

/** The Node HTTP entry point of each server transport module, which sees the peer's socket. */
const HTTP_ENTRIES: Record<Exclude<V1File, typeof V1_PROTOCOL>, [exportName: string, method: string]> = {
  [V1_STREAMABLE_HTTP]: ['StreamableHTTPServerTransport', 'handleRequest'],
  [V1_SSE]: ['SSEServerTransport', 'handlePostMessage'],
};

type HttpEntryModule = Record<string, { prototype?: Record<string, unknown> } | undefined>;

// `>=1.17.0 <2` and `>=2.0.0 <3` as semver reads them with prereleases included (`1.17.1-rc.1` is
// in, `1.17.0-rc.1` and `2.0.0-rc.1` are not): a range check on every start did not justify loading
// semver's classes (test/unit/esm-preload.test.ts holds the two to the same answers).
const SEMVER =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

function inRange(version: string, major: number, minMinor: number): boolean {
  const m = SEMVER.exec(version.trim());
  if (!m) return false;
  const [maj, min, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (maj !== major || min < minMinor) return false;
  // A prerelease of the lower bound itself sorts below it.
  return min > minMinor || patch > 0 || m[4] === undefined;
}

/** True when the SDK version is one this instrumentation patches (1.x for the sdk package, else 2.x). */
export function supportedSdkVersion(version: string, v1: boolean): boolean {
  return v1 ? inRange(version, 1, 17) : inRange(version, 2, 0);
}

interface PreloadedModule {
  exports: ProtocolModule & HttpEntryModule;
  holds: PreloadTarget['holds'];
}

function readVersion(baseDir: string | undefined): string | undefined {
  if (!baseDir) return undefined;
  try {
    const version = (JSON.parse(readFileSync(join(baseDir, 'package.json'), 'utf8')) as { version?: unknown })
      .version;
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Patches `@modelcontextprotocol/sdk` 1.x (ESM and CJS builds) and the 2.x split packages
 * (`@modelcontextprotocol/client`, `@modelcontextprotocol/server`) so every MCP request becomes a
 * span on each side that is instrumented. Two patch points per Protocol class: `request` (outgoing)
 * and `_onrequest` (incoming).
 */
export class McpInstrumentation extends InstrumentationBase<McpInstrumentationConfig> {
  // `declare`: InstrumentationBase's constructor calls init(), enable() and
  // _updateMetricInstruments() before a subclass's field initializers run, and an emitted field
  // definition would reset what they set.
  declare private _recorder: Recorder | undefined;
  declare private _clientDuration: Histogram | undefined;
  declare private _serverDuration: Histogram | undefined;
  declare private _cjsHook: RequireHook | undefined;
  declare private _v1CjsFiles: Map<string, InstrumentationModuleFile> | undefined;
  declare private _preloaded: PreloadedModule[] | undefined;

  constructor(config: McpInstrumentationConfig = {}) {
    super(PACKAGE_NAME, PACKAGE_VERSION, config);
  }

  override setConfig(config: McpInstrumentationConfig = {}): void {
    super.setConfig(config);
    this._recorder = undefined;
  }

  protected init() {
    const patch = (exports: ProtocolModule) => this._patchProtocolModule(exports);
    const unpatch = (exports: ProtocolModule) => this._unpatchProtocolModule(exports);
    const v1File = (build: 'esm' | 'cjs', file: V1File) =>
      new InstrumentationNodeModuleFile(
        `${SDK_V1}/dist/${build}/${file}.js`,
        [SDK_V1_RANGE],
        file === V1_PROTOCOL ? patch : (exports: HttpEntryModule) => this._patchHttpEntry(exports, file),
        file === V1_PROTOCOL ? unpatch : (exports: HttpEntryModule) => this._unpatchHttpEntry(exports, file),
      );
    this._v1CjsFiles = new Map(V1_FILES.map((file) => [`${SDK_V1}/dist/cjs/${file}`, v1File('cjs', file)]));
    return [
      // 1.x: the package's "." export points to a file that does not exist, so hooks on the package
      // name never fire; its internal files are hooked instead (CJS side: see enable()).
      new InstrumentationNodeModuleDefinition(SDK_V1, [SDK_V1_RANGE], undefined, undefined, [
        ...V1_FILES.map((file) => v1File('esm', file)),
        ...this._v1CjsFiles.values(),
      ]),
      // 2.x bundles a Protocol class into each package's hashed chunks, but exports it by name.
      new InstrumentationNodeModuleDefinition('@modelcontextprotocol/client', [SDK_V2_RANGE], patch, unpatch),
      new InstrumentationNodeModuleDefinition('@modelcontextprotocol/server', [SDK_V2_RANGE], patch, unpatch),
    ];
  }

  /**
   * A module of the app's SDK copy imported by the register entry before the app runs (ESM without
   * a loader hook): patched in place now, and again on each enable().
   */
  patchPreloaded(holds: PreloadTarget['holds'], moduleExports: unknown): void {
    const preloaded = { exports: moduleExports as PreloadedModule['exports'], holds };
    this._preloaded ??= [];
    this._preloaded.push(preloaded);
    if (this.isEnabled()) this._patchPreloadedModule(preloaded);
  }

  private _patchPreloadedModule({ exports, holds }: PreloadedModule): void {
    if (holds === 'protocol') this._patchProtocolModule(exports);
    else this._patchHttpEntry(exports, holds);
  }

  override disable(): void {
    super.disable();
    for (const { exports, holds } of this._preloaded ?? []) {
      if (holds === 'protocol') this._unpatchProtocolModule(exports);
      else this._unpatchHttpEntry(exports, holds);
    }
  }

  override enable(): void {
    const wasEnabled = this.isEnabled();
    super.enable();
    if (!wasEnabled) for (const preloaded of this._preloaded ?? []) this._patchPreloadedModule(preloaded);
    const files = this._v1CjsFiles;
    if (this._cjsHook || !files) return;
    // OTel's shared require hook resolves the package main first and gives up on this package; a
    // whitelist hook on the internal paths (named without extension) matches without resolving it.
    this._cjsHook = new RequireHook([...files.keys()], { internals: true }, (exports, name, baseDir) => {
      const file = files.get(name.replace(/\.js$/, ''));
      if (!file) return exports;
      const version = readVersion(baseDir);
      if (version === undefined || !supportedSdkVersion(version, true)) {
        this._diag.debug(
          `${SDK_V1} ${version ?? '(unknown version)'} is outside ${SDK_V1_RANGE}; not patched`,
        );
        return exports;
      }
      file.moduleExports = exports;
      if (this.isEnabled()) file.patch(exports, version);
      return exports;
    });
  }

  protected override _updateMetricInstruments(): void {
    const histograms = createDurationHistograms(this.meter);
    this._clientDuration = histograms.client;
    this._serverDuration = histograms.server;
  }

  private _getRecorder(): Recorder {
    this._recorder ??= createRecorder(this.getConfig(), this._diag, () => ({
      client: this._clientDuration,
      server: this._serverDuration,
    }));
    return this._recorder;
  }

  private _onError(message: string, err: unknown): void {
    this._diag.error(message, err);
  }

  private _patchProtocolModule(exports: ProtocolModule): ProtocolModule {
    const proto = exports?.Protocol?.prototype;
    if (!proto) {
      this._diag.warn('no Protocol class in the MCP SDK module; nothing patched');
      return exports;
    }
    const deps: PatchDeps = {
      tracer: () => this.tracer,
      recorder: () => this._getRecorder(),
      isEnabled: () => this.isEnabled(),
      onError: (message: string, err: unknown) => this._onError(message, err),
      maxPending: () => this.getConfig().maxPendingServerSpans ?? 4096,
    };
    // Each loaded copy of Protocol is patched exactly once, however many hooks report it.
    // 2.x has two public entries into one private funnel; 1.x only `request`.
    for (const method of ['request', '_requestWithSchema'] as const) {
      if (typeof proto[method] === 'function' && !isWrapped(proto[method])) {
        this._wrap(proto as Record<typeof method, RequestFn>, method, createRequestPatch(deps));
      }
    }
    if (typeof proto._onrequest === 'function' && !isWrapped(proto._onrequest)) {
      this._wrap(proto as { _onrequest: OnRequestFn }, '_onrequest', createOnRequestPatch(deps));
    }
    return exports;
  }

  private _patchHttpEntry(exports: HttpEntryModule, file: keyof typeof HTTP_ENTRIES): HttpEntryModule {
    const [exportName, method] = HTTP_ENTRIES[file];
    const proto = exports?.[exportName]?.prototype;
    if (proto && typeof proto[method] === 'function' && !isWrapped(proto[method])) {
      this._wrap(
        proto as Record<string, HttpEntryFn>,
        method,
        createHttpEntryPatch(() => this.isEnabled()),
      );
    }
    return exports;
  }

  private _unpatchHttpEntry(exports: HttpEntryModule, file: keyof typeof HTTP_ENTRIES): void {
    const [exportName, method] = HTTP_ENTRIES[file];
    const proto = exports?.[exportName]?.prototype;
    if (proto && isWrapped(proto[method])) this._unwrap(proto as Record<string, HttpEntryFn>, method);
  }

  private _unpatchProtocolModule(exports: ProtocolModule): void {
    const proto = exports?.Protocol?.prototype;
    if (!proto) return;
    for (const method of ['request', '_requestWithSchema'] as const) {
      if (isWrapped(proto[method])) this._unwrap(proto as Record<typeof method, RequestFn>, method);
    }
    if (isWrapped(proto._onrequest)) this._unwrap(proto as { _onrequest: OnRequestFn }, '_onrequest');
  }
}
