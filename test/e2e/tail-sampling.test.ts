// Trace-store sampling (collector/sampling.yaml): the real collector started with config.yaml +
// sampling.yaml, real Jaeger and Prometheus, an instrumented agent and stdio server making a mix of
// benign, sensitive-tool, failing, personal-data and risky calls, one past the in-flight mark and one
// over the bulk bound. With the rest-share at 0 %,
// every trace that must be kept is in Jaeger and every benign one is absent, by trace id, while
// the audit file and Prometheus still count every call. At the default share, it measures how many
// spans the trace store keeps of a soak-like mix (the figure in docs/scale.md).
//
//   npm run build && flock /tmp/e2e.lock node --import tsx --test test/e2e/tail-sampling.test.ts
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { FIXTURES, REGISTER_ESM, killAll, runNode } from '../support/proc.js';
import {
  REPO_ROOT,
  freePorts,
  promQuery,
  readAuditFile,
  startStack,
  waitFor,
  type Stack,
} from '../support/stack.js';

type Kind = 'benign' | 'sensitive' | 'error' | 'pii' | 'risk' | 'slow' | 'bulk';
const KINDS: readonly Kind[] = ['benign', 'sensitive', 'error', 'pii', 'risk'];
const CALL_OF: Record<Kind, (label: string) => { tool: string; arguments: Record<string, string> }> = {
  benign: (label) => ({ tool: 'lookup', arguments: { label } }),
  sensitive: (label) => ({ tool: 'db_query', arguments: { label, sql: 'SELECT 1 WHERE id = 7' } }),
  error: (label) => ({ tool: 'flaky', arguments: { label } }),
  pii: (label) => ({ tool: 'contact_lookup', arguments: { label } }),
  risk: (label) => ({ tool: 'read_doc', arguments: { label, path: '/etc/passwd' } }),
  slow: (label) => ({ tool: 'slow_lookup', arguments: { label } }),
  bulk: (label) => ({ tool: 'bulk_lookup', arguments: { label } }),
};

interface AuditSpan {
  traceId: string;
  spanId: string;
  name: string;
  attributes: Record<string, unknown>;
  status?: { code?: number };
  bytes: number;
}

type OtlpValue = Record<string, unknown>;
function otlpValue(v: OtlpValue): unknown {
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('boolValue' in v) return v.boolValue;
  if ('arrayValue' in v) return ((v.arrayValue as { values?: OtlpValue[] })?.values ?? []).map(otlpValue);
  return undefined;
}

/** Every span of the audit file, with its OTLP/JSON size (what a trace store would hold of it). */
function auditSpans(stack: Stack): AuditSpan[] {
  const out: AuditSpan[] = [];
  for (const data of readAuditFile(stack.auditFilePath) as Array<{
    resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }> }>;
  }>) {
    for (const rs of data.resourceSpans ?? [])
      for (const ss of rs.scopeSpans ?? [])
        for (const s of ss.spans ?? []) {
          const attributes = Object.fromEntries(
            ((s.attributes ?? []) as Array<{ key: string; value: OtlpValue }>).map((a) => [
              a.key,
              otlpValue(a.value),
            ]),
          );
          out.push({
            traceId: String(s.traceId),
            spanId: String(s.spanId),
            name: String(s.name),
            attributes,
            status: s.status as { code?: number },
            bytes: JSON.stringify(s).length,
          });
        }
  }
  return out;
}

/** The label a call carried in its (redacted) arguments. */
function labelOf(span: AuditSpan): string | undefined {
  const args = span.attributes['gen_ai.tool.call.arguments'];
  return typeof args === 'string' ? /"label":"([a-z]+-\d+)"/.exec(args)?.[1] : undefined;
}

/** Spans of a trace in Jaeger (0 when Jaeger does not have it). */
async function jaegerSpanCount(jaegerUrl: string, traceId: string): Promise<number> {
  const response = await fetch(new URL(`/api/traces/${traceId}`, jaegerUrl));
  if (response.status === 404) return 0;
  if (!response.ok) throw new Error(`GET trace ${traceId} → ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as { data?: Array<{ spans: unknown[] }> | null };
  return body.data?.[0]?.spans.length ?? 0;
}

/** The tail-sampling processor's decisions so far, from the collector's own metrics. */
async function decisions(telemetryUrl: string): Promise<{ sampled: number; notSampled: number }> {
  const text = await (await fetch(telemetryUrl)).text();
  let sampled = 0;
  let notSampled = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('otelcol_processor_tail_sampling_global_count_traces_sampled')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (/sampled="true"/.test(line)) sampled += value;
    else if (/sampled="false"/.test(line)) notSampled += value;
  }
  return { sampled, notSampled };
}

interface Mix {
  stack: Stack;
  telemetryUrl: string;
  session: string;
  /** Kind of each call, by label. */
  kinds: Map<string, Kind>;
}

async function startSampledStack(
  percent: string | undefined,
): Promise<{ stack: Stack; telemetryUrl: string }> {
  const [telemetry] = await freePorts(1);
  const stack = await startStack({
    withPrometheus: true,
    extraCollectorConfigs: [`${REPO_ROOT}/collector/sampling.yaml`],
    collectorEnv: {
      ...(percent === undefined ? {} : { MCP_AUDIT_SAMPLE_PERCENT: percent }),
      MCP_AUDIT_SAMPLE_DECISION_WAIT: '2s',
      MCP_AUDIT_COLLECTOR_TELEMETRY_PORT: String(telemetry),
    },
  });
  return { stack, telemetryUrl: `http://127.0.0.1:${telemetry}/metrics` };
}

/** Runs one agent session making `plan` calls; returns the kind of each call by label. */
async function runMix(stack: Stack, session: string, plan: Kind[]): Promise<Map<string, Kind>> {
  const kinds = new Map<string, Kind>();
  const calls = plan.map((kind, i) => {
    const label = `${kind}-${i}`;
    kinds.set(label, kind);
    return CALL_OF[kind](label);
  });
  const run = await runNode(
    [
      '--import',
      REGISTER_ESM,
      `${FIXTURES}listed-calls-agent.mjs`,
      `${FIXTURES}sampling-server.mjs`,
      '--import',
      REGISTER_ESM,
    ],
    {
      OTEL_EXPORTER_OTLP_ENDPOINT: stack.otlpHttpEndpoint,
      OTEL_SERVICE_NAME: 'sampling-agent',
      SERVER_SERVICE_NAME: 'sampling-server',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_METRICS_EXPORTER: 'none',
      MCP_AUDIT_FILE: 'off',
      CALLER: 'user:sampling',
      SESSION: session,
      CALLS: JSON.stringify(calls),
    },
    120_000,
  );
  assert.equal(run.code, 0, run.stderr);
  return kinds;
}

/** The trace of each labelled call, once the audit file holds its client and server span. */
async function tracesByLabel(stack: Stack, kinds: Map<string, Kind>): Promise<Map<string, AuditSpan[]>> {
  return waitFor(
    () => {
      const byLabel = new Map<string, AuditSpan[]>();
      for (const span of auditSpans(stack)) {
        if (!span.name.startsWith('tools/call ')) continue;
        const label = labelOf(span);
        if (label === undefined || !kinds.has(label)) continue;
        byLabel.set(label, [...(byLabel.get(label) ?? []), span]);
      }
      return byLabel.size === kinds.size && [...byLabel.values()].every((s) => s.length === 2)
        ? byLabel
        : undefined;
    },
    { timeoutMs: 60_000, message: 'the audit file did not get a client and a server span of every call' },
  );
}

/** Waits until the processor decided on every trace the collector received, returns the counts. */
async function allDecided(stack: Stack, telemetryUrl: string) {
  return waitFor(
    async () => {
      const traces = new Set(auditSpans(stack).map((s) => s.traceId)).size;
      const d = await decisions(telemetryUrl);
      return d.sampled + d.notSampled >= traces ? { ...d, traces } : undefined;
    },
    { timeoutMs: 60_000, message: 'the tail-sampling processor did not decide on every trace' },
  );
}

describe('trace-store sampling at 0 % of the rest (collector/sampling.yaml)', () => {
  let mix: Mix;
  const PER_KIND = 4;
  // Interleaved, so no kind's traces share a decision batch by position.
  // Plus one call past the in-flight mark and the latency bound, and one over the bulk bound.
  const plan: Kind[] = [...Array.from({ length: PER_KIND }, () => KINDS).flat(), 'slow', 'bulk'];

  before(async () => {
    const { stack, telemetryUrl } = await startSampledStack('0');
    mix = { stack, telemetryUrl, session: 'sampling-zero', kinds: new Map() };
    mix.kinds = await runMix(stack, mix.session, plan);
  });

  after(async () => {
    killAll();
    await mix?.stack.stop();
  });

  it('keeps every sensitive-tool, error, personal-data, risky and alert-signal trace in Jaeger, and no benign one', async () => {
    const { stack, telemetryUrl, kinds } = mix;
    const byLabel = await tracesByLabel(stack, kinds);
    // What makes each call a kind is on its spans (else the test would not tell the policies apart).
    for (const [label, spans] of byLabel) {
      const kind = kinds.get(label)!;
      assert.equal(new Set(spans.map((s) => s.traceId)).size, 1, `${label}: client and server in one trace`);
      const has = {
        error: spans.some((s) => s.attributes['error.type'] !== undefined),
        pii: spans.some((s) => Number(s.attributes['mcp_audit.result.pii.count'] ?? 0) > 0),
        risk: spans.some((s) => Array.isArray(s.attributes['mcp_audit.arguments.risk'])),
      };
      assert.equal(has.error, kind === 'error', `${label}: error.type`);
      assert.equal(has.pii, kind === 'pii', `${label}: personal data in the result`);
      assert.equal(has.risk, kind === 'risk', `${label}: argument risk tag`);
      assert.equal(
        spans.some((s) => Number(s.attributes['mcp_audit.result.size']) >= 102_400),
        kind === 'bulk',
        `${label}: result over the bulk bound`,
      );
    }
    const slowTrace = byLabel.get(`slow-${plan.indexOf('slow')}`)![0]!.traceId;
    assert.ok(
      auditSpans(stack).some((s) => s.traceId === slowTrace && s.attributes['mcp_audit.in_flight'] === true),
      'the slow call emitted its in-flight marker',
    );
    const decided = await allDecided(stack, telemetryUrl);
    const keep = [...byLabel].filter(([label]) => kinds.get(label) !== 'benign');
    const drop = [...byLabel].filter(([label]) => kinds.get(label) === 'benign');
    // Kept traces reach Jaeger after the exporter's batch; wait for all of them, both spans each.
    let missing: string[] = [];
    await waitFor(
      async () => {
        missing = [];
        for (const [label, spans] of keep)
          if ((await jaegerSpanCount(stack.jaegerUrl, spans[0]!.traceId)) < 2) missing.push(label);
        return missing.length === 0;
      },
      { timeoutMs: 60_000, message: 'a kept trace did not reach Jaeger with both spans' },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; missing: ${missing.join(', ')}`);
    });
    // Every trace is decided, so a benign trace Jaeger does not have now is one it never gets.
    for (const [label, spans] of drop)
      assert.equal(await jaegerSpanCount(stack.jaegerUrl, spans[0]!.traceId), 0, `${label} is in Jaeger`);
    assert.ok(decided.notSampled >= drop.length, `only ${decided.notSampled} traces were sampled out`);
  });

  it('still counts every call in the audit file and in Prometheus', async () => {
    const { stack, kinds, session } = mix;
    const clientCalls = auditSpans(stack).filter(
      (s) => s.name.startsWith('tools/call ') && s.attributes['mcp_audit.client.instrumented'] === undefined,
    );
    // The client span of each call (the server span carries mcp_audit.client.instrumented).
    assert.equal(clientCalls.length, kinds.size);
    const expected: Record<string, number> = {};
    for (const kind of plan) {
      const tool = CALL_OF[kind]('x').tool;
      expected[tool] = (expected[tool] ?? 0) + 1;
    }
    const counted = await waitFor(
      async () => {
        const rows = await promQuery(
          stack.prometheusUrl!,
          `sum by (tool) (mcp_audit_tool_calls_total{session_id="${session}"})`,
        );
        const byTool = Object.fromEntries(rows.map((r) => [r.metric.tool!, Number(r.value[1])]));
        return Object.values(byTool).reduce((a, b) => a + b, 0) === kinds.size ? byTool : undefined;
      },
      { timeoutMs: 60_000, message: `Prometheus did not count ${kinds.size} calls of the session` },
    );
    assert.deepEqual(counted, expected);
    const errors = await promQuery(
      stack.prometheusUrl!,
      `sum(mcp_audit_tool_errors_total{session_id="${session}"})`,
    );
    assert.equal(Number(errors[0]?.value[1]), PER_KIND, 'every failed call counted');
  });
});

describe('trace-store sampling at the default share: spans kept of a soak-like mix', () => {
  let mix: Mix;
  // Per 25 calls: 20 benign, 2 sensitive-tool, 1 error, 1 personal data, 1 risky.
  const CYCLE: Kind[] = [
    ...Array.from({ length: 20 }, (): Kind => 'benign'),
    'sensitive',
    'sensitive',
    'error',
    'pii',
    'risk',
  ];
  const plan: Kind[] = Array.from({ length: 8 }, () => CYCLE).flat();

  before(async () => {
    const { stack, telemetryUrl } = await startSampledStack(undefined);
    mix = { stack, telemetryUrl, session: 'sampling-default', kinds: new Map() };
    mix.kinds = await runMix(stack, mix.session, plan);
  });

  after(async () => {
    killAll();
    await mix?.stack.stop();
  });

  it('keeps every must-keep trace and only a share of the benign ones', async () => {
    const { stack, telemetryUrl, kinds } = mix;
    const byLabel = await tracesByLabel(stack, kinds);
    const decided = await allDecided(stack, telemetryUrl);
    const all = auditSpans(stack);
    const traceIds = [...new Set(all.map((s) => s.traceId))];
    // Jaeger holds exactly the traces the processor sampled, once they are exported.
    const inJaeger = await waitFor(
      async () => {
        const counts = new Map<string, number>();
        for (const id of traceIds) {
          const n = await jaegerSpanCount(stack.jaegerUrl, id);
          if (n > 0) counts.set(id, n);
        }
        return counts.size >= decided.sampled ? counts : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000, message: 'Jaeger did not get every sampled trace' },
    );
    for (const [label, spans] of byLabel)
      if (kinds.get(label) !== 'benign')
        assert.equal(inJaeger.get(spans[0]!.traceId), 2, `${label}: both spans kept`);
    const benignKept = [...byLabel].filter(
      ([label, spans]) => kinds.get(label) === 'benign' && inJaeger.has(spans[0]!.traceId),
    ).length;
    const benign = plan.filter((k) => k === 'benign').length;
    assert.ok(benignKept < benign, 'the benign traces were sampled, not all kept');
    const kept = new Set(inJaeger.keys());
    const spansKept = [...inJaeger.values()].reduce((a, b) => a + b, 0);
    const bytesAll = all.reduce((a, s) => a + s.bytes, 0);
    const bytesKept = all.filter((s) => kept.has(s.traceId)).reduce((a, s) => a + s.bytes, 0);
    assert.equal(
      spansKept,
      all.filter((s) => kept.has(s.traceId)).length,
      'Jaeger holds every span of a kept trace',
    );
    process.stderr.write(
      `tail sampling, default share: ${plan.length} calls, ${traceIds.length} traces, ${all.length} spans sent; ` +
        `Jaeger kept ${kept.size} traces, ${spansKept} spans (${((100 * spansKept) / all.length).toFixed(1)} %), ` +
        `${bytesKept} of ${bytesAll} OTLP/JSON bytes (${((100 * bytesKept) / bytesAll).toFixed(1)} %); ` +
        `benign calls kept ${benignKept} of ${benign}\n`,
    );
  });
});
