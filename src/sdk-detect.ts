// One SDK per process, whoever started it. An app that already runs OpenTelemetry (the
// auto-instrumentations register entry, or its own NodeSDK started before mcp-audit/register)
// keeps its own exporters, resource detectors and shutdown; mcp-audit then only adds the MCP
// instrumentation to it. A second SDK would export every span twice and fight over the globals.
import {
  diag,
  metrics,
  trace,
  type Attributes,
  type Context,
  type Histogram,
  type Meter,
  type MeterOptions,
  type MeterProvider,
  type MetricOptions,
} from '@opentelemetry/api';
import { McpInstrumentation } from './instrumentation/instrumentation.js';
import type { McpInstrumentationConfig } from './instrumentation/types.js';

/** The zero-code entry of @opentelemetry/auto-instrumentations-node (`--import`/`--require` it). */
const AUTO_REGISTER = /@opentelemetry[\\/]auto-instrumentations-node[\\/]register\b/;

export interface ExistingSdk {
  /** Why this process counts as already instrumented, for the one info line. */
  reason: string;
}

interface MaybeProxy {
  getDelegate?: () => unknown;
}

/** True when the global tracer provider is a real one (the API's proxy with a delegate that is not the no-op). */
export function globalTracerProviderRegistered(): boolean {
  const provider = trace.getTracerProvider() as unknown as MaybeProxy;
  const delegate = typeof provider.getDelegate === 'function' ? provider.getDelegate() : provider;
  const name = (delegate as { constructor?: { name?: string } } | undefined)?.constructor?.name;
  return delegate !== undefined && name !== 'NoopTracerProvider';
}

/**
 * The auto-instrumentations register entry among the preloads. It may come after ours on the
 * command line (`--import mcp-audit/register --import …/register`): preloads run in order, so its
 * SDK is not registered yet when ours runs, and only the command line tells.
 */
export function autoInstrumentationsPreloaded(
  execArgv: readonly string[] = process.execArgv,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  return execArgv.some((arg) => AUTO_REGISTER.test(arg)) || AUTO_REGISTER.test(env.NODE_OPTIONS ?? '');
}

/** An OpenTelemetry SDK this process already has, or will have once its preloads ran. */
export function detectExistingSdk(
  execArgv: readonly string[] = process.execArgv,
  env: NodeJS.ProcessEnv = process.env,
): ExistingSdk | undefined {
  if (globalTracerProviderRegistered()) return { reason: 'a global tracer provider is registered' };
  if (autoInstrumentationsPreloaded(execArgv, env)) {
    return { reason: '@opentelemetry/auto-instrumentations-node/register is preloaded' };
  }
  return undefined;
}

type HistogramSource = (meter: Meter) => Histogram;

/**
 * A histogram bound to whatever meter provider is global when a value is recorded. The
 * instrumentation creates its instruments at construction, which may run before the other SDK
 * registers its meter provider (ours preloaded first); a meter taken then would be the no-op forever.
 */
class LateBoundHistogram implements Histogram {
  private provider: MeterProvider | undefined;
  private histogram: Histogram | undefined;

  constructor(
    private readonly meterName: string,
    private readonly meterVersion: string | undefined,
    private readonly meterOptions: MeterOptions | undefined,
    private readonly create: HistogramSource,
  ) {}

  record(value: number, attributes?: Attributes, context?: Context): void {
    const provider = metrics.getMeterProvider();
    if (provider !== this.provider || !this.histogram) {
      this.provider = provider;
      this.histogram = this.create(provider.getMeter(this.meterName, this.meterVersion, this.meterOptions));
    }
    this.histogram.record(value, attributes, context);
  }
}

/** A meter provider whose histograms follow the global one (the only instrument type we use). */
export function lateBoundMeterProvider(): MeterProvider {
  return {
    getMeter(name: string, version?: string, options?: MeterOptions): Meter {
      const now = metrics.getMeterProvider().getMeter(name, version, options);
      return new Proxy(now, {
        get(target, key, receiver) {
          if (key !== 'createHistogram') return Reflect.get(target, key, receiver) as unknown;
          return (histogramName: string, histogramOptions?: MetricOptions) =>
            new LateBoundHistogram(name, version, options, (meter) =>
              meter.createHistogram(histogramName, histogramOptions),
            );
        },
      });
    },
  };
}

export interface JoinedSdkHandle {
  mode: 'joined';
  reason: string;
  instrumentation: McpInstrumentation;
}

/**
 * Adds the MCP instrumentation to the SDK that is there (or will be, once the preloads ran):
 * spans go through the global tracer provider, durations through the global meter provider,
 * and export, resource and shutdown stay the other SDK's.
 */
export function joinExistingSdk(
  existing: ExistingSdk,
  config: McpInstrumentationConfig = {},
  env: NodeJS.ProcessEnv = process.env,
): JoinedSdkHandle {
  const instrumentation = new McpInstrumentation(config);
  instrumentation.setMeterProvider(lateBoundMeterProvider());
  diag.info(`mcp-audit: ${existing.reason}; adding the MCP instrumentation to it instead of starting an SDK`);
  if (env.MCP_AUDIT_FILE && !['off', 'false', '0'].includes(env.MCP_AUDIT_FILE)) {
    // The evidence log is a span processor of our own SDK; the other SDK's pipeline is not ours to change.
    process.stderr.write(
      'mcp-audit: MCP_AUDIT_FILE is ignored beside an OpenTelemetry SDK started by the app; ' +
        'its exporter carries the spans (point it at otelcol-mcp for the audit trail)\n',
    );
  }
  return { mode: 'joined', reason: existing.reason, instrumentation };
}
