// Native spans from another SDK get the audit view. A Python MCP server on the PyPI `mcp` package
// (2.x: its OpenTelemetryMiddleware emits a SERVER span per request; the fixture only adds an SDK
// and an OTLP exporter, no mcp-audit code) exports to the real otelcol-mcp, called over stdio by a
// TypeScript agent twice: under `--import mcp-audit/register` (instrumented client) and without it
// (uninstrumented client). Checked through the real collector, Jaeger and Prometheus:
// - the trace links the TS CLIENT span and the Python SERVER span through `_meta`;
// - each call is counted once (the client side, or the Python side alone without a client span);
// - McpSensitiveToolWithoutCaller fires on the Python server's spans alone;
// - what the Python side exported in clear (a card number and an e-mail address in a span status
//   message, an e-mail in its resource) is masked by the collector's redaction.
//
//   npm run build && node --import tsx --test test/e2e/python-native-server.test.ts
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { REGISTER_ESM, ROOT, killAll, runNode } from '../support/proc.js';
import {
  jaegerTraces,
  promQuery,
  readAuditFile,
  startStack,
  waitFor,
  type JaegerSpan,
  type Stack,
} from '../support/stack.js';

const AGENT = `${ROOT}test/fixtures/compat-python/agent.mjs`;
const SERVER_SERVICE = 'py-native-server';
const CARD = '4111 1111 1111 1111';
const EMAIL = 'jane.doe@example.com';
const OWNER = 'owner.clear@example.org';

let stack: Stack;
let pythonEnv: Record<string, string>;
const runs: Record<'instrumented' | 'bare', { code: number | null; stdout: string; stderr: string }> = {
  instrumented: { code: null, stdout: '', stderr: '' },
  bare: { code: null, stdout: '', stderr: '' },
};

interface Alert {
  labels: Record<string, string>;
  state: string;
}

async function firingAlerts(name: string): Promise<Alert[]> {
  const response = await fetch(new URL('/api/v1/alerts', stack.prometheusUrl!));
  const body = (await response.json()) as { data: { alerts: Alert[] } };
  return body.data.alerts.filter((a) => a.labels.alertname === name && a.state === 'firing');
}

async function calls(selector: string): Promise<number> {
  const result = await promQuery(stack.prometheusUrl!, `sum(mcp_audit_tool_calls_total{${selector}})`);
  return result.length === 0 ? 0 : Number(result[0]!.value[1]);
}

const tag = (span: JaegerSpan, key: string) => span.tags.find((t) => t.key === key)?.value;

before(async () => {
  // The project venv with the `mcp` package, plus the OpenTelemetry SDK and exporter beside it.
  const { stdout } = await promisify(execFile)('bash', [`${ROOT}scripts/compat-python-otel.sh`], {
    cwd: ROOT,
    timeout: 10 * 60 * 1000,
  });
  pythonEnv = Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  assert.ok(pythonEnv.PYTHON && pythonEnv.PYTHONPATH, stdout);
  stack = await startStack({ withPrometheus: true, evalInterval: '1s', scrapeInterval: '1s' });
  const env = {
    ...pythonEnv,
    OTEL_EXPORTER_OTLP_ENDPOINT: stack.otlpHttpEndpoint,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    MCP_AUDIT_FILE: 'off',
    // Read by the Python SDK for its resource: a value the server exports in clear.
    OTEL_RESOURCE_ATTRIBUTES: `service.owner=${OWNER}`,
  };
  runs.instrumented = await runNode(['--import', REGISTER_ESM, AGENT], {
    ...env,
    OTEL_SERVICE_NAME: 'py-agent',
    SESSION_ID: 'py-instrumented',
  });
  runs.bare = await runNode([AGENT], { ...env, OTEL_SERVICE_NAME: 'py-bare-agent', SESSION_ID: 'py-bare' });
});

after(async () => {
  killAll();
  await stack?.stop();
});

describe('a Python MCP server on the mcp package, tracing itself, through otelcol-mcp', () => {
  it('both agents got their answers', () => {
    for (const run of Object.values(runs)) {
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(JSON.parse(run.stdout), { rows: '3 rows for 8 chars of SQL', charge: 'error -32001' });
    }
  });

  it('links the TypeScript CLIENT span and the Python SERVER span through _meta', async () => {
    const trace = await waitFor(
      async () => {
        const traces = await jaegerTraces(stack.jaegerUrl, 'py-agent', {
          'gen_ai.conversation.id': 'py-instrumented',
        });
        return traces.find((t) =>
          t.spans.some((s) => t.processes[s.processID]?.serviceName === SERVER_SERVICE),
        );
      },
      { timeoutMs: 30000, message: 'no trace with both sides in Jaeger' },
    );
    const service = (s: JaegerSpan) => trace.processes[s.processID]!.serviceName;
    const client = trace.spans.find((s) => service(s) === 'py-agent' && tag(s, 'span.kind') === 'client');
    const server = trace.spans.find((s) => service(s) === SERVER_SERVICE && tag(s, 'span.kind') === 'server');
    assert.ok(client && server, JSON.stringify(trace.spans.map((s) => [service(s), s.operationName])));
    assert.equal(server.operationName, client.operationName);
    assert.match(server.operationName, /^tools\/call (db_query|charge)$/);
    const parent = (server.references as Array<{ refType: string; spanID: string }>).find(
      (r) => r.refType === 'CHILD_OF',
    );
    assert.equal(parent?.spanID, client.spanID, 'the Python SERVER span is the child of the TS CLIENT span');
    assert.equal(tag(server, 'otel.scope.name'), 'mcp-python-sdk');
  });

  it('counts each call once: the client side, or the Python side alone', async () => {
    // 3 calls per run (2 × db_query, 1 × charge), 6 in all, whichever side reported them.
    await waitFor(async () => (await calls('tool=~"db_query|charge"')) === 6, {
      timeoutMs: 60000,
      message: 'the six calls are not counted',
    });
    assert.equal(await calls('session_id="py-instrumented"'), 3, 'instrumented: the client spans');
    assert.equal(await calls('session_id="py-instrumented", service_name="py-native-server"'), 0);
    assert.equal(
      await calls(`service_name="${SERVER_SERVICE}", session_id="none"`),
      3,
      'bare: the server spans',
    );
    assert.equal(
      await calls(`service_name="${SERVER_SERVICE}", server="${SERVER_SERVICE}", tool="db_query"`),
      2,
    );
    const errors = await promQuery(
      stack.prometheusUrl!,
      `sum(mcp_audit_tool_errors_total{service_name="${SERVER_SERVICE}", tool="charge"})`,
    );
    assert.equal(Number(errors[0]?.value[1]), 1, "the Python side's error counts");
  });

  it('fires McpSensitiveToolWithoutCaller on the Python server spans alone', async () => {
    const fired = await waitFor(
      async () => {
        const alerts = await firingAlerts('McpSensitiveToolWithoutCaller');
        return alerts.find((a) => a.labels.service_name === SERVER_SERVICE) ?? false;
      },
      { timeoutMs: 60000, message: 'McpSensitiveToolWithoutCaller did not fire for the Python server' },
    );
    assert.equal(fired.labels.tool, 'db_query');
    assert.equal(fired.labels.server, SERVER_SERVICE, 'the server label mapped from service.name');
    assert.equal(fired.labels.caller, 'none');
    const instrumented = (await firingAlerts('McpSensitiveToolWithoutCaller')).filter(
      (a) => a.labels.session_id === 'py-instrumented',
    );
    assert.deepEqual(instrumented, [], 'the instrumented session had a caller');
  });

  it('masks what the Python side exported in clear (status message, resource)', async () => {
    const lines = await waitFor(
      () => {
        const text = readAuditFile(stack.auditFilePath).map((l) => JSON.stringify(l));
        return text.some((l) => l.includes('tools/call charge') && l.includes('mcp-python-sdk'))
          ? text
          : false;
      },
      { timeoutMs: 30000, message: 'no Python charge span in the audit file' },
    );
    const all = lines.join('\n');
    for (const secret of [CARD, EMAIL, OWNER])
      assert.ok(!all.includes(secret), `${secret} reached the audit file`);
    assert.match(all, /card \[REDACTED:card\] declined for \[REDACTED:email\]/);
    const traces = await jaegerTraces(stack.jaegerUrl, SERVER_SERVICE);
    const jaegerText = JSON.stringify(traces);
    assert.ok(traces.length > 0);
    for (const secret of [CARD, EMAIL, OWNER])
      assert.ok(!jaegerText.includes(secret), `${secret} reached Jaeger`);
  });
});
