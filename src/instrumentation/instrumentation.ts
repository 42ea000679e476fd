import {
  diag,
  metrics,
  trace,
  type DiagLogger,
  type Histogram,
  type Meter,
  type MeterProvider,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { PatchDeps } from './call.js';
import { createRequestPatch } from './client.js';
import { createHttpEntryPatch, type HttpEntryFn } from './http-peer.js';
import { onSdkImport, onSdkRequire, type Holds, type SdkModule } from './module-hooks.js';
import type { ProtocolClassLike, RequestFn, OnRequestFn } from './protocol-shape.js';
import { createDurationHistograms, createRecorder, type Recorder } from './recorder.js';
import { createOnRequestPatch } from './server.js';
import { isWrapped, unwrap, wrap } from './shim.js';
import type { McpInstrumentationConfig } from './types.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from '../version.js';

const SDK_V1_RANGE = '>=1.17.0 <2';
const SDK_V2_RANGE = '>=2.0.0 <3';

interface ProtocolModule {
  Protocol?: ProtocolClassLike;
}

/** The Node HTTP entry point of each server transport module, which sees the peer's socket. */
const HTTP_ENTRIES: Record<Exclude<Holds, 'protocol'>, [exportName: string, method: string]> = {
  'server/streamableHttp': ['StreamableHTTPServerTransport', 'handleRequest'],
  'server/sse': ['SSEServerTransport', 'handlePostMessage'],
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

/** A module of an SDK copy seen loading (or imported by the register entry): patched again on enable(). */
interface SeenModule {
  exports: ProtocolModule & HttpEntryModule;
  holds: Holds;
}

/**
 * Patches `@modelcontextprotocol/sdk` 1.x (ESM and CJS builds) and the 2.x split packages
 * (`@modelcontextprotocol/client`, `@modelcontextprotocol/server`) so every MCP request becomes a
 * span on each side that is instrumented. Two patch points per Protocol class: `request` (outgoing)
 * and `_onrequest` (incoming). An OpenTelemetry `Instrumentation` (NodeSDK's `instrumentations`,
 * `registerInstrumentations`), built without InstrumentationBase: see module-hooks.ts for why.
 */
export class McpInstrumentation implements Instrumentation<McpInstrumentationConfig> {
  readonly instrumentationName: string = PACKAGE_NAME;
  readonly instrumentationVersion: string = PACKAGE_VERSION;
  private _config: McpInstrumentationConfig = { enabled: true };
  private readonly _diag: DiagLogger = diag.createComponentLogger({ namespace: PACKAGE_NAME });
  private _tracer: Tracer = trace.getTracer(PACKAGE_NAME, PACKAGE_VERSION);
  private _meter: Meter = metrics.getMeter(PACKAGE_NAME, PACKAGE_VERSION);
  private _enabled = false;
  private _hooked = false;
  private _recorder: Recorder | undefined;
  private _clientDuration: Histogram | undefined;
  private _serverDuration: Histogram | undefined;
  private readonly _seen: SeenModule[] = [];

  constructor(config: McpInstrumentationConfig = {}) {
    this.setConfig(config);
    this._updateMetricInstruments();
    if (this._config.enabled) this.enable();
  }

  get tracer(): Tracer {
    return this._tracer;
  }

  get meter(): Meter {
    return this._meter;
  }

  setTracerProvider(provider: TracerProvider): void {
    this._tracer = provider.getTracer(PACKAGE_NAME, PACKAGE_VERSION);
  }

  setMeterProvider(provider: MeterProvider): void {
    this._meter = provider.getMeter(PACKAGE_NAME, PACKAGE_VERSION);
    this._updateMetricInstruments();
  }

  getConfig(): McpInstrumentationConfig {
    return this._config;
  }

  setConfig(config: McpInstrumentationConfig = {}): void {
    this._config = { enabled: true, ...config };
    this._recorder = undefined;
  }

  isEnabled(): boolean {
    return this._enabled;
  }

  enable(): void {
    if (this._enabled) return;
    this._enabled = true;
    for (const seen of this._seen) this._patch(seen);
    if (this._hooked) return;
    this._hooked = true;
    const onModule = (found: SdkModule) => this._onSdkModule(found);
    onSdkRequire(onModule);
    try {
      onSdkImport(onModule);
    } catch (err) {
      this._diag.warn(
        'import-in-the-middle could not be loaded; ES modules through its loader hook are not patched',
        err,
      );
    }
  }

  disable(): void {
    if (!this._enabled) return;
    this._enabled = false;
    for (const seen of this._seen) this._unpatch(seen);
  }

  /**
   * A module of the app's SDK copy imported by the register entry before the app runs (ESM without
   * a loader hook): patched in place now, and again on each enable().
   */
  patchPreloaded(holds: Holds, moduleExports: unknown): void {
    const exports = moduleExports as SeenModule['exports'];
    let seen = this._seen.find((s) => s.exports === exports && s.holds === holds);
    if (!seen) {
      seen = { exports, holds };
      this._seen.push(seen);
    }
    if (this._enabled) this._patch(seen);
  }

  private _onSdkModule({ exports, holds, version, v1, baseDir }: SdkModule): void {
    try {
      if (version === undefined || !supportedSdkVersion(version, v1)) {
        this._diag.debug(
          `${baseDir} ${version ?? '(unknown version)'} is outside ${v1 ? SDK_V1_RANGE : SDK_V2_RANGE}; not patched`,
        );
        return;
      }
      this.patchPreloaded(holds, exports);
    } catch (err) {
      // Seen inside the app's require() or import: never its error.
      this._onError('could not patch an MCP SDK module', err);
    }
  }

  private _patch({ exports, holds }: SeenModule): void {
    if (holds === 'protocol') this._patchProtocolModule(exports);
    else this._patchHttpEntry(exports, holds);
  }

  private _unpatch({ exports, holds }: SeenModule): void {
    if (holds === 'protocol') this._unpatchProtocolModule(exports);
    else this._unpatchHttpEntry(exports, holds);
  }

  protected _updateMetricInstruments(): void {
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

  private _patchProtocolModule(exports: ProtocolModule): void {
    const proto = exports?.Protocol?.prototype;
    if (!proto) {
      this._diag.warn('no Protocol class in the MCP SDK module; nothing patched');
      return;
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
        wrap(proto as Record<typeof method, RequestFn>, method, createRequestPatch(deps));
      }
    }
    if (typeof proto._onrequest === 'function' && !isWrapped(proto._onrequest)) {
      wrap(proto as { _onrequest: OnRequestFn }, '_onrequest', createOnRequestPatch(deps));
    }
  }

  private _patchHttpEntry(exports: HttpEntryModule, file: keyof typeof HTTP_ENTRIES): void {
    const [exportName, method] = HTTP_ENTRIES[file];
    const proto = exports?.[exportName]?.prototype;
    if (proto && typeof proto[method] === 'function' && !isWrapped(proto[method])) {
      wrap(
        proto as Record<string, HttpEntryFn>,
        method,
        createHttpEntryPatch(() => this.isEnabled()),
      );
    }
  }

  private _unpatchHttpEntry(exports: HttpEntryModule, file: keyof typeof HTTP_ENTRIES): void {
    const [exportName, method] = HTTP_ENTRIES[file];
    const proto = exports?.[exportName]?.prototype;
    if (proto) unwrap(proto as Record<string, HttpEntryFn>, method);
  }

  private _unpatchProtocolModule(exports: ProtocolModule): void {
    const proto = exports?.Protocol?.prototype;
    if (!proto) return;
    for (const method of ['request', '_requestWithSchema'] as const) {
      unwrap(proto as Record<typeof method, RequestFn>, method);
    }
    unwrap(proto as { _onrequest: OnRequestFn }, '_onrequest');
  }
}
