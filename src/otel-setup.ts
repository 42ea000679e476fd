// Starts OpenTelemetry for the register entry without loading what it will not use.
// `@opentelemetry/sdk-node` imports every exporter it could ever configure (OTLP over HTTP, protobuf
// and gRPC for traces, metrics and logs, Prometheus, Zipkin, the YAML configuration model) before it
// reads a single variable: most of a process's start-up cost under `--import mcp-audit/register`.
// mcp-audit needs a tracer provider, a context manager, propagators, a resource and, when it
// exports, the metric readers it built itself, so that is all this loads; anything beyond it (metric
// readers from the environment, a configuration file, B3 propagation) goes to the Node SDK itself,
// loaded on demand.
import { context, diag, metrics, propagation, trace, type TextMapPropagator } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  getBooleanFromEnv,
  getNumberFromEnv,
  getStringFromEnv,
  getStringListFromEnv,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import {
  defaultResource,
  detectResources,
  hostDetector,
  osDetector,
  processDetector,
  resourceAttributesEnvDetector,
  resourceFromAttributes,
  serviceInstanceIdDetector,
  serviceNameEnvDetector,
  type Resource,
  type ResourceDetector,
} from '@opentelemetry/resources';
import type { MetricReader } from '@opentelemetry/sdk-metrics';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { createRequire } from 'node:module';

export interface OtelOptions {
  spanProcessors: SpanProcessor[];
  /** `[]`: no metric export. Left out: metric readers from the environment (the Node SDK's job). */
  metricReaders?: MetricReader[];
  instrumentations: Instrumentation[];
  /**
   * Applied to the resource before any provider sees it. The audit start-up passes redaction here
   * (this module sits below it), so metrics carry no command line and no secret either.
   */
  resourceFilter?: (resource: Resource) => Resource;
  /** Resource detectors for the Node SDK path, likewise supplied by the audit start-up. */
  resourceDetectors?: ResourceDetector[];
}

export interface OtelHandle {
  shutdown(): Promise<void>;
}

const requireHere = createRequire(import.meta.url);

/** A package loaded only when the configuration asks for it (synchronously: start-up is synchronous). */
export function loadOnDemand<T>(name: string): T {
  return requireHere(name) as T;
}

const LEAN_PROPAGATORS = new Set(['tracecontext', 'baggage', 'none']);

function needsNodeSdk(opts: OtelOptions): boolean {
  if (opts.metricReaders === undefined || getStringFromEnv('OTEL_CONFIG_FILE')) return true;
  return (getStringListFromEnv('OTEL_PROPAGATORS') ?? []).some((name) => !LEAN_PROPAGATORS.has(name));
}

/** The same components as the Node SDK's start from the environment, for what the options ask. */
export function startOpenTelemetry(opts: OtelOptions): OtelHandle {
  if (needsNodeSdk(opts)) {
    const { startNodeSdk } =
      loadOnDemand<typeof import('@opentelemetry/sdk-node')>('@opentelemetry/sdk-node');
    const { resourceFilter: _filter, ...sdkOpts } = opts;
    return startNodeSdk({ ...sdkOpts, logRecordProcessors: [], logLevel: 'none' });
  }
  if (getBooleanFromEnv('OTEL_SDK_DISABLED')) return { shutdown: async () => {} };
  registerInstrumentations(opts.instrumentations);
  const contextManager = new AsyncLocalStorageContextManager();
  contextManager.enable();
  const propagator = propagatorFromEnv();
  const resource = opts.resourceFilter
    ? deferredResource(resourceFromEnv(), opts.resourceFilter)
    : resourceFromEnv();
  const readers = opts.metricReaders ?? [];
  // The metrics SDK loads only where there is a reader (the embedded mode has none).
  const meterProvider =
    readers.length === 0
      ? undefined
      : new (loadOnDemand<typeof import('@opentelemetry/sdk-metrics')>(
          '@opentelemetry/sdk-metrics',
        ).MeterProvider)({ resource, readers });
  const tracerProvider =
    opts.spanProcessors.length === 0
      ? undefined
      : new TracerProvider({
          resource,
          spanProcessors: opts.spanProcessors,
          sampler: samplerFromEnv(),
          spanLimits: spanLimitsFromEnv(),
        });
  context.setGlobalContextManager(contextManager);
  if (propagator) propagation.setGlobalPropagator(propagator);
  if (meterProvider) {
    metrics.setGlobalMeterProvider(meterProvider);
    for (const instrumentation of opts.instrumentations) instrumentation.setMeterProvider(meterProvider);
  }
  if (tracerProvider) trace.setGlobalTracerProvider(tracerProvider);
  return {
    shutdown: async () => {
      await Promise.all([meterProvider?.shutdown(), tracerProvider?.shutdown()]);
    },
  };
}

/**
 * `filter(resource)`, computed when something first reads the resource: an exporter, after the first
 * spans ended. The filter is the resource redaction, whose first run (the redaction engine's cold
 * start over every attribute) would otherwise delay the app's start. The attributes it sees are
 * taken now, so the result is the one an eager filter gives (an attribute still pending, like the
 * host id, is left out either way). A filter that fails leaves no attribute: nothing unredacted.
 */
export function deferredResource(resource: Resource, filter: (resource: Resource) => Resource): Resource {
  const now: Resource = Object.create(resource, { attributes: { value: resource.attributes } }) as Resource;
  let filtered: Resource | undefined;
  const get = (): Resource => {
    if (filtered) return filtered;
    try {
      filtered = filter(now);
    } catch (err) {
      diag.error('mcp-audit: resource redaction failed; the resource is exported without attributes', err);
      filtered = resourceFromAttributes({});
    }
    return filtered;
  };
  return {
    get attributes() {
      return get().attributes;
    },
    get schemaUrl() {
      return get().schemaUrl;
    },
    asyncAttributesPending: false,
    waitForAsyncAttributes: async () => undefined,
    merge: (other) => get().merge(other),
    getRawAttributes: () => get().getRawAttributes(),
  };
}

// What `registerInstrumentations` of @opentelemetry/instrumentation does with no providers given,
// without loading that package (its ES modules and require hook are a start-up cost of their own).
function registerInstrumentations(instrumentations: Instrumentation[]): void {
  for (const instrumentation of instrumentations) {
    instrumentation.setTracerProvider(trace.getTracerProvider());
    instrumentation.setMeterProvider(metrics.getMeterProvider());
    if (!instrumentation.getConfig().enabled) instrumentation.enable();
  }
}

function propagatorFromEnv(): TextMapPropagator | undefined {
  let names = getStringListFromEnv('OTEL_PROPAGATORS') ?? [];
  if (names.length === 0) names = ['tracecontext', 'baggage'];
  if (names.includes('none')) return undefined;
  const propagators = [...new Set(names)].map((name) =>
    name === 'tracecontext' ? new W3CTraceContextPropagator() : new W3CBaggagePropagator(),
  );
  return propagators.length === 1 ? propagators[0] : new CompositePropagator({ propagators });
}

function resourceFromEnv(): Resource {
  let names = getStringListFromEnv('OTEL_NODE_RESOURCE_DETECTORS') ?? [];
  if (names.length === 0) names = ['service', 'host', 'process'];
  else if (names.includes('none')) names = [];
  else if (names.includes('all')) names = ['host', 'process', 'service'];
  const detectors: ResourceDetector[] = [];
  for (const name of names) {
    if (name === 'process') detectors.push(processDetector);
    else if (name === 'host') detectors.push(hostDetector, osDetector);
    else if (name === 'service') detectors.push(serviceInstanceIdDetector, serviceNameEnvDetector);
    else diag.warn(`unknown resource detector "${name}" in OTEL_NODE_RESOURCE_DETECTORS: skipped`);
  }
  let resource = defaultResource();
  if (detectors.length > 0) resource = resource.merge(detectResources({ detectors }));
  let envResource = detectResources({ detectors: [resourceAttributesEnvDetector] });
  // OTEL_SERVICE_NAME wins over a service.name in OTEL_RESOURCE_ATTRIBUTES, as in the Node SDK.
  if ('service.name' in envResource.attributes && getStringFromEnv('OTEL_SERVICE_NAME')) {
    const { 'service.name': _dropped, ...rest } = envResource.attributes;
    envResource = resourceFromAttributes(rest);
  }
  return resource.merge(envResource);
}

function samplerFromEnv(): Sampler | undefined {
  const name = getStringFromEnv('OTEL_TRACES_SAMPLER');
  if (name === undefined) return undefined;
  const ratio = () => {
    const value = getNumberFromEnv('OTEL_TRACES_SAMPLER_ARG');
    return value === undefined || value < 0 || value > 1 ? 1 : value;
  };
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio());
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
    default:
      diag.error(`unknown OTEL_TRACES_SAMPLER value "${name}", using default`);
      return undefined;
  }
}

function spanLimitsFromEnv() {
  return {
    attributeCountLimit:
      getNumberFromEnv('OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT') ?? getNumberFromEnv('OTEL_ATTRIBUTE_COUNT_LIMIT'),
    attributeValueLengthLimit:
      getNumberFromEnv('OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT') ??
      getNumberFromEnv('OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT'),
    eventCountLimit: getNumberFromEnv('OTEL_SPAN_EVENT_COUNT_LIMIT'),
    linkCountLimit: getNumberFromEnv('OTEL_SPAN_LINK_COUNT_LIMIT'),
    attributePerEventCountLimit:
      getNumberFromEnv('OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT') ??
      getNumberFromEnv('OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT'),
    attributePerLinkCountLimit:
      getNumberFromEnv('OTEL_LINK_ATTRIBUTE_COUNT_LIMIT') ??
      getNumberFromEnv('OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT'),
  };
}
