// The whole path a user runs: instrumented MCP processes (stdio and Streamable HTTP, started with
// --import mcp-audit/register) → the real otelcol-mcp → Jaeger, Prometheus, the collector's
// append-only audit file, and the evidence log written by a real `mcp-audit sink` process.
// Asserts what a security engineer would check in each place.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  jaegerTraces,
  promQuery,
  readAuditFile,
  startStack,
  waitFor,
  type JaegerSpan,
  type JaegerTrace,
  type Stack,
} from '../support/stack.js';
import { FIXTURES, REGISTER_ESM, ROOT, killAll, runNode, startNode } from '../support/proc.js';
import { trackChild } from '../support/reaper.js';

// A session id holding a timestamp and a counter, as many do: the collector's number rules (shapes
// only, no checksum) must leave identities alone.
const SESSION = 'run-1733050000-4242';
let stack: Stack;
let sink: ChildProcess;
let dir: string;
let evidence: string;
let httpSessionId: string;

function tag(span: JaegerSpan, key: string): unknown {
  return span.tags.find((t) => t.key === key)?.value;
}

function otlp(service: string): NodeJS.ProcessEnv {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: stack.otlpHttpEndpoint,
    OTEL_SERVICE_NAME: service,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_METRIC_EXPORT_INTERVAL: '1000',
    MCP_AUDIT_FILE: 'off',
  };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-audit-pipeline-'));
  evidence = join(dir, 'evidence.jsonl');
  // The sink listens on a port the OS picks (:0) and prints the address it got.
  sink = spawn(
    process.execPath,
    [`${ROOT}bin/mcp-audit.cjs`, 'sink', '--listen', '127.0.0.1:0', '--file', evidence],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  trackChild(sink);
  const sinkUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    sink.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/[^/\s]+)\/v1\/traces/.exec(out);
      if (m) resolve(m[1]!);
    });
    sink.once('exit', (code) => reject(new Error(`sink exited with ${code} before listening: ${out}`)));
  });
  stack = await startStack({ withPrometheus: true, sinkEndpoint: sinkUrl });

  // stdio: the incident session (2,400 rows with emails and SSNs, a thrown tool error, a call outside the context).
  const stdio = await runNode(
    [
      '--import',
      REGISTER_ESM,
      `${FIXTURES}stdio-agent.mjs`,
      `${FIXTURES}stdio-server.mjs`,
      '--import',
      REGISTER_ESM,
    ],
    { ...otlp('finance-agent'), SERVER_SERVICE_NAME: 'db-server', SESSION },
  );
  assert.equal(stdio.code, 0, stdio.stderr);

  // Streamable HTTP with bearer auth.
  const { child, firstLine } = await startNode(
    ['--import', REGISTER_ESM, `${FIXTURES}http-server.mjs`],
    otlp('http-server'),
  );
  const http = await runNode(
    ['--import', REGISTER_ESM, `${FIXTURES}http-agent.mjs`, `http://127.0.0.1:${firstLine.trim()}/mcp`],
    otlp('http-agent'),
  );
  assert.equal(http.code, 0, http.stderr);
  httpSessionId = (JSON.parse(http.stdout) as { sessionId: string }).sessionId;
  child.kill('SIGTERM');
});

after(async () => {
  killAll();
  if (sink?.pid && sink.exitCode === null) sink.kill('SIGKILL');
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('instrumented processes through the real collector', () => {
  let traces: JaegerTrace[];
  before(async () => {
    traces = await waitFor(
      async () => {
        const found = await jaegerTraces(stack.jaegerUrl, 'finance-agent', {
          'gen_ai.conversation.id': SESSION,
        });
        const spans = found.flatMap((t) => t.spans);
        return spans.filter((s) => s.operationName.startsWith('tools/call')).length >= 4 ? found : undefined;
      },
      { timeoutMs: 30000, intervalMs: 500 },
    );
  });

  it('Jaeger: the session’s client and server spans, parented across the pipe', () => {
    const spans = traces.flatMap((t) => t.spans);
    const process = (s: JaegerSpan) =>
      traces.find((t) => t.traceID === s.traceID)!.processes[s.processID]!.serviceName;
    const client = spans.find(
      (s) => s.operationName === 'tools/call db_query' && tag(s, 'span.kind') === 'client',
    )!;
    const server = spans.find(
      (s) => s.operationName === 'tools/call db_query' && tag(s, 'span.kind') === 'server',
    )!;
    assert.ok(client && server, 'both sides in Jaeger');
    assert.equal(process(client), 'finance-agent');
    assert.equal(process(server), 'db-server');
    assert.equal(server.traceID, client.traceID);
    const ref = (server.references as Array<{ refType: string; spanID: string }>)[0]!;
    assert.deepEqual([ref.refType, ref.spanID], ['CHILD_OF', client.spanID]);
    assert.equal(tag(client, 'enduser.id'), 'user:sarah');
    assert.equal(tag(client, 'mcp_audit.turn.id'), 'turn-003');
    assert.equal(tag(client, 'mcp_audit.server.name'), 'mcp-db-prod-01');
    assert.match(
      String(tag(client, 'mcp_audit.result.summary')),
      /^content: 1 text \(\d+ chars\); structured: 2400 rows$/,
    );
    assert.equal(
      tag(client, 'gen_ai.tool.call.arguments'),
      '{"sql":"SELECT name, email, ssn FROM customers WHERE balance > 100000","database":"production"}',
    );
    assert.equal(tag(server, 'mcp_audit.caller.source'), 'propagated');
    const explode = spans.find(
      (s) => s.operationName === 'tools/call explode' && tag(s, 'span.kind') === 'client',
    )!;
    assert.equal(tag(explode, 'error.type'), 'tool_error');
    assert.equal(tag(explode, 'error'), true);
  });

  it('Prometheus: the session’s calls, result bytes and errors, each call counted once', async () => {
    const spans = traces
      .flatMap((t) => t.spans)
      .filter((s) => s.operationName.startsWith('tools/call') && tag(s, 'span.kind') === 'client');
    const bytes = spans.reduce((n, s) => n + Number(tag(s, 'mcp_audit.result.size')), 0);
    const value = async (expr: string) =>
      Number((await promQuery(stack.prometheusUrl!, expr))[0]?.value[1] ?? NaN);
    await waitFor(
      async () =>
        (await value(`sum(mcp_audit_tool_calls_total{session_id="${SESSION}"})`)) === 2 ? true : undefined,
      {
        timeoutMs: 30000,
        intervalMs: 500,
      },
    );
    assert.equal(await value(`sum(mcp_audit_result_bytes_total{session_id="${SESSION}"})`), bytes);
    assert.equal(await value(`sum(mcp_audit_tool_errors_total{session_id="${SESSION}"})`), 1);
    const series = await promQuery(
      stack.prometheusUrl!,
      `mcp_audit_tool_calls_total{session_id="${SESSION}"}`,
    );
    const labels = series.map((s) => {
      const { session_id, tool, caller, server, error_type, service_name } = s.metric;
      return { session_id, tool, caller, server, error_type, service_name };
    });
    assert.deepEqual(
      labels.sort((a, b) => a.tool!.localeCompare(b.tool!)),
      [
        {
          session_id: SESSION,
          tool: 'db_query',
          caller: 'user:sarah',
          server: 'mcp-db-prod-01',
          error_type: 'none',
          service_name: 'finance-agent',
        },
        {
          session_id: SESSION,
          tool: 'explode',
          caller: 'user:sarah',
          server: 'mcp-db-prod-01',
          error_type: 'tool_error',
          service_name: 'finance-agent',
        },
      ],
    );
    // The HTTP session: the server's authenticated identity is on its span, the metric counts the client's call once.
    await waitFor(
      async () =>
        (await value(`sum(mcp_audit_tool_calls_total{session_id="${httpSessionId}"})`)) === 1
          ? true
          : undefined,
      {
        timeoutMs: 30000,
        intervalMs: 500,
      },
    );
  });

  it('the collector’s audit file holds every span exactly once, with no row data', async () => {
    const jaegerIds = new Set(traces.flatMap((t) => t.spans).map((s) => s.spanID));
    const counts = await waitFor(
      () => {
        const seen = new Map<string, number>();
        for (const line of readAuditFile(stack.auditFilePath) as Array<{
          resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: Array<{ spanId: string }> }> }>;
        }>) {
          for (const rs of line.resourceSpans ?? [])
            for (const ss of rs.scopeSpans ?? [])
              for (const s of ss.spans ?? []) seen.set(s.spanId, (seen.get(s.spanId) ?? 0) + 1);
        }
        return [...jaegerIds].every((id) => seen.has(id)) ? seen : undefined;
      },
      { timeoutMs: 30000, intervalMs: 500 },
    );
    assert.deepEqual(
      [...counts.values()].filter((n) => n !== 1),
      [],
      'no span written twice',
    );
    const text = readFileSync(stack.auditFilePath, 'utf8');
    assert.doesNotMatch(text, /customer\d+@example\.com|412-55-\d{4}|tok_live_reporting_5f2a9c/);
  });

  it('the evidence log from `mcp-audit sink` verifies and holds the session’s records', async () => {
    const records = await waitFor(
      () => {
        let lines: Array<Record<string, unknown>> = [];
        try {
          lines = readFileSync(evidence, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Record<string, unknown>);
        } catch {
          return undefined;
        }
        const calls = lines.filter((r) => r.session_id === SESSION && r.method === 'tools/call');
        return calls.length >= 4 ? lines : undefined;
      },
      { timeoutMs: 30000, intervalMs: 500 },
    );
    const query = records.find(
      (r) => r.session_id === SESSION && r.tool_name === 'db_query' && r.side === 'client',
    )!;
    assert.equal(query.caller_identity, 'user:sarah');
    assert.equal(query.server_id, 'mcp-db-prod-01');
    assert.equal(query.llm_turn_id, 'turn-003');
    assert.deepEqual(query.tool_parameters, {
      sql: 'SELECT name, email, ssn FROM customers WHERE balance > 100000',
      database: 'production',
    });
    assert.equal(query.error, null);
    const verify = await runNode([`${ROOT}bin/mcp-audit.cjs`, 'verify', evidence]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /OK: \d+ records/);
    assert.doesNotMatch(readFileSync(evidence, 'utf8'), /customer\d+@example\.com|412-55-\d{4}/);
  });
});

describe('the OTLP/gRPC export path', () => {
  it('an agent and server exporting with OTEL_EXPORTER_OTLP_PROTOCOL=grpc reach the collector, Jaeger and the audit file', async () => {
    const service = `grpc-agent-${process.pid}`;
    const grpc = {
      ...otlp(service),
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://${stack.otlpGrpcEndpoint}`,
    };
    const run = await runNode(
      [
        '--import',
        REGISTER_ESM,
        `${FIXTURES}stdio-agent.mjs`,
        `${FIXTURES}stdio-server.mjs`,
        '--import',
        REGISTER_ESM,
      ],
      { ...grpc, SERVER_SERVICE_NAME: `grpc-server-${process.pid}`, SESSION },
      // The stock gRPC exporter retries within an export and flushes at exit: on a loaded machine
      // that takes longer than the HTTP path (a bound on the run, not a timing assertion).
      120_000,
    );
    assert.equal(run.code, 0, `exit ${run.code ?? run.signal}\n${run.stderr}`);
    // The spans went over gRPC only: the collector's OTLP/HTTP receiver was never named to them.
    const traces = await waitFor(
      async () => {
        const found = await jaegerTraces(stack.jaegerUrl, service);
        return found.some((t) => t.spans.some((s) => s.operationName === 'tools/call db_query'))
          ? found
          : undefined;
      },
      { timeoutMs: 30000, intervalMs: 500, message: `no tools/call db_query span of ${service} in Jaeger` },
    );
    const spans = traces.flatMap((t) => t.spans);
    const call = spans.find(
      (s) => s.operationName === 'tools/call db_query' && tag(s, 'span.kind') === 'client',
    )!;
    assert.ok(call, 'the client span of the db_query call');
    assert.equal(tag(call, 'enduser.id'), 'user:sarah');
    assert.equal(tag(call, 'gen_ai.conversation.id'), SESSION);
    assert.equal(tag(call, 'mcp_audit.server.name'), 'mcp-db-prod-01');
    // The same span in the collector's append-only audit file.
    await waitFor(
      () =>
        readAuditFile(stack.auditFilePath).some((line) =>
          JSON.stringify(line).includes(call.spanID.toLowerCase()),
        ),
      { timeoutMs: 30000, intervalMs: 500, message: `span ${call.spanID} not in the audit file` },
    );
  });
});
