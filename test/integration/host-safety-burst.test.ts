// A burst from one process: 500 concurrent sessions × 100 calls (50,000 tool calls, 101,000 spans
// with both sides in the process). Every span is delivered to a real OTLP/HTTP receiver or counted
// as lost on the process's stderr: counted by span id, nothing silently missing, no duplicates.
import { strict as assert } from 'node:assert';
import { after, it } from 'node:test';
import { startOtlpReceiver } from '../support/otlp-receiver.js';
import { FIXTURES, REGISTER_ESM, killAll, otlpEnv, runNode } from '../support/proc.js';

const SESSIONS = 500;
const CALLS = 100;
// Per session: initialize + CALLS tools/call, each with a client and a server span.
const SPANS = SESSIONS * (CALLS + 1) * 2;

after(killAll);

// 101,000 spans through the real exporter take one to two minutes on 2 cores, more when the other
// test files of the batch run beside it: this test gets the bound of its agent run.
it(
  `a burst of ${SESSIONS * CALLS} calls from one process is delivered whole or every missing span is counted`,
  { timeout: 600_000 },
  async () => {
    const receiver = await startOtlpReceiver();
    after(() => receiver.close());
    const r = await runNode(
      ['--import', REGISTER_ESM, `${FIXTURES}burst-agent.mjs`],
      {
        ...otlpEnv(receiver.url, 'burst-agent'),
        SESSIONS: String(SESSIONS),
        CALLS: String(CALLS),
        OTEL_BSP_SCHEDULE_DELAY: '200',
      },
      600_000,
    );
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { calls: number; elapsedMs: number; peakRss: number };
    assert.equal(out.calls, SESSIONS * CALLS);
    const lost = /mcp-audit: could not deliver (\d+) spans/.exec(r.stderr);
    const counted = lost ? Number(lost[1]) : 0;
    const ids = new Set(receiver.spans.map((s) => s.spanId));
    assert.equal(ids.size, receiver.spans.length, 'a span arrived twice');
    assert.equal(ids.size + counted, SPANS, `received ${ids.size}, counted lost ${counted}:\n${r.stderr}`);
    const toolCalls = receiver.spans.filter(
      (s) => s.kind === 3 && s.attributes['mcp.method.name'] === 'tools/call',
    );
    process.stdout.write(
      `# burst: ${out.calls} calls in ${out.elapsedMs} ms (${Math.round(out.calls / (out.elapsedMs / 1000))}/s), ` +
        `${toolCalls.length} client tool spans received, ${counted} spans counted lost, peak RSS ${Math.round(out.peakRss / 2 ** 20)} MiB\n`,
    );
    // The self-metric reached the receiver with the SDK's other metrics when anything was lost.
    if (counted > 0)
      assert.ok(receiver.metricNames.has('mcp_audit.dropped_spans'), [...receiver.metricNames].join(','));
  },
);
