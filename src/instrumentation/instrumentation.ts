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
import { createRequestPatch } from './client.js';
import type { ProtocolClassLike, RequestFn, OnRequestFn } from './protocol-shape.js';
import { Recorder } from './recorder.js';
import { createOnRequestPatch } from './server.js';
import {
  MCP_OPERATION_DURATION_BUCKETS,
  METRIC_MCP_CLIENT_OPERATION_DURATION,
  METRIC_MCP_SERVER_OPERATION_DURATION,
} from './semconv.js';
import type { McpInstrumentationConfig } from './types.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from '../version.js';

const SDK_V1 = '@modelcontextprotocol/sdk';
const SDK_V1_RANGE = ['>=1.17.0 <2'];
const SDK_V2_RANGE = ['>=2.0.0 <3'];
const V1_ESM_PROTOCOL = `${SDK_V1}/dist/esm/shared/protocol.js`;
const V1_CJS_PROTOCOL = `${SDK_V1}/dist/cjs/shared/protocol.js`;
// require-in-the-middle names a whitelisted internal file without its extension.
const V1_CJS_PROTOCOL_HOOK_NAME = `${SDK_V1}/dist/cjs/shared/protocol`;

interface ProtocolModule {
  Protocol?: ProtocolClassLike;
}

function readVersion(baseDir: string | undefined): string | undefined {
  if (!baseDir) return undefined;
  try {
    const version = (JSON.parse(readFileSync(join(baseDir, 'package.json'), 'utf8')) as { version?: unknown }).version;
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
  private _recorder: Recorder | undefined;
  private _clientDuration: Histogram | undefined;
  private _serverDuration: Histogram | undefined;
  private _cjsHook: RequireHook | undefined;
  private _v1CjsFile: InstrumentationModuleFile | undefined;

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
    this._v1CjsFile = new InstrumentationNodeModuleFile(V1_CJS_PROTOCOL, SDK_V1_RANGE, patch, unpatch);
    return [
      // 1.x: the package's "." export points to a file that does not exist, so hooks on the package
      // name never fire; the shared Protocol file is hooked instead (CJS side: see enable()).
      new InstrumentationNodeModuleDefinition(SDK_V1, SDK_V1_RANGE, undefined, undefined, [
        new InstrumentationNodeModuleFile(V1_ESM_PROTOCOL, SDK_V1_RANGE, patch, unpatch),
        this._v1CjsFile,
      ]),
      // 2.x bundles a Protocol class into each package's hashed chunks, but exports it by name.
      new InstrumentationNodeModuleDefinition('@modelcontextprotocol/client', SDK_V2_RANGE, patch, unpatch),
      new InstrumentationNodeModuleDefinition('@modelcontextprotocol/server', SDK_V2_RANGE, patch, unpatch),
    ];
  }

  override enable(): void {
    super.enable();
    if (this._cjsHook || !this._v1CjsFile) return;
    const file = this._v1CjsFile;
    // OTel's shared require hook resolves the package main first and gives up on this package; a
    // whitelist hook on the internal path matches without resolving it.
    this._cjsHook = new RequireHook([V1_CJS_PROTOCOL_HOOK_NAME], { internals: true }, (exports, _name, baseDir) => {
      const version = readVersion(baseDir);
      if (version === undefined || !/^1\.(1[7-9]|[2-9]\d)\./.test(version)) {
        this._diag.debug(`${SDK_V1} ${version ?? '(unknown version)'} is outside ${SDK_V1_RANGE.join(' ')}; not patched`);
        return exports;
      }
      file.moduleExports = exports;
      if (this.isEnabled()) file.patch(exports, version);
      return exports;
    });
  }

  protected override _updateMetricInstruments(): void {
    this._clientDuration = this.meter.createHistogram(METRIC_MCP_CLIENT_OPERATION_DURATION, {
      description: 'Duration of MCP requests as seen by the sender.',
      unit: 's',
      advice: { explicitBucketBoundaries: [...MCP_OPERATION_DURATION_BUCKETS] },
    });
    this._serverDuration = this.meter.createHistogram(METRIC_MCP_SERVER_OPERATION_DURATION, {
      description: 'Duration of MCP requests as seen by the receiver.',
      unit: 's',
      advice: { explicitBucketBoundaries: [...MCP_OPERATION_DURATION_BUCKETS] },
    });
  }

  private _getRecorder(): Recorder {
    if (!this._recorder) {
      this._recorder = new Recorder(this.getConfig(), this._diag, () => ({
        client: this._clientDuration,
        server: this._serverDuration,
      }));
    }
    return this._recorder;
  }

  private _onError = (message: string, err: unknown): void => {
    this._diag.error(message, err);
  };

  private _patchProtocolModule(exports: ProtocolModule): ProtocolModule {
    const proto = exports?.Protocol?.prototype;
    if (!proto) {
      this._diag.warn('no Protocol class in the MCP SDK module; nothing patched');
      return exports;
    }
    const deps = {
      tracer: () => this.tracer,
      recorder: () => this._getRecorder(),
      isEnabled: () => this.isEnabled(),
      onError: this._onError,
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

  private _unpatchProtocolModule(exports: ProtocolModule): void {
    const proto = exports?.Protocol?.prototype;
    if (!proto) return;
    for (const method of ['request', '_requestWithSchema'] as const) {
      if (isWrapped(proto[method])) this._unwrap(proto as Record<typeof method, RequestFn>, method);
    }
    if (isWrapped(proto._onrequest)) this._unwrap(proto as { _onrequest: OnRequestFn }, '_onrequest');
  }
}
