// Beyond one machine (docs/scale.md), the sharded store: the gateway topology pushing to Thanos,
// every part real, on loopback. An agent collector (collector/gateway.yaml) load-balances by trace
// ID to two gateways (collector/config.yaml + collector/scale-out.yaml), which remote-write to a
// `thanos receive`; two receivers share one hashring with replication factor 1, so each series is
// stored on exactly one of them. `thanos query` reads both receivers and the ruler; `thanos rule`
// evaluates collector/rules/mcp-audit-alerts.yml, unchanged, through it, its recording rules'
// output read back from its own TSDB. Instrumented agents and stdio servers make the sessions.
//
// It checks what an operator would: exact per-session counts through the querier; that the
// series are sharded (each receiver's own TSDB holds some of them, neither all, none twice); that
// alerts fire in the ruler for the right sessions only, McpErrorThenRetry among them (it reads
// recording rules); and that a receiver stopped and started on its TSDB path loses no count
// (the gateways' remote-write queue retries what could not be written meanwhile).
//
//   npm run build && flock /tmp/e2e.lock node --import tsx --test test/e2e/scale-out-thanos.test.ts
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { killAll } from '../support/proc.js';
import { expectedCounts, lookup, runSession, type Call, type Session } from '../support/scale-sessions.js';
import { REPO_ROOT, startStack, waitFor, type PromSample, type Stack } from '../support/stack.js';
import { rulerAlerts, startThanos, thanosQuery, type ThanosStore } from '../support/thanos.js';

const RUN = `thanos-${process.pid}`;
const SERVICE = 'scale-thanos-agent';
const session = (name: string, caller: string, calls: Call[]): Session => ({
  id: `${RUN}-${name}`,
  caller,
  calls,
});

const BENIGN = session('benign', 'user:scale', [lookup('a1'), lookup('a2'), lookup('a3')]);
const BULK = session('bulk', 'user:scale', [
  lookup('b1'),
  { tool: 'bulk_lookup', arguments: { label: 'b2' } },
]);
const ANONYMOUS = session('anonymous', '', [
  { tool: 'db_query', arguments: { label: 'c1', sql: 'SELECT 1 WHERE id = 7' } },
  { tool: 'db_query', arguments: { label: 'c2', sql: 'SELECT 1 WHERE id = 8' } },
]);
// A failed call, then a different tool: McpErrorThenRetry, which compares recorded timestamps.
const RETRY = session('retry', 'user:scale', [
  { tool: 'flaky', arguments: { label: 'g1' } },
  lookup('g2'),
  lookup('g3'),
]);
const MIXED = session('mixed', 'user:scale', [
  ...['d1', 'd2', 'd3', 'd4'].map(lookup),
  { tool: 'contact_lookup', arguments: { label: 'd5' } },
]);
const BEFORE = [BENIGN, BULK, ANONYMOUS, RETRY, MIXED];
// While a receiver is down.
const DURING = [
  session('during-1', 'user:scale', ['e1', 'e2', 'e3', 'e4', 'e5'].map(lookup)),
  session('during-2', 'user:scale', [lookup('f1'), lookup('f2')]),
  session('during-3', 'user:other', ['h1', 'h2', 'h3'].map(lookup)),
];

const OURS = `service_name="${SERVICE}", session_id=~"${RUN}-.*"`;

const countsOf = (rows: PromSample[]): Record<string, number> =>
  Object.fromEntries(rows.map((r) => [r.metric.session_id!, Number(r.value[1])]).sort());

/** Calls per session, summed over gateways and receivers, as the querier answers. */
async function countsAt(store: ThanosStore): Promise<Record<string, number>> {
  return countsOf(
    await thanosQuery(store.queryUrl, `sum by (session_id) (mcp_audit_tool_calls_total{${OURS}})`),
  );
}

async function waitForCounts(store: ThanosStore, want: Record<string, number>, what: string): Promise<void> {
  let last: unknown;
  await waitFor(
    async () => {
      last = await countsAt(store).catch((error: Error) => error.message);
      return JSON.stringify(last) === JSON.stringify(want);
    },
    { timeoutMs: 90_000, intervalMs: 500, message: `${what}: want ${JSON.stringify(want)}` },
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last answer ${JSON.stringify(last)}`);
  });
}

/**
 * This run's call-count series by the receiver that holds them (undeduplicated, each series keeps
 * its receiver's `receive_replica`), as label sets without that label.
 */
async function shards(store: ThanosStore): Promise<string[][]> {
  const rows = await thanosQuery(store.queryUrl, `mcp_audit_tool_calls_total{${OURS}}`, { dedup: false });
  return store.receiverLabels.map((receiver) =>
    rows
      .filter((r) => r.metric.receive_replica === receiver)
      .map(({ metric }) => {
        const { receive_replica: _replica, ...rest } = metric;
        return JSON.stringify(Object.entries(rest).sort());
      })
      .sort(),
  );
}

/** Asserts the series are split over the receivers, none on two, and their counts add up exactly. */
async function assertSharded(store: ThanosStore, sessions: Session[]): Promise<string[][]> {
  const held = await shards(store);
  const all = held.flat();
  assert.equal(new Set(all).size, all.length, 'a series stored on two receivers (replication factor is 1)');
  for (const [i, shard] of held.entries()) {
    assert.ok(shard.length > 0, `receiver ${i + 1} holds none of the ${all.length} series`);
    assert.ok(shard.length < all.length, `receiver ${i + 1} holds all ${all.length} series`);
  }
  // Each receiver's own counts, added up, are the querier's: every call is held exactly once.
  const rows = await thanosQuery(
    store.queryUrl,
    `sum by (session_id, receive_replica) (mcp_audit_tool_calls_total{${OURS}})`,
    { dedup: false },
  );
  assert.deepEqual(
    new Set(rows.map((r) => r.metric.receive_replica)),
    new Set(store.receiverLabels),
    'both receivers hold calls of this run',
  );
  const summed: Record<string, number> = {};
  for (const r of rows)
    summed[r.metric.session_id!] = (summed[r.metric.session_id!] ?? 0) + Number(r.value[1]);
  assert.deepEqual(
    countsOf(
      Object.entries(summed).map(([session_id, n]) => ({ metric: { session_id }, value: [0, String(n)] })),
    ),
    expectedCounts(sessions),
    `per receiver: ${JSON.stringify(rows.map((r) => [r.metric.receive_replica, r.metric.session_id, r.value[1]]))}`,
  );
  return held;
}

describe('scale-out: two gateways, a sharded Thanos store (two receivers), thanos rule', () => {
  let store: ThanosStore;
  let stack: Stack;

  before(async () => {
    store = await startThanos({
      rulesFile: join(REPO_ROOT, 'collector', 'rules', 'mcp-audit-alerts.yml'),
      receivers: 2,
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

  it('counts every call of every session exactly, the series sharded over the two receivers', async () => {
    await Promise.all(BEFORE.map((s) => runSession(stack, s, SERVICE)));
    await waitForCounts(store, expectedCounts(BEFORE), 'the querier');
    await assertSharded(store, BEFORE);

    // Both gateways pushed.
    const gateways = await thanosQuery(
      store.queryUrl,
      `count by (gateway) (mcp_audit_tool_calls_total{${OURS}})`,
    );
    assert.deepEqual(gateways.map((g) => g.metric.gateway).sort(), ['gateway-1', 'gateway-2']);
    // Ended sessions still count 20 minutes on (the querier's lookback, as metric_expiration).
    const later = await thanosQuery(
      store.queryUrl,
      `sum by (session_id) (mcp_audit_tool_calls_total{${OURS}})`,
      {
        timeSeconds: Math.floor(Date.now() / 1000) + 20 * 60,
      },
    );
    assert.deepEqual(
      countsOf(later),
      expectedCounts(BEFORE),
      'the counts of ended sessions, 20 minutes later',
    );
  });

  it('fires the same alerts in thanos rule, for the right sessions only, recording rules included', async () => {
    const firing = async (alertname: string, s: Session) =>
      waitFor(
        async () =>
          (await rulerAlerts(store.ruleUrl)).find(
            (a) => a.labels.alertname === alertname && a.labels.session_id === s.id && a.state === 'firing',
          ),
        {
          timeoutMs: 90_000,
          intervalMs: 500,
          message: `${alertname} did not fire in thanos rule for ${s.id}`,
        },
      );
    const bulk = await firing('McpBulkExtraction', BULK);
    assert.equal(bulk.labels.tool, 'bulk_lookup');
    assert.equal(bulk.labels.threshold, '100 KiB');
    assert.equal(Number(bulk.value), 1);
    const anonymous = await firing('McpSensitiveToolWithoutCaller', ANONYMOUS);
    assert.equal(anonymous.labels.tool, 'db_query');
    assert.equal(anonymous.labels.caller, 'none');
    assert.equal(Number(anonymous.value), 2);
    // An ordering rule: it fires only from the recorded timestamps (its other half looks 270 s back).
    const retry = await firing('McpErrorThenRetry', RETRY);
    assert.equal(retry.labels.failed_tool, 'flaky');
    assert.equal(retry.labels.tool, 'lookup');
    const recorded = await thanosQuery(
      store.queryUrl,
      `mcp_audit:tool_error_time:first{session_id="${RETRY.id}", tool="flaky"}`,
      { dedup: false },
    );
    assert.deepEqual(
      recorded.map((r) => r.metric.ruler),
      ['1'],
      "the recording rule output, once, from the ruler's Store API",
    );

    const ours = (await rulerAlerts(store.ruleUrl)).filter((a) => a.labels.session_id?.startsWith(RUN));
    assert.deepEqual(
      ours.filter((a) => a.labels.session_id === BENIGN.id).map((a) => a.labels.alertname),
      [],
    );
    assert.deepEqual(
      ours
        .filter((a) =>
          ['McpBulkExtraction', 'McpSensitiveToolWithoutCaller', 'McpErrorThenRetry'].includes(
            a.labels.alertname!,
          ),
        )
        .map((a) => `${a.labels.alertname} ${a.labels.session_id}`)
        .sort(),
      [
        `McpBulkExtraction ${BULK.id}`,
        `McpErrorThenRetry ${RETRY.id}`,
        `McpSensitiveToolWithoutCaller ${ANONYMOUS.id}`,
      ],
    );
  });

  it('loses no count while a receiver restarts on its TSDB path', async () => {
    const all = [...BEFORE, ...DURING];
    const shardsBefore = await shards(store);
    await store.stopReceiver(1);

    // Down: writes whose series hash to it fail and stay in the gateways' queues.
    await Promise.all(DURING.map((s) => runSession(stack, s, SERVICE)));

    await store.startReceiver(1);
    await waitForCounts(store, expectedCounts(all), 'the querier after the restart');
    const shardsAfter = await assertSharded(store, all);
    // Series of the calls made while it was down are on it now, every metric of them counted (tens
    // of series: some hash to it): written once it was back, none lost.
    const during = await thanosQuery(
      store.queryUrl,
      `count by (receive_replica) ({__name__=~"mcp_audit_.+", session_id=~"${RUN}-during-.*"})`,
      { dedup: false },
    );
    assert.ok(
      during.some((r) => r.metric.receive_replica === store.receiverLabels[1] && Number(r.value[1]) > 0),
      `receiver 2 holds no series of the calls made while it was down: ${JSON.stringify(during)}`,
    );
    // What each receiver held before the restart it still holds (receiver 2 from its TSDB path).
    for (const [i, shard] of shardsBefore.entries())
      for (const series of shard)
        assert.ok(shardsAfter[i]!.includes(series), `receiver ${i + 1} lost ${series}`);

    const names = (await rulerAlerts(store.ruleUrl))
      .filter((a) => a.state === 'firing' && a.labels.session_id?.startsWith(RUN))
      .map((a) => `${a.labels.alertname} ${a.labels.session_id}`);
    assert.ok(names.includes(`McpBulkExtraction ${BULK.id}`), names.join(', '));
    assert.ok(names.includes(`McpSensitiveToolWithoutCaller ${ANONYMOUS.id}`), names.join(', '));
  });
});
