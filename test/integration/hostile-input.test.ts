// Hostile MCP traffic and hostile OTLP, as a user would check it: the corpus of test/support/hostile.ts
// sent to a real MCP stdio server (instrumented with --import mcp-audit/register, and under
// `mcp-audit wrap`) and from a hostile server to a real SDK client (instrumented, and through wrap),
// compared with the same traffic uninstrumented; then to `mcp-audit sink`. Nothing crashes or hangs,
// the answers are the same, memory stays bounded, no hidden secret reaches an exported span, a log
// or an evidence file, and every evidence log verifies.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyLog } from '../../src/evidence/verify.js';
import {
  HOSTILE_SECRETS,
  INITIALIZE_LINES,
  clientReplies,
  hostileArguments,
  otlpBodies,
  serverFrames,
  syncLine,
  validOtlpBodies,
} from '../support/hostile.js';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';
import { FIXTURES, REGISTER_ESM, ROOT, killAll, otlpEnv, runNode } from '../support/proc.js';
import { trackChild } from '../support/reaper.js';
import { CLI } from './wrap-harness.js';

const SERVER = `${FIXTURES}hostile-server.mjs`;
const PEER = `${FIXTURES}hostile-peer.mjs`;
const AGENT = `${FIXTURES}hostile-agent.mjs`;
const MiB = 1024 * 1024;
const SECRETS = Object.values(HOSTILE_SECRETS);

let dir: string;
let receiver: OtlpReceiver;
const children = new Set<ChildProcess>();
/** Starts a node process this file kills by pid on any exit. */
function spawnNode(args: string[], env: NodeJS.ProcessEnv, stdin: 'pipe' | 'ignore'): ChildProcess {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: [stdin, 'pipe', 'pipe'],
  });
  children.add(child);
  trackChild(child);
  child.on('exit', () => children.delete(child));
  return child;
}
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-audit-hostile-'));
  receiver = await startOtlpReceiver();
});
after(async () => {
  killAll();
  for (const child of children)
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Environment of an audited process: OTLP to the test receiver, results captured (redacted), evidence log on. */
function auditEnv(service: string, file: string): NodeJS.ProcessEnv {
  return { ...otlpEnv(receiver.url, service), MCP_AUDIT_FILE: file, MCP_AUDIT_CAPTURE_RESULTS: 'redacted' };
}

/** Every place a secret (whole, or any 16-character piece of it) was found in `text`. */
function leaksIn(text: string, where: string): string[] {
  const found: string[] = [];
  for (const secret of SECRETS) {
    for (let i = 0; i + 16 <= secret.length; i++) {
      if (text.includes(secret.slice(i, i + 16))) {
        found.push(`${where}: ${JSON.stringify(secret.slice(i, i + 16))} of ${secret.slice(0, 8)}…`);
        break;
      }
    }
  }
  return found;
}

async function verifiedRecords(file: string): Promise<number> {
  const result = await verifyLog([file]);
  assert.ok(result.ok, `${file} does not verify: ${JSON.stringify(result.problem)}`);
  return result.records;
}

interface FramesRun {
  /** Per frame: digests of the lines the server answered with (sorted), and the first bytes of each. */
  answers: string[][];
  heads: string[][];
  peakRssKiB: number;
  code: number | null;
  stderr: string;
}

/** Writes the handshake, then each frame followed by a well-formed call, to a stdio server; collects what it answers. */
async function runFrames(args: string[], env: NodeJS.ProcessEnv): Promise<FramesRun> {
  const child = spawnNode(args, env, 'pipe');
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let waiter: { id: string | number; resolve: (lines: Buffer[]) => void } | undefined;
  let collected: Buffer[] = [];
  let partial: Buffer[] = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    let start = 0;
    let nl: number;
    while ((nl = chunk.indexOf(0x0a, start)) >= 0) {
      partial.push(chunk.subarray(start, nl));
      const line = Buffer.concat(partial);
      partial = [];
      start = nl + 1;
      let id: unknown;
      if (line.length < 4096) {
        try {
          id = (JSON.parse(line.toString()) as { id?: unknown }).id;
        } catch {
          // not JSON: kept as an answer like any other line
        }
      }
      if (waiter && id === waiter.id) {
        const done = waiter;
        waiter = undefined;
        done.resolve(collected);
        collected = [];
      } else collected.push(line);
    }
    if (start < chunk.length) partial.push(chunk.subarray(start));
  });
  const until = (id: string | number) =>
    new Promise<Buffer[]>((resolve, reject) => {
      waiter = { id, resolve };
      void exited.then((code) =>
        reject(new Error(`server exited (${code}) before answering ${id}: ${stderr}`)),
      );
    });
  const write = (bytes: Buffer) => child.stdin!.write(bytes);

  const answers: string[][] = [];
  const heads: string[][] = [];
  let peakRssKiB = 0;
  try {
    let got = until(0);
    write(INITIALIZE_LINES);
    await got;
    for (const [i, frame] of serverFrames().entries()) {
      got = until(`sync-${i}`);
      write(frame.bytes);
      write(syncLine(`sync-${i}`));
      const lines = await got;
      answers.push(lines.map((l) => createHash('sha256').update(l).digest('hex')).sort());
      heads.push(lines.map((l) => l.subarray(0, 160).toString()).sort());
    }
    // A last well-formed call: an answer still on its way arrives before this one's.
    got = until('sync-last');
    write(syncLine('sync-last'));
    const late = await got;
    answers.push(late.map((l) => createHash('sha256').update(l).digest('hex')).sort());
    heads.push(late.map((l) => l.subarray(0, 160).toString()).sort());
    // The peak resident set of the server (or of wrap: its child is measured in the direct runs).
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    peakRssKiB = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  } finally {
    child.stdin!.end();
  }
  const code = await exited;
  clearTimeout(killer);
  return { answers, heads, peakRssKiB, code, stderr };
}

describe('hostile frames to an MCP stdio server', () => {
  it('answers exactly as uninstrumented, in-process and under wrap; bounded memory; no secret exported; evidence verifies', async (t) => {
    const inFile = join(dir, 'server-evidence.jsonl');
    const wrapFile = join(dir, 'wrap-server-evidence.jsonl');
    const bare = await runFrames([SERVER], {});
    const instrumented = await runFrames(
      ['--import', REGISTER_ESM, SERVER],
      auditEnv('hostile-server', inFile),
    );
    const proxied = await runFrames(
      [CLI, 'wrap', '--', process.execPath, SERVER],
      auditEnv('hostile-wrap', wrapFile),
    );

    assert.equal(bare.code, 0, bare.stderr);
    assert.equal(instrumented.code, 0, instrumented.stderr);
    assert.equal(proxied.code, 0, proxied.stderr);
    const frames = serverFrames();
    // The same answers, whatever order concurrent handlers finished in; the frames whose answers
    // differ are named.
    const all = (run: FramesRun) => run.answers.flat().sort();
    const differing = (run: FramesRun) =>
      frames
        .filter((_, i) => JSON.stringify(run.answers[i]) !== JSON.stringify(bare.answers[i]))
        .map((f) => f.name);
    assert.deepEqual(all(instrumented), all(bare), `instrumented: ${differing(instrumented).join(', ')}`);
    assert.deepEqual(all(proxied), all(bare), `wrap: ${differing(proxied).join(', ')}`);
    // The 50 MB answer came back whole in every run (same digests), with its secret: the secret
    // is the server's to send, only the audit must not keep it.
    assert.equal(bare.heads.flat().filter((h) => h.includes(HOSTILE_SECRETS.big)).length, 1);

    // Memory: the audit's share of the peak stays small next to what the 50 MB answer costs the server.
    assert.ok(
      instrumented.peakRssKiB < bare.peakRssKiB * 1.5 + 64 * 1024,
      `instrumented peak ${instrumented.peakRssKiB} KiB vs ${bare.peakRssKiB} KiB uninstrumented`,
    );
    // wrap holds at most its parse limit (16 MiB) of a line, never the whole 50 MB answer: with its
    // own SDK and exporters, it stays within the same bound next to the server that built the answer.
    assert.ok(
      proxied.peakRssKiB < bare.peakRssKiB * 1.5 + 64 * 1024,
      `wrap peak ${proxied.peakRssKiB} KiB, server ${bare.peakRssKiB} KiB`,
    );
    t.diagnostic(
      `peak RSS: server ${bare.peakRssKiB} KiB bare, ${instrumented.peakRssKiB} KiB instrumented; wrap ${proxied.peakRssKiB} KiB`,
    );

    const leaks = [
      ...leaksIn(receiver.raw.join('\n'), 'OTLP export'),
      ...leaksIn(instrumented.stderr, 'instrumented stderr'),
      ...leaksIn(proxied.stderr, 'wrap stderr'),
      ...leaksIn(readFileSync(inFile, 'utf8'), 'evidence (in-process)'),
      ...leaksIn(readFileSync(wrapFile, 'utf8'), 'evidence (wrap)'),
    ];
    assert.deepEqual(leaks, []);

    // The calls were audited: the well-formed ones are spans on both paths and records in both logs.
    for (const service of ['hostile-server', 'hostile-wrap']) {
      const calls = receiver.spans.filter((s) => s.service === service && s.name.startsWith('tools/call'));
      const tools = new Set(calls.map((s) => s.attributes['gen_ai.tool.name']));
      assert.ok(tools.has('mirror') && tools.has('big'), `${service}: ${[...tools].join(', ')}`);
    }
    assert.ok((await verifiedRecords(inFile)) >= frames.length / 2);
    assert.ok((await verifiedRecords(wrapFile)) >= frames.length / 2);
  });
});

describe('hostile replies to an MCP client', () => {
  it('the SDK client sees the same results instrumented and through wrap; nothing polluted; no secret exported', async () => {
    const replies = join(dir, 'replies.json');
    const argumentsFile = join(dir, 'arguments.json');
    writeFileSync(
      replies,
      JSON.stringify(
        Object.fromEntries(Object.entries(clientReplies()).map(([k, v]) => [k, v.toString('base64')])),
      ),
    );
    writeFileSync(argumentsFile, JSON.stringify(hostileArguments()));
    const common = {
      HOSTILE_REPLIES: replies,
      HOSTILE_ARGUMENTS: argumentsFile,
      BIG_SECRET: HOSTILE_SECRETS.big,
    };
    const agentFile = join(dir, 'agent-evidence.jsonl');
    const wrapFile = join(dir, 'wrap-client-evidence.jsonl');
    const run = async (args: string[], env: NodeJS.ProcessEnv) => {
      const r = await runNode(args, { ...common, ...env }, 180_000);
      assert.equal(r.code, 0, r.stderr);
      return { out: JSON.parse(r.stdout) as Record<string, unknown> & { peakRss: number }, stderr: r.stderr };
    };
    const bare = await run([AGENT, process.execPath, PEER], { MCP_AUDIT_FILE: 'off' });
    const instrumented = await run(
      ['--import', REGISTER_ESM, AGENT, process.execPath, PEER],
      auditEnv('hostile-agent', agentFile),
    );
    const proxied = await run(
      [AGENT, process.execPath, CLI, 'wrap', '--', process.execPath, PEER],
      auditEnv('hostile-wrap-client', wrapFile),
    );

    assert.deepEqual(instrumented.out.stdio, bare.out.stdio);
    assert.deepEqual(instrumented.out.inProcess, bare.out.inProcess);
    assert.equal(instrumented.out.errors, bare.out.errors, 'transport errors the client saw');
    assert.deepEqual(proxied.out.stdio, bare.out.stdio);
    assert.equal(proxied.out.errors, bare.out.errors);
    for (const r of [bare, instrumented, proxied])
      assert.equal(r.out.polluted, false, 'Object.prototype was polluted');
    // Every reply kind was answered the same; the ones that end in a well-formed result succeeded.
    const stdio = bare.out.stdio as Record<string, { ok: boolean }>;
    assert.equal(Object.keys(stdio).length, Object.keys(clientReplies()).length);
    for (const kind of ['garbage', 'wrong_id', 'proto', 'surrogate', 'binary', 'nine_mb'])
      assert.equal(stdio[kind]?.ok, true, `${kind}: ${JSON.stringify(stdio[kind])}`);
    assert.ok(
      instrumented.out.peakRss < bare.out.peakRss * 1.5 + 64 * MiB,
      `instrumented peak ${instrumented.out.peakRss} vs ${bare.out.peakRss}`,
    );

    const leaks = [
      ...leaksIn(receiver.raw.join('\n'), 'OTLP export'),
      ...leaksIn(instrumented.stderr, 'agent stderr'),
      ...leaksIn(proxied.stderr, 'wrap stderr'),
      ...leaksIn(readFileSync(agentFile, 'utf8'), 'evidence (agent)'),
      ...leaksIn(readFileSync(wrapFile, 'utf8'), 'evidence (wrap)'),
    ];
    assert.deepEqual(leaks, []);
    const agentCalls = receiver.spans.filter(
      (s) => s.service === 'hostile-agent' && s.name.startsWith('tools/call'),
    );
    // stdio calls (client spans) and in-process calls (client and server spans) were all recorded.
    assert.ok(
      agentCalls.length >= Object.keys(stdio).length + 2 * 6,
      `${agentCalls.length} tools/call spans`,
    );
    assert.ok((await verifiedRecords(agentFile)) >= agentCalls.length);
    assert.ok((await verifiedRecords(wrapFile)) >= Object.keys(stdio).length);
  });
});

describe('malformed and oversized OTLP to mcp-audit sink', () => {
  it('refuses each with a clear 4xx, keeps serving, enforces its limits, and its log verifies', async () => {
    const file = join(dir, 'sink.jsonl');
    const maxBody = 1 * MiB;
    const child = spawnNode(
      [CLI, 'sink', '--listen', '127.0.0.1:0', '--file', file, '--max-body-bytes', '1MiB'],
      { MCP_AUDIT_HMAC_KEY: '' },
      'ignore',
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/\S+\/v1\/traces)/.exec(out);
        if (m) resolve(m[1]!);
      });
      void exited.then((code) => reject(new Error(`sink exited (${code}): ${stderr}`)));
    });
    const post = (contentType: string, body: Buffer) =>
      fetch(url, { method: 'POST', headers: contentType ? { 'content-type': contentType } : {}, body });

    let accepted = 0;
    const sendValid = async (label: string) => {
      const { json, proto } = validOtlpBodies();
      for (const [type, body] of [
        ['application/json', json],
        ['application/x-protobuf', proto],
      ] as const) {
        const r = await post(type, body);
        assert.equal(r.status, 200, `after ${label}: a valid ${type} request got ${r.status}`);
        await r.arrayBuffer();
        accepted++;
      }
    };
    const { json, proto } = validOtlpBodies();
    for (const bad of otlpBodies(json, proto, maxBody)) {
      const r = await post(bad.contentType, bad.body);
      const text = Buffer.from(await r.arrayBuffer()).toString('latin1');
      assert.ok(bad.expect.includes(r.status), `${bad.name}: ${r.status} ${text.slice(0, 200)}`);
      if (r.status === 200) {
        // Well-formed OTLP: a span it cannot use is refused on its own (partial success), with the reason.
        const reply = JSON.parse(text) as {
          partialSuccess?: { rejectedSpans?: string; errorMessage?: string };
        };
        const rejected = Number(reply.partialSuccess?.rejectedSpans ?? 0);
        if (rejected > 0) assert.match(reply.partialSuccess!.errorMessage!, /malformed span/);
        assert.equal(1 - rejected >= (bad.records ?? 0), true, `${bad.name}: ${text}`);
        accepted += bad.records ?? 0;
      } else assert.match(text, /[a-z]{4,} [a-z]{2,}/, `${bad.name}: the refusal says why`);
      assert.deepEqual(leaksIn(text, bad.name), []);
      await sendValid(bad.name);
    }
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.deepEqual(leaksIn(stderr, 'sink stderr'), []);
    assert.equal(await verifiedRecords(file), accepted);
  });
});
