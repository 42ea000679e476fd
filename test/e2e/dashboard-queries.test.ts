// Every query of the Grafana dashboards, run against the real stack (otelcol-mcp, Jaeger v2,
// Prometheus loading collector/rules) after a small MCP session: each PromQL expression of
// every panel and variable must parse and return at least one series, every variable must
// list the session's values, and the Jaeger search of the session dashboard, sent exactly
// as Grafana's Jaeger datasource sends it, must find every trace of the session; the trace
// view link (GET /api/traces/<id>) must open each of them. No Grafana runs here: the queries
// are read from the committed dashboard JSON (dashboards/mcp-audit/*.json).
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { OUTPUT_DIR } from '../../dashboards/src/generate.js';
import {
  jaegerSearches,
  labelValuesSelector,
  logfmtToJson,
  panels,
  promQueries,
  substitute,
  variables,
  type PromQuery,
  type VariableValues,
} from '../../dashboards/src/queries.js';
import { REPO_ROOT, startStack, waitFor, type Stack } from '../support/stack.js';

type Json = Record<string, any>;

const SESSION = `dash-${randomBytes(4).toString('hex')}`;
const SERVICE = 'mcp-audit-dashboards-e2e';
const SPAN_KIND_CLIENT = 3;
const STATUS_ERROR = 2;

interface Call {
  tool: string;
  server: string;
  caller?: string;
  bytes: number;
  ms: number;
  error?: string;
  /** mcp_audit.arguments.risk */
  risk?: string[];
  /** mcp_audit.result.pii.classes and .class_counts */
  pii?: Record<string, number>;
  /** The call ran past the in-flight mark: its trace holds a marker span too. */
  marked?: boolean;
}

// A small session that lights every panel: two servers, three tools, a caller-less call of a
// sensitive tool (McpSensitiveToolWithoutCaller), a result over 100 KiB (McpBulkExtraction) of a
// whole-table read with personal data that ran past the in-flight mark (the signal panels), a
// tool_error followed by a retry, and a JSON-RPC error of the tool the tool dashboard shows.
const CALLS: Call[] = [
  { tool: 'db_query', server: 'finance-db', caller: 'user:sarah', bytes: 2048, ms: 40 },
  { tool: 'db_query', server: 'finance-db', caller: 'user:sarah', bytes: 0, ms: 8, error: '-32602' },
  {
    tool: 'db_query',
    server: 'finance-db',
    caller: 'user:sarah',
    bytes: 204_800,
    ms: 6000,
    risk: ['unbounded_read'],
    pii: { email: 1200, ssn: 1200 },
    marked: true,
  },
  { tool: 'file_read', server: 'files', caller: 'user:sarah', bytes: 0, ms: 12, error: 'tool_error' },
  { tool: 'file_read', server: 'files', caller: 'user:sarah', bytes: 512, ms: 15 },
  { tool: 'slack_send', server: 'messaging', bytes: 64, ms: 25 },
];
const TOOL = 'db_query';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
const strings = (key: string, values: string[]) => ({
  key,
  value: { arrayValue: { values: values.map((v) => ({ stringValue: v })) } },
});
const ints = (key: string, values: number[]) => ({
  key,
  value: { arrayValue: { values: values.map((v) => ({ intValue: String(v) })) } },
});
const SPAN_KIND_INTERNAL = 1;
/** Each trace's spans' attributes as Jaeger tags (strings), to tell which traces a search must find. */
const traceTags = new Map<string, Array<Record<string, string>>>();

function otlpSession(): { body: Json; traceIds: string[] } {
  const now = BigInt(Date.now()) * 1_000_000n;
  const traceIds: string[] = [];
  const spans = CALLS.map((c, i) => {
    const traceId = hex(16);
    traceIds.push(traceId);
    const start = now - BigInt((CALLS.length - i) * 1000) * 1_000_000n;
    const attributes: Json[] = [
      str('mcp.method.name', 'tools/call'),
      str('gen_ai.operation.name', 'execute_tool'),
      str('gen_ai.tool.name', c.tool),
      str('gen_ai.conversation.id', SESSION),
      str('mcp_audit.server.name', c.server),
      str('jsonrpc.request.id', String(i + 1)),
      { key: 'mcp_audit.result.size', value: { intValue: String(c.bytes) } },
    ];
    if (c.caller) attributes.push(str('enduser.id', c.caller));
    if (c.error) attributes.push(str('error.type', c.error));
    if (c.risk) attributes.push(strings('mcp_audit.arguments.risk', c.risk));
    if (c.pii) {
      const classes = Object.keys(c.pii).sort();
      attributes.push(strings('mcp_audit.result.pii.classes', classes));
      attributes.push(
        ints(
          'mcp_audit.result.pii.class_counts',
          classes.map((k) => c.pii![k]!),
        ),
      );
      const count = classes.reduce((n, k) => n + c.pii![k]!, 0);
      attributes.push({ key: 'mcp_audit.result.pii.count', value: { intValue: String(count) } });
    }
    const spanId = hex(8);
    const spans: Json[] = [
      {
        traceId,
        spanId,
        name: `tools/call ${c.tool}`,
        kind: SPAN_KIND_CLIENT,
        startTimeUnixNano: String(start),
        endTimeUnixNano: String(start + BigInt(c.ms) * 1_000_000n),
        attributes,
        status: c.error ? { code: STATUS_ERROR, message: c.error } : {},
      },
    ];
    if (c.marked) {
      // What src/instrumentation/in-flight.ts emits at the mark: a zero-length child of the call.
      const at = String(start + 5000n * 1_000_000n);
      const labels = attributes.filter((a) =>
        ['gen_ai.tool.name', 'gen_ai.conversation.id', 'mcp_audit.server.name', 'enduser.id'].includes(a.key),
      );
      spans.push({
        traceId,
        spanId: hex(8),
        parentSpanId: spanId,
        name: 'mcp_audit in_flight',
        kind: SPAN_KIND_INTERNAL,
        startTimeUnixNano: at,
        endTimeUnixNano: at,
        attributes: [...labels, { key: 'mcp_audit.in_flight', value: { boolValue: true } }],
        status: {},
      });
    }
    traceTags.set(
      traceId,
      spans.map((span) =>
        Object.fromEntries(
          (span.attributes as Json[]).map((a) => [a.key, String(Object.values(a.value as Json)[0])]),
        ),
      ),
    );
    return spans;
  }).flat();
  return {
    traceIds,
    body: {
      resourceSpans: [
        {
          resource: { attributes: [str('service.name', SERVICE)] },
          scopeSpans: [{ scope: { name: 'mcp-audit-dashboards-e2e' }, spans }],
        },
      ],
    },
  };
}

function committed(): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const f of readdirSync(OUTPUT_DIR).filter((f) => f.endsWith('.json'))) {
    out[f] = JSON.parse(readFileSync(join(OUTPUT_DIR, f), 'utf8'));
  }
  return out;
}

/** Whether a panel target is a range query in Grafana (instant ones are evaluated once). */
function isInstant(d: Json, q: PromQuery): boolean {
  for (const p of panels(d))
    for (const t of p.targets ?? [])
      if (`panel ${p.id} '${p.title}' ${t.refId}` === q.where) return t.instant === true;
  return true; // variables: evaluated like an instant series lookup
}

async function prom(stack: Stack, path: string, params: Record<string, string | string[]>): Promise<Json> {
  const url = new URL(path, stack.prometheusUrl!);
  for (const [k, v] of Object.entries(params)) for (const x of [v].flat()) url.searchParams.append(k, x);
  const response = await fetch(url);
  const body = (await response.json()) as Json;
  if (body.status !== 'success')
    throw new Error(`${path} ${JSON.stringify(params)}: ${body.error ?? response.status}`);
  return body.data;
}

/** Runs a query as Grafana would: instant, or a range over the last 5 minutes. */
async function run(stack: Stack, expr: string, instant: boolean): Promise<Json[]> {
  const nowS = Date.now() / 1000;
  const data = instant
    ? await prom(stack, '/api/v1/query', { query: expr, time: String(nowS) })
    : await prom(stack, '/api/v1/query_range', {
        query: expr,
        start: String(nowS - 300),
        end: String(nowS),
        step: '5',
      });
  return data.result as Json[];
}

describe('dashboard queries against the real stack', { timeout: 30 * 60_000 }, () => {
  let stack: Stack;
  let traceIds: string[];
  const dashboards = committed();
  const values: VariableValues = {
    session_id: SESSION,
    tool: TOOL,
    service: SERVICE,
    server: '.*',
    rateInterval: '1m',
    range: '1h',
  };

  before(async () => {
    stack = await startStack({ withPrometheus: true });
    const session = otlpSession();
    traceIds = session.traceIds;
    const response = await fetch(`${stack.otlpHttpEndpoint}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(session.body),
    });
    assert.equal(response.status, 200, await response.text());
    // Two scrapes of the session's series, so rate() has two samples.
    await waitFor(
      async () => {
        const r = await prom(stack, '/api/v1/query', {
          query: `count_over_time(mcp_audit_tool_calls_total{session_id="${SESSION}", tool="${TOOL}"}[1m])`,
        });
        return r.result.length > 0 && Number(r.result[0].value[1]) >= 3;
      },
      { timeoutMs: 60_000, intervalMs: 500, message: `Prometheus never scraped the session ${SESSION}` },
    );
  });

  after(async () => {
    await stack?.stop();
  });

  it('every variable lists the session, the tool, the server and the service', async () => {
    const expected: Record<string, string> = {
      session_id: SESSION,
      tool: TOOL,
      server: 'finance-db',
      service: SERVICE,
    };
    let checked = 0;
    for (const [name, d] of Object.entries(dashboards)) {
      for (const v of variables(d).filter((v) => v.type === 'query')) {
        // label_values(selector, label) is Grafana's call of /api/v1/label/<label>/values?match[]=<selector>
        const lv = labelValuesSelector(v.query)!;
        const selector = substitute(lv.selector!, values);
        const got = (await prom(stack, `/api/v1/label/${lv.label}/values`, {
          'match[]': selector,
        })) as string[];
        assert.ok(
          got.includes(expected[v.name]!),
          `${name} variable ${v.name} (${selector}): ${JSON.stringify(got)}`,
        );
        checked++;
      }
    }
    assert.ok(checked >= 5, `only ${checked} variables`);
  });

  it("the totals count the session's calls, and the pipeline row shows a healthy pipeline", async () => {
    const target = (file: string, title: string, refId = 'A') => {
      const p = panels(dashboards[file]!).find((x) => x.title === title);
      assert.ok(p, `${file}: no panel '${title}'`);
      const t = p.targets.find((x: Json) => x.refId === refId);
      return substitute(t.expr, values);
    };
    const instant = async (expr: string) =>
      waitFor(
        async () => {
          const r = await run(stack, expr, true);
          return r.length > 0 ? r : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 1000, message: `no series for ${expr}` },
      );
    // Reset-aware totals over the range: the session's six calls, once each.
    const top = await waitFor(
      async () => {
        const r = await run(stack, target('mcp-overview.json', 'Top sessions by calls'), true);
        const mine = r.find((x) => x.metric.session_id === SESSION);
        return mine && Number(mine.value[1]) === CALLS.length ? mine : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1000, message: `Top sessions by calls never showed ${CALLS.length}` },
    );
    assert.ok(top);
    // The pipeline row: nothing refused, dropped or failed; the queued exporters listed.
    for (const title of [
      'Spans refused by the collector',
      'Memory-limiter refusals',
      'Spans dropped by SDKs',
      'Spans failed to export',
    ]) {
      const r = await instant(target('mcp-overview.json', title));
      assert.equal(Number(r[0].value[1]), 0, `${title}: ${JSON.stringify(r)}`);
    }
    const failures = await instant(target('mcp-overview.json', 'Export failures by exporter'));
    const exporters = failures.map((x) => x.metric.exporter).sort();
    for (const e of ['file/audit', 'otlp_grpc/jaeger', 'otlp_http/evidence'])
      assert.ok(exporters.includes(e), `Export failures by exporter lists ${e}: ${exporters.join(', ')}`);
    assert.ok(failures.every((x) => Number(x.value[1]) === 0));
    const fill = await instant(target('mcp-overview.json', 'Exporter queue fill'));
    assert.deepEqual(fill.map((x) => x.metric.exporter).sort(), ['otlp_grpc/jaeger', 'otlp_http/evidence']);
    assert.ok(fill.every((x) => Number(x.value[1]) >= 0 && Number(x.value[1]) < 0.8));
  });

  it('every panel query parses and returns at least one series', async () => {
    const queries = Object.entries(dashboards).flatMap(([n, d]) =>
      promQueries(n, d).map((q) => ({ ...q, instant: isInstant(d, q), expr: substitute(q.expr, values) })),
    );
    // The provisioned Jaeger → Prometheus link (tracesToMetrics) is a query template too.
    const ds = parseYaml(
      readFileSync(join(REPO_ROOT, 'dashboards/provisioning/datasources/mcp-audit.yaml'), 'utf8'),
    );
    for (const d of ds.datasources) {
      for (const q of d.jsonData?.tracesToMetrics?.queries ?? []) {
        queries.push({
          dashboard: 'provisioning',
          where: `${d.name} tracesToMetrics '${q.name}'`,
          expr: substitute(q.query.replace(/\$\$/g, '$'), values),
          mayBeEmpty: false,
          instant: false,
        });
      }
    }
    assert.ok(queries.length >= 40);
    const empty: string[] = [];
    for (const q of queries) {
      assert.ok(!q.expr.includes('$'), `${q.where}: unsubstituted variable in ${q.expr}`);
      // Parse errors throw here (status "error"), whatever the panel.
      const result = await waitFor(
        async () => {
          const r = await run(stack, q.expr, q.instant);
          return r.length > 0 || q.mayBeEmpty ? r : undefined;
        },
        {
          timeoutMs: 20_000,
          intervalMs: 1000,
          message: `${q.dashboard} ${q.where}: no series for ${q.expr}`,
        },
      ).catch((e: Error) => {
        empty.push(e.message);
        return [];
      });
      if (q.mayBeEmpty && result.length === 0) continue;
    }
    assert.deepEqual(empty, [], `panels that show nothing after a real session:\n${empty.join('\n')}`);
  });

  it('the firing-alerts panels show the session when the rules fire on it', async () => {
    const rules = await prom(stack, '/api/v1/rules', { type: 'alert' });
    const names = new Set<string>(rules.groups.flatMap((g: Json) => g.rules.map((r: Json) => r.name)));
    // The rule ships in collector/rules: a Prometheus that did not load it is a failure, not a skip.
    assert.ok(
      names.has('McpSensitiveToolWithoutCaller'),
      `Prometheus loaded no McpSensitiveToolWithoutCaller rule from collector/rules (loaded: ${[...names].join(', ') || 'none'})`,
    );
    // slack_send without a caller is a sensitive call without identity: the rule must fire,
    // and the overview's firing-alerts table (the ALERTS queries) must list this session.
    const alertQueries = Object.entries(dashboards)
      .flatMap(([n, d]) => promQueries(n, d))
      .filter((q) => q.mayBeEmpty);
    assert.ok(alertQueries.length > 0);
    for (const q of alertQueries) {
      const expr = substitute(q.expr, values);
      const result = await waitFor(
        async () => {
          const r = await run(stack, expr, true);
          return r.some((s) => s.metric.session_id === SESSION) ? r : undefined;
        },
        {
          timeoutMs: 60_000,
          intervalMs: 1000,
          message: `${q.dashboard} ${q.where}: no firing alert for ${SESSION}`,
        },
      );
      assert.ok(
        result.some(
          (s) => s.metric.alertname === 'McpSensitiveToolWithoutCaller' && s.metric.tool === 'slack_send',
        ),
      );
    }
  });

  it("the session dashboard's Jaeger searches find exactly the session's traces they select, and each trace link opens", async () => {
    const searches = Object.entries(dashboards).flatMap(([n, d]) => jaegerSearches(n, d));
    assert.ok(searches.length >= 2, 'the session traces and the in-flight markers');
    for (const s of searches) {
      // The traces holding a span with every tag of the search (all of them for the session's tag
      // alone; the marked call's for the in-flight search).
      const tags = logfmtToJson(substitute(s.tags, values));
      const expected = traceIds.filter((id) =>
        traceTags.get(id)!.some((span) => Object.entries(tags).every(([k, v]) => span[k] === v)),
      );
      assert.ok(expected.length > 0, `${s.where}: the session has traces for ${s.tags}`);
      // Exactly what Grafana's Jaeger datasource sends for a search: service, tags as JSON
      // (converted from logfmt), limit, the dashboard time range in microseconds, lookback=custom.
      const url = new URL('/api/traces', stack.jaegerUrl);
      url.searchParams.set('service', substitute(s.service, values));
      url.searchParams.set('tags', JSON.stringify(tags));
      if (s.limit) url.searchParams.set('limit', String(s.limit));
      url.searchParams.set('start', String((Date.now() - 6 * 3600_000) * 1000));
      url.searchParams.set('end', String((Date.now() + 60_000) * 1000));
      url.searchParams.set('lookback', 'custom');
      const found = await waitFor(
        async () => {
          const response = await fetch(url);
          if (!response.ok) throw new Error(`GET ${url} → ${response.status}: ${await response.text()}`);
          const body = (await response.json()) as { data: Json[] | null };
          const ids = new Set((body.data ?? []).map((tr) => tr.traceID));
          return expected.every((id) => ids.has(id)) ? ids : undefined;
        },
        {
          timeoutMs: 30_000,
          intervalMs: 500,
          message: `${s.dashboard} ${s.where}: ${url} did not find the session's ${expected.length} traces`,
        },
      );
      assert.deepEqual([...found].sort(), [...expected].sort(), `${s.where}: only the traces it selects`);
    }
    // The table's Trace ID link opens the trace view, which fetches /api/traces/<id>.
    for (const id of traceIds) {
      const response = await fetch(new URL(`/api/traces/${id}`, stack.jaegerUrl));
      assert.equal(response.status, 200);
      const body = (await response.json()) as { data: Json[] };
      const span = body.data[0]!.spans.find((x: Json) => x.operationName.startsWith('tools/call '));
      assert.ok(span, `trace ${id} holds its tools/call span`);
      const tag = span.tags.find((t: Json) => t.key === 'gen_ai.conversation.id');
      assert.equal(tag?.value, SESSION);
      assert.match(span.operationName, /^tools\/call /);
    }
  });
});
