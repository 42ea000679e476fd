// README's "Already running OpenTelemetry" lines, run as written: each `<!-- readme-snippet: NAME
// [FILE] -->` marks the fenced block after it. Shell blocks run under bash in a scratch dir inside
// the clone (so `mcp-audit` resolves to this package), where app.mjs is an MCP agent whose stdio
// server starts with the same preloads and whose tool makes one HTTP call; a block with FILE is
// written there under that name first. Each run must export one trace: MCP CLIENT → MCP SERVER →
// the tool's HTTP client span (where an HTTP instrumentation is loaded), every span once.
import { strict as assert } from 'node:assert';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { trackChild } from '../support/reaper.js';
import { startOtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { ROOT } from '../support/proc.js';

const CLIENT = 3;
// Two processes each loading every auto-instrumentation take tens of seconds on a busy 2-core CI machine.
const CHILD_TIMEOUT_MS = 180_000;
const SLOW = { timeout: 240_000 };
const SERVER = 2;
const FIXTURE = `${ROOT}test/fixtures/compat-coexistence/`;

interface Snippet {
  name: string;
  file?: string;
  lang: string;
  body: string;
}

function readmeSnippets(): Map<string, Snippet> {
  const text = readFileSync(`${ROOT}README.md`, 'utf8');
  const found = new Map<string, Snippet>();
  const marker = /<!-- readme-snippet: (\S+)(?: (\S+))? -->\n+```(\w+)\n([\s\S]*?)\n```/g;
  for (const m of text.matchAll(marker)) {
    found.set(m[1]!, { name: m[1]!, file: m[2], lang: m[3]!, body: m[4]! });
  }
  return found;
}

const snippets = readmeSnippets();
let scratch: string;
let status: Server;
let statusUrl: string;

before(async () => {
  mkdirSync(`${ROOT}tmp`, { recursive: true });
  scratch = mkdtempSync(`${ROOT}tmp/readme-snippets-`);
  copyFileSync(`${FIXTURE}agent.mjs`, `${scratch}/app.mjs`);
  copyFileSync(`${FIXTURE}server.mjs`, `${scratch}/server.mjs`);
  status = createServer((_req, res) => res.writeHead(200).end('all systems nominal'));
  await new Promise<void>((resolve) => status.listen(0, '127.0.0.1', resolve));
  statusUrl = `http://127.0.0.1:${(status.address() as AddressInfo).port}/status`;
});

after(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await new Promise<void>((resolve) => status.close(() => resolve()));
});

/** The node flags before the script on a README command line (what the agent's server gets too). */
function preloadsOf(command: string): string[] {
  const words = command.trim().split(/\s+/);
  assert.equal(words[0], 'node', `README command does not start with node: ${command}`);
  const script = words.findIndex((w, i) => i > 0 && w.endsWith('.mjs') && words[i - 1] !== '--import');
  return words.slice(1, script);
}

function runShell(
  command: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], {
      cwd: scratch,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackChild(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function runSnippet(name: string, { toolHttpSpan }: { toolHttpSpan: boolean }): Promise<void> {
  const snippet = snippets.get(name);
  assert.ok(snippet, `README has no snippet ${name}`);
  assert.equal(snippet.lang, 'sh');
  const command = snippet.body.trim();
  assert.equal(command.split('\n').length, 1, 'one command line');
  const receiver = await startOtlpReceiver();
  try {
    const run = await runShell(command, {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'coexist-agent',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      // The auto-instrumentations default includes cloud detectors that probe metadata servers.
      ...(command.includes('auto-instrumentations-node')
        ? { OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process' }
        : {}),
      MCP_AUDIT_FILE: 'off',
      COEXIST_PRELOADS: JSON.stringify(preloadsOf(command)),
      STATUS_URL: statusUrl,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { status: 'all systems nominal' });
    const isCall = (kind: number) => (s: ReceivedSpan) => s.name === 'tools/call status' && s.kind === kind;
    const isHttp = (s: ReceivedSpan) => s.kind === CLIENT && s.name === 'GET';
    await receiver.waitForSpans(
      (spans) =>
        spans.some(isCall(CLIENT)) && spans.some(isCall(SERVER)) && (!toolHttpSpan || spans.some(isHttp)),
      20000,
    );
    const spans = receiver.spans;
    assert.equal(new Set(spans.map((s) => s.spanId)).size, spans.length, 'no span exported twice');
    const client = spans.filter(isCall(CLIENT));
    const server = spans.filter(isCall(SERVER));
    const http = spans.filter(isHttp);
    assert.equal(client.length, 1);
    assert.equal(server.length, 1);
    assert.equal(client[0]!.service, 'coexist-agent');
    assert.equal(server[0]!.service, 'coexist-server');
    assert.equal(server[0]!.traceId, client[0]!.traceId);
    assert.equal(server[0]!.parentSpanId, client[0]!.spanId);
    if (!toolHttpSpan) return;
    assert.equal(http.length, 1);
    assert.equal(http[0]!.traceId, client[0]!.traceId);
    assert.equal(http[0]!.parentSpanId, server[0]!.spanId);
  } finally {
    await receiver.close();
  }
}

describe('README: already running OpenTelemetry', () => {
  it('has the four snippets the section promises', () => {
    assert.deepEqual([...snippets.keys()].sort(), [
      'beside-auto',
      'own-sdk',
      'own-sdk-run',
      'register-alone',
    ]);
  });

  it('the register entry alone', SLOW, async () => {
    // mcp-audit's own SDK instruments MCP only: no HTTP instrumentation of its own.
    await runSnippet('register-alone', { toolHttpSpan: false });
  });

  it('beside the auto-instrumentations register entry', SLOW, async () => {
    await runSnippet('beside-auto', { toolHttpSpan: true });
  });

  it('in your own NodeSDK (otel.mjs as written, then its command line)', SLOW, async () => {
    const file = snippets.get('own-sdk');
    assert.ok(file?.file, 'the own-sdk snippet names its file');
    assert.equal(file.lang, 'js');
    writeFileSync(`${scratch}/${file.file}`, `${file.body}\n`);
    await runSnippet('own-sdk-run', { toolHttpSpan: true });
  });
});
