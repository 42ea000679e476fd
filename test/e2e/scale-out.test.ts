// Beyond one machine (docs/scale.md): the gateway topology pushing to a replicated
// VictoriaMetrics store, every part real, on loopback. An agent collector (collector/gateway.yaml)
// load-balances by trace ID to two gateways (collector/config.yaml + collector/scale-out.yaml),
// which remote-write their session metrics to vmagent; vmagent writes every series to two storage
// nodes (victoria-metrics), each with a disk queue of its own; vmauth answers queries from the
// first live node; vmalert evaluates collector/rules/mcp-audit-alerts.yml, unchanged, against it.
// Instrumented agents and stdio servers (the sampling fixture) make several sessions of calls.
//
// It checks what an operator would: the exact per-session counts through the query address and
// on each node, that two alerts the single-machine replays fire (a bulk result, a sensitive tool
// with no caller) fire in vmalert for the right sessions and no alert for a benign one, and that
// a storage node stopped and started again on its data directory loses no count: while it is
// down, queries are answered by the other node (calls made meanwhile included), and once it is
// back it holds every count again (vmagent replays its queue).
//
//   npm run build && flock /tmp/e2e.lock node --import tsx --test test/e2e/scale-out.test.ts
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { killAll } from '../support/proc.js';
import {
  expectedCounts as expected,
  lookup,
  runSession as runAs,
  type Call,
  type Session,
} from '../support/scale-sessions.js';
import { REPO_ROOT, startStack, waitFor, type Stack } from '../support/stack.js';
import {
  startVictoriaMetrics,
  vmalertAlerts,
  vmQuery,
  type VictoriaMetricsStore,
} from '../support/victoriametrics.js';

const RUN = `scale-${process.pid}`;
const SERVICE = 'scale-agent';
const session = (name: string, caller: string, calls: Call[]): Session => ({
  id: `${RUN}-${name}`,
  caller,
  calls,
});

// Before the restart: a benign session (no alert), one with a result over 100 KiB
// (McpBulkExtraction), one calling a sensitive tool with no caller (McpSensitiveToolWithoutCaller),
// and one with a mix.
const BENIGN = session('benign', 'user:scale', [lookup('a1'), lookup('a2'), lookup('a3')]);
const BULK = session('bulk', 'user:scale', [
  lookup('b1'),
  { tool: 'bulk_lookup', arguments: { label: 'b2' } },
]);
const ANONYMOUS = session('anonymous', '', [
  { tool: 'db_query', arguments: { label: 'c1', sql: 'SELECT 1 WHERE id = 7' } },
  { tool: 'db_query', arguments: { label: 'c2', sql: 'SELECT 1 WHERE id = 8' } },
]);
const MIXED = session('mixed', 'user:scale', [
  ...['d1', 'd2', 'd3', 'd4'].map(lookup),
  { tool: 'contact_lookup', arguments: { label: 'd5' } },
  { tool: 'flaky', arguments: { label: 'd6' } },
]);
// While a storage node is down.
const DURING = [
  session('during-1', 'user:scale', ['e1', 'e2', 'e3', 'e4', 'e5'].map(lookup)),
  session('during-2', 'user:scale', [lookup('f1'), lookup('f2')]),
];

const runSession = (stack: Stack, s: Session): Promise<void> => runAs(stack, s, SERVICE);

/** Calls per session of this run, summed over gateways, as `baseUrl` answers. */
async function countsAt(baseUrl: string, timeSeconds?: number): Promise<Record<string, number>> {
  const rows = await vmQuery(
    baseUrl,
    `sum by (session_id) (mcp_audit_tool_calls_total{service_name="${SERVICE}", session_id=~"${RUN}-.*"})`,
    timeSeconds,
  );
  return Object.fromEntries(rows.map((r) => [r.metric.session_id!, Number(r.value[1])]).sort());
}

/** Waits until `baseUrl` answers exactly `want`; the failure says what it answered last. */
async function waitForCounts(baseUrl: string, want: Record<string, number>, what: string): Promise<void> {
  let last: unknown;
  await waitFor(
    async () => {
      last = await countsAt(baseUrl);
      return JSON.stringify(last) === JSON.stringify(want);
    },
    { timeoutMs: 60_000, intervalMs: 500, message: `${what}: want ${JSON.stringify(want)}` },
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last answer ${JSON.stringify(last)}`);
  });
}

describe('scale-out: two gateways, a replicated VictoriaMetrics store, vmalert', () => {
  let store: VictoriaMetricsStore;
  let stack: Stack;

  before(async () => {
    store = await startVictoriaMetrics({
      rulesFile: join(REPO_ROOT, 'collector', 'rules', 'mcp-audit-alerts.yml'),
      nodes: 2,
    });
    stack = await startStack({
      topology: 'gateways',
      withPrometheus: false,
      extraCollectorConfigs: ['collector/scale-out.yaml'],
      collectorEnv: { MCP_AUDIT_REMOTE_WRITE_ENDPOINT: store.remoteWriteUrl },
    });
  });

  after(async () => {
    await stack?.stop();
    await store?.stop();
    killAll();
  });

  it('counts every call of every session exactly, on each storage node, across both gateways', async () => {
    const sessions = [BENIGN, BULK, ANONYMOUS, MIXED];
    await Promise.all(sessions.map((s) => runSession(stack, s)));

    await waitForCounts(store.queryUrl, expected(sessions), 'the query address');
    // vmagent sends to each node on its own: the second can be a flush behind the first.
    for (const [i, url] of store.nodeUrls.entries())
      await waitForCounts(url, expected(sessions), `storage node ${i + 1}`);

    // A pushed series gets a sample only when it changes; the sessions above have ended, and their
    // counts must still read the same 20 minutes on, as the scrape path shows them until
    // metric_expiration (60m). Without -search.minStalenessInterval they read empty by then.
    assert.deepEqual(
      await countsAt(store.queryUrl, Math.floor(Date.now() / 1000) + 20 * 60),
      expected(sessions),
      'the counts of ended sessions, 20 minutes later',
    );

    // Both gateways pushed (each counts the calls routed to it; the sums above are over both).
    const gateways = await vmQuery(
      store.queryUrl,
      `count by (gateway) (mcp_audit_tool_calls_total{session_id=~"${RUN}-.*"})`,
    );
    assert.deepEqual(gateways.map((g) => g.metric.gateway).sort(), ['gateway-1', 'gateway-2']);

    // The series the rules read, named as on the scrape path: errors, bytes, size buckets.
    const sel = `service_name="${SERVICE}", session_id="${MIXED.id}"`;
    const value = async (expr: string): Promise<number> =>
      Number((await vmQuery(store.queryUrl, expr))[0]?.value[1]);
    assert.equal(await value(`sum(mcp_audit_tool_errors_total{${sel}})`), 1);
    assert.equal(await value(`sum(mcp_audit_result_size_bytes_count{${sel}})`), MIXED.calls.length);
    assert.equal(
      await value(`sum(mcp_audit_result_size_bytes_bucket{${sel}, le="+Inf"})`),
      MIXED.calls.length,
    );
    assert.ok((await value(`sum(mcp_audit_result_bytes_total{${sel}})`)) > 0);
    const labels = await vmQuery(store.queryUrl, `mcp_audit_tool_calls_total{${sel}, tool="lookup"}`);
    for (const series of labels)
      for (const name of ['session_id', 'tool', 'caller', 'server', 'service_name', 'gateway'])
        assert.ok(series.metric[name], `label ${name} on ${JSON.stringify(series.metric)}`);
    // No target_info and no scope labels: the label set is the contract's.
    assert.deepEqual(await vmQuery(store.queryUrl, 'target_info'), []);
    for (const series of labels)
      assert.deepEqual(
        Object.keys(series.metric).filter((k) => k.startsWith('otel_scope')),
        [],
        JSON.stringify(series.metric),
      );
  });

  it('fires the same alerts in vmalert as on one machine, for the right sessions only', async () => {
    const firing = async (alertname: string, s: Session) =>
      waitFor(
        async () =>
          (await vmalertAlerts(store.vmalertUrl)).find(
            (a) => a.labels.alertname === alertname && a.labels.session_id === s.id && a.state === 'firing',
          ),
        { timeoutMs: 60_000, intervalMs: 500, message: `${alertname} did not fire in vmalert for ${s.id}` },
      );
    const bulk = await firing('McpBulkExtraction', BULK);
    assert.equal(bulk.labels.tool, 'bulk_lookup');
    assert.equal(bulk.labels.caller, 'user:scale');
    assert.equal(bulk.labels.threshold, '100 KiB');
    assert.equal(Number(bulk.value), 1);
    const anonymous = await firing('McpSensitiveToolWithoutCaller', ANONYMOUS);
    assert.equal(anonymous.labels.tool, 'db_query');
    assert.equal(anonymous.labels.caller, 'none');
    assert.equal(anonymous.labels.severity, 'critical');
    assert.equal(Number(anonymous.value), 2);

    // Those two fired, so every rule has been evaluated over all four sessions: the benign one
    // has no alert, and the two alerts fired for no other session of this run.
    const ours = (await vmalertAlerts(store.vmalertUrl)).filter((a) => a.labels.session_id?.startsWith(RUN));
    assert.deepEqual(
      ours.filter((a) => a.labels.session_id === BENIGN.id).map((a) => a.labels.alertname),
      [],
    );
    assert.deepEqual(
      ours
        .filter(
          (a) =>
            a.labels.alertname === 'McpBulkExtraction' ||
            a.labels.alertname === 'McpSensitiveToolWithoutCaller',
        )
        .map((a) => `${a.labels.alertname} ${a.labels.session_id}`)
        .sort(),
      [`McpBulkExtraction ${BULK.id}`, `McpSensitiveToolWithoutCaller ${ANONYMOUS.id}`],
    );
    // vmalert wrote the alert state back through the ingest tier, like Prometheus' ALERTS series.
    await waitFor(
      async () =>
        (
          await vmQuery(
            store.queryUrl,
            `ALERTS{alertname="McpBulkExtraction", session_id="${BULK.id}", alertstate="firing"}`,
          )
        ).length === 1,
      { timeoutMs: 30_000, message: 'no ALERTS series for the bulk alert' },
    );
  });

  it('loses no count while a storage node restarts on its data directory', async () => {
    const before = [BENIGN, BULK, ANONYMOUS, MIXED];
    const all = [...before, ...DURING];
    await store.stopNode(0);

    // Down: the query address answers from the other node, calls made meanwhile included.
    await Promise.all(DURING.map((s) => runSession(stack, s)));
    await waitForCounts(store.queryUrl, expected(all), 'the query address with node 1 down');
    assert.deepEqual(await countsAt(store.nodeUrls[1]!), expected(all), 'node 2 with node 1 down');
    await assert.rejects(countsAt(store.nodeUrls[0]!), 'node 1 is down');

    // Back on the same data directory: what it held survives, and vmagent's queue brings what it missed.
    await store.startNode(0);
    await waitForCounts(store.nodeUrls[0]!, expected(all), 'node 1 after its restart');
    assert.deepEqual(await countsAt(store.queryUrl), expected(all), 'the query address after the restart');

    // The alerts kept firing through the restart.
    const names = (await vmalertAlerts(store.vmalertUrl))
      .filter((a) => a.state === 'firing' && a.labels.session_id?.startsWith(RUN))
      .map((a) => `${a.labels.alertname} ${a.labels.session_id}`);
    assert.ok(names.includes(`McpBulkExtraction ${BULK.id}`), names.join(', '));
    assert.ok(names.includes(`McpSensitiveToolWithoutCaller ${ANONYMOUS.id}`), names.join(', '));
  });
});
