// End to end through the real collector and Prometheus: the collector derives, besides the
// per-session duration histogram, one per tool and server with no session label, whose counts are
// the sums over every session; McpLatencySpike reads that one, so its cost does not grow with the
// number of sessions, and it fires on a slow tool whose calls are spread over several sessions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promQuery, promSeries, startStack, waitFor, type Stack } from '../support/stack.js';

interface OtlpAttr {
  key: string;
  value: { stringValue: string };
}
const str = (key: string, v: string): OtlpAttr => ({ key, value: { stringValue: v } });
const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

const runId = hex(4);
const SERVICE = `tool-latency-${runId}`;
const SERVER = `lat-srv-${runId}`;
const SLOW = 'slow_lookup';
const QUICK = 'quick_lookup';
const NOW_MS = Date.now();

/** One client-side tools/call span of `durationMs` that ended now. */
function call(tool: string, session: string, durationMs: number): Record<string, unknown> {
  return {
    traceId: hex(16),
    spanId: hex(8),
    name: `tools/call ${tool}`,
    kind: 3,
    startTimeUnixNano: String(BigInt(NOW_MS - durationMs) * 1_000_000n),
    endTimeUnixNano: String(BigInt(NOW_MS) * 1_000_000n),
    attributes: [
      str('mcp.method.name', 'tools/call'),
      str('gen_ai.operation.name', 'execute_tool'),
      str('gen_ai.tool.name', tool),
      str('gen_ai.conversation.id', session),
      str('mcp_audit.server.name', SERVER),
    ],
    status: { code: 0 },
  };
}

// slow_lookup: 5 calls over two sessions, 4 of them 8-9 s (over the 5 s default), 1 of 100 ms:
// p95 = 5 + 5 * (4.75 - 1) / 4 = 9.6875 s from the buckets. quick_lookup: 3 calls of 20 ms.
const S1 = `sess-${runId}-1`;
const S2 = `sess-${runId}-2`;
const S3 = `sess-${runId}-3`;
const SPANS = [
  call(SLOW, S1, 8000),
  call(SLOW, S1, 8000),
  call(SLOW, S2, 9000),
  call(SLOW, S2, 9000),
  call(SLOW, S2, 100),
  call(QUICK, S3, 20),
  call(QUICK, S3, 20),
  call(QUICK, S3, 20),
];

let stack: Stack;

before(async () => {
  stack = await startStack({ withPrometheus: true });
  const response = await fetch(`${stack.otlpHttpEndpoint}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [str('service.name', SERVICE)] },
          scopeSpans: [{ scope: { name: 'tool-latency-e2e' }, spans: SPANS }],
        },
      ],
    }),
  });
  assert.equal(response.status, 200, await response.text());
});

after(async () => {
  await stack?.stop();
});

const sel = `service_name="${SERVICE}"`;

async function one(expr: string): Promise<number> {
  const r = await promQuery(stack.prometheusUrl!, expr);
  assert.equal(r.length, 1, `${expr} → ${JSON.stringify(r)}`);
  return Number(r[0]!.value[1]);
}

test('the per-tool latency histogram holds every session’s calls, with no session label', async () => {
  const prom = stack.prometheusUrl!;
  await waitFor(
    async () =>
      (await promQuery(prom, `sum(mcp_audit_tool_latency_seconds_count{${sel}})`))[0]?.value[1] === '8',
    { timeoutMs: 45_000, message: 'mcp_audit_tool_latency_seconds_count did not reach 8' },
  );
  assert.equal(await one(`mcp_audit_tool_latency_seconds_count{${sel},tool="${SLOW}"}`), 5);
  assert.equal(await one(`mcp_audit_tool_latency_seconds_count{${sel},tool="${QUICK}"}`), 3);
  // The same calls as the per-session histogram, bucket by bucket.
  for (const le of ['0.1', '5', '10', '+Inf']) {
    assert.equal(
      await one(`sum(mcp_audit_tool_latency_seconds_bucket{${sel},tool="${SLOW}",le="${le}"})`),
      await one(`sum(mcp_audit_tool_call_duration_seconds_bucket{${sel},tool="${SLOW}",le="${le}"})`),
      `bucket le=${le}`,
    );
  }
  assert.equal(await one(`sum(mcp_audit_tool_call_duration_seconds_count{${sel},tool="${SLOW}"})`), 5);
  const sum = await one(`mcp_audit_tool_latency_seconds_sum{${sel},tool="${SLOW}"}`);
  assert.ok(Math.abs(sum - 34.1) < 1e-6, `sum ${sum}`);

  const series = await promSeries(prom, `mcp_audit_tool_latency_seconds_bucket{${sel}}`);
  // One series per tool and bucket (15 bounds and +Inf), whatever the number of sessions.
  assert.equal(series.length, 2 * 16);
  for (const s of series) {
    assert.deepEqual(
      Object.keys(s).sort(),
      ['__name__', 'instance', 'job', 'le', 'server', 'service_name', 'tool'],
      'per-tool histogram labels',
    );
    assert.equal(s.server, SERVER);
  }
});

interface Alert {
  labels: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
  value: string;
}

async function latencyAlerts(): Promise<Alert[]> {
  const response = await fetch(new URL('/api/v1/alerts', stack.prometheusUrl!));
  const body = (await response.json()) as { status: string; data?: { alerts: Alert[] } };
  if (body.status !== 'success' || !body.data) throw new Error(`/api/v1/alerts: ${JSON.stringify(body)}`);
  return body.data.alerts.filter(
    (a) => a.labels.alertname === 'McpLatencySpike' && a.labels.service_name === SERVICE,
  );
}

test(
  'McpLatencySpike fires on the slow tool across sessions and not on the quick one',
  { timeout: 180_000 },
  async () => {
    // for: 1m in thresholds.json, so firing takes a minute of evaluations that all saw both tools.
    const alert = await waitFor(
      async () => (await latencyAlerts()).find((a) => a.state === 'firing' && a.labels.tool === SLOW),
      { timeoutMs: 150_000, intervalMs: 1000, message: 'McpLatencySpike did not fire for slow_lookup' },
    );
    assert.equal(alert.labels.server, SERVER);
    assert.equal(alert.labels.threshold, '5s');
    assert.equal(alert.labels.session_id, undefined);
    assert.ok(Math.abs(Number(alert.value) - 9.6875) < 1e-9, `p95 ${alert.value}`);
    assert.deepEqual(
      (await latencyAlerts()).filter((a) => a.labels.tool !== SLOW),
      [],
      'no latency alert for quick_lookup',
    );
  },
);
