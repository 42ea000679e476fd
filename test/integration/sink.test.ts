// `mcp-audit sink` as a real child process: OTLP/HTTP in, a verifiable evidence log out, and no
// acknowledged record lost when the process is killed with SIGKILL mid-stream.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { verifyLog } from '../../src/evidence/verify.js';
import {
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_MCP_AUDIT_RESULT_SIZE,
  ATTR_MCP_METHOD_NAME,
} from '../../src/semconv.js';
import { trackChild } from '../support/reaper.js';

const repo = join(import.meta.dirname, '..', '..');
const root = mkdtempSync(join(tmpdir(), 'mcp-audit-sink-'));
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children)
    if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

interface Sink {
  child: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Starts `mcp-audit sink` from source and waits for its one "listening" line. */
async function startSink(file: string, ...extra: string[]): Promise<Sink> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/run.ts', 'sink', '--listen', '127.0.0.1:0', '--file', file, ...extra],
    { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MCP_AUDIT_HMAC_KEY: '' } },
  );
  children.add(child);
  trackChild(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[^/\s]+)\/v1\/traces/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then(({ code }) => reject(new Error(`sink exited (${code}) before listening: ${stderr}`)));
  });
  return { child, url, exited };
}

let batchNo = 0;
/** An OTLP/JSON request as the collector sends it with `encoding: json`; spanIds encode batch and index. */
function otlpBatch(count: number, argBytes = 64): { body: object; spanIds: string[] } {
  const b = batchNo++;
  const traceId = randomBytes(16).toString('hex');
  const spanIds: string[] = [];
  const spans = Array.from({ length: count }, (_, i) => {
    const spanId = ((b << 20) | i).toString(16).padStart(16, '0');
    spanIds.push(spanId);
    const start = 1773825263_000_000_000n + BigInt(b * 1000 + i) * 1_000_000n;
    return {
      traceId,
      spanId,
      name: 'tools/call db_query',
      kind: 3,
      startTimeUnixNano: start.toString(),
      endTimeUnixNano: (start + 2_500_000n).toString(),
      attributes: [
        { key: ATTR_MCP_METHOD_NAME, value: { stringValue: 'tools/call' } },
        { key: ATTR_GEN_AI_TOOL_NAME, value: { stringValue: 'db_query' } },
        { key: ATTR_GEN_AI_CONVERSATION_ID, value: { stringValue: `session-${b % 3}` } },
        {
          key: ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
          value: { stringValue: JSON.stringify({ sql: 'x'.repeat(argBytes) }) },
        },
        { key: ATTR_MCP_AUDIT_RESULT_SIZE, value: { intValue: String(100 + i) } },
      ],
      status: {},
    };
  });
  return {
    body: {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'agent' } }] },
          scopeSpans: [{ spans }],
        },
      ],
    },
    spanIds,
  };
}

const post = (
  url: string,
  body: string | Uint8Array,
  headers: Record<string, string> = { 'content-type': 'application/json' },
) => fetch(`${url}/v1/traces`, { method: 'POST', headers, body });

const fileSpanIds = (file: string) =>
  new Set(
    readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((l) => {
        try {
          return [(JSON.parse(l) as { span_id?: string }).span_id];
        } catch {
          return [];
        }
      })
      .filter((x): x is string => typeof x === 'string'),
  );

function runCli(...args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', ...args], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.add(c);
    trackChild(c);
    let stdout = '';
    c.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    c.on('exit', (code) => resolve({ code, stdout }));
  });
}

describe('mcp-audit sink', () => {
  it('accepts OTLP/JSON (plain and gzip) and OTLP/protobuf, replies per spec, and exits 0 on SIGTERM', async () => {
    const file = join(root, 'basic', 'audit.log');
    const sink = await startSink(file, '--max-body-bytes', '256KiB');

    const health = await fetch(`${sink.url}/health`);
    assert.equal(health.status, 200);

    const a = otlpBatch(3);
    const r1 = await post(sink.url, JSON.stringify(a.body));
    assert.equal(r1.status, 200);
    assert.deepStrictEqual(await r1.json(), {});

    const b = otlpBatch(2);
    const r2 = await post(sink.url, gzipSync(JSON.stringify(b.body)), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    assert.equal(r2.status, 200);
    await r2.arrayBuffer();

    // Protobuf, as the collector's otlphttp exporter sends by default.
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    provider
      .getTracer('t')
      .startSpan('tools/call file_read', {
        kind: SpanKind.SERVER,
        attributes: { [ATTR_MCP_METHOD_NAME]: 'tools/call', [ATTR_GEN_AI_TOOL_NAME]: 'file_read' },
      })
      .end();
    const protoSpan = exporter.getFinishedSpans()[0]!;
    const r3 = await post(sink.url, ProtobufTraceSerializer.serializeRequest([protoSpan])!, {
      'content-type': 'application/x-protobuf',
    });
    assert.equal(r3.status, 200);
    assert.equal(r3.headers.get('content-type'), 'application/x-protobuf');
    assert.equal((await r3.arrayBuffer()).byteLength, 0);

    // One malformed span among good ones: partial success, the good ones are kept.
    const c = otlpBatch(2);
    (
      c.body as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ traceId: string }> }> }> }
    ).resourceSpans[0]!.scopeSpans[0]!.spans[0]!.traceId = 'zz';
    const r4 = await post(sink.url, JSON.stringify(c.body));
    assert.equal(r4.status, 200);
    const partial = (await r4.json()) as { partialSuccess: { rejectedSpans: string; errorMessage: string } };
    assert.equal(partial.partialSuccess.rejectedSpans, '1');

    // Errors: bad JSON (not echoed back), wrong content type, too large.
    const r5 = await post(sink.url, '{"resourceSpans": [secret-token-abc');
    assert.equal(r5.status, 400);
    const r5body = await r5.text();
    assert.doesNotMatch(r5body, /secret-token/);
    assert.equal((JSON.parse(r5body) as { code: number }).code, 3);
    const r6 = await post(sink.url, 'x', { 'content-type': 'text/plain' });
    assert.equal(r6.status, 415);
    await r6.text();
    const r7 = await post(sink.url, JSON.stringify(otlpBatch(1, 300 * 1024).body));
    assert.equal(r7.status, 413);
    await r7.text();
    const r8 = await post(sink.url, gzipSync(JSON.stringify(otlpBatch(1, 2 * 1024 * 1024).body)), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    assert.equal(r8.status, 413, 'a small gzip body that inflates past the limit');
    await r8.text();

    sink.child.kill('SIGTERM');
    const { code, stderr } = await sink.exited;
    assert.equal(code, 0, stderr);
    assert.match(stderr, /stopped; 7 records written/);

    const v = await verifyLog([file]);
    assert.equal(v.ok, true, JSON.stringify(v.problem));
    assert.equal(v.records, 3 + 2 + 1 + 1);
    const ids = fileSpanIds(file);
    for (const id of [...a.spanIds, ...b.spanIds, c.spanIds[1]!, protoSpan.spanContext().spanId])
      assert.ok(ids.has(id), id);

    const cli = await runCli('verify', file);
    assert.equal(cli.code, 0);
    assert.match(cli.stdout, /^OK: 7 records in 1 file/);
    const report = await runCli('report', '--json', file);
    assert.equal(report.code, 0);
    // session-0..2 from the JSON batches, plus the protobuf span that carries no session.
    assert.equal((JSON.parse(report.stdout) as { sessions: unknown[] }).sessions.length, 4);
  });

  it('SIGKILL mid-stream: every acknowledged batch is in the file; verify reports at most a truncated tail', async (t) => {
    const file = join(root, 'killed', 'audit.log');
    const sink = await startSink(file);
    const acked: string[][] = [];
    let stop = false;
    let sent = 0;
    // Four senders with large batches, so the kill is likely to land inside a write.
    const sender = async () => {
      while (!stop) {
        const batch = otlpBatch(200, 2048);
        sent++;
        try {
          const res = await post(sink.url, JSON.stringify(batch.body));
          if (res.status === 200) {
            await res.arrayBuffer();
            acked.push(batch.spanIds);
          }
        } catch {
          return; // connection reset by the kill: not acknowledged
        }
      }
    };
    const senders = Promise.all([sender(), sender(), sender(), sender()]);
    const deadline = Date.now() + 20_000;
    while (acked.length < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(acked.length >= 10, 'the sink acknowledged batches before the kill');
    process.kill(sink.child.pid!, 'SIGKILL');
    const exit = await sink.exited;
    stop = true;
    await senders;
    assert.equal(exit.signal, 'SIGKILL');

    const v = await verifyLog([file]);
    t.diagnostic(
      `sent ${sent} batches, ${acked.length} acknowledged, ${v.records} records on disk, tail: ${v.ok ? 'clean' : v.problem!.reason}`,
    );
    if (!v.ok) assert.equal(v.problem!.reason, 'truncated', JSON.stringify(v.problem));
    const ids = fileSpanIds(file);
    let missing = 0;
    for (const batch of acked) for (const id of batch) if (!ids.has(id)) missing++;
    assert.equal(missing, 0, 'no acknowledged record lost');
    assert.ok(v.records >= acked.length * 200);

    // A kill cannot tear one write() to a regular file, but a power cut can: if the kill left the
    // tail clean, leave the partial line such a crash would, so the restart below always has one.
    if (v.ok) {
      appendFileSync(file, '{"seq":999999,"timestamp":"2026-03-18T09:1');
      const torn = await verifyLog([file]);
      assert.equal(torn.problem?.reason, 'truncated');
      assert.equal(torn.problem?.line, v.lines + 1);
    }
    // Restarting on the same file seals the torn tail with a chain_break and the chain goes on.
    const again = await startSink(file);
    const more = otlpBatch(5);
    const res = await post(again.url, JSON.stringify(more.body));
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    again.child.kill('SIGTERM');
    assert.equal((await again.exited).code, 0);
    const resumed = await verifyLog([file]);
    assert.equal(resumed.ok, true, JSON.stringify(resumed.problem));
    assert.equal(resumed.control.chain_break, 1);
    assert.match(resumed.warnings[0]!.detail, /torn write from a crash, sealed by the chain_break/);
    assert.match((await again.exited).stderr, /sealed it with a chain_break line/);
    for (const id of more.spanIds) assert.ok(fileSpanIds(file).has(id));
  });

  it('rotates by --max-bytes into a chain that verify follows across files', async () => {
    const dir = join(root, 'rotating');
    const file = join(dir, 'audit.log');
    const sink = await startSink(file, '--max-bytes', '8KiB');
    for (let i = 0; i < 6; i++) {
      const res = await post(sink.url, JSON.stringify(otlpBatch(10, 200).body));
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
    sink.child.kill('SIGTERM');
    assert.equal((await sink.exited).code, 0);
    const cli = await runCli(
      'verify',
      `${file}.2`,
      file,
      `${file}.1`,
      ...[3, 4, 5, 6, 7, 8]
        .map((n) => `${file}.${n}`)
        .filter((f) => {
          try {
            readFileSync(f);
            return true;
          } catch {
            return false;
          }
        }),
    );
    assert.equal(cli.code, 0, cli.stdout);
    assert.match(cli.stdout, /OK: 60 records in \d+ files/);
  });

  it('usage errors exit 2 without starting', async () => {
    const r = await runCli('sink', '--listen', '127.0.0.1:0');
    assert.equal(r.code, 2);
  });
});
