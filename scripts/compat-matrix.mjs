#!/usr/bin/env node
// The dependency matrix: installs the packed mcp-audit into fresh applications, each pinned by its
// own committed lock file (test/fixtures/compat-*), and checks what a user would see there.
//   compat-api-lowest   lowest @opentelemetry/api of the declared peer range: one audited call
//   compat-api-newest   newest @opentelemetry/api of the range (bump its pin on each API release)
//   compat-sdk-2x       an app on the OpenTelemetry JS SDK 2.x line (api < 1.10): the install must
//                       fail at once, naming @opentelemetry/api (the range is the one every 3.x SDK
//                       package mcp-audit is built on declares)
// Usage: npm run build && node scripts/compat-matrix.mjs [--keep] [CASE]
//   --keep leaves the temp dirs; CASE runs only the cases whose name contains it (e.g. 2.x)
// Prints one line per case and closes with "N passed, N failed"; exits non-zero on any failure.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
const FIXTURES = join(ROOT, 'test/fixtures');
const APP = join(FIXTURES, 'compat-app');
const keep = process.argv.includes('--keep');
const only = process.argv.slice(2).find((a) => !a.startsWith('--'));
const CLIENT = 3;
const SERVER = 2;

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const apiRange = pkg.peerDependencies['@opentelemetry/api'];

/** Runs a command to completion; npm installs go through `flock /tmp/npm.lock` (shared machines). */
function run(cmd, args, { cwd, env = {}, timeoutMs = 300_000, lock = false } = {}) {
  const [file, argv] =
    lock && existsSync('/usr/bin/flock') ? ['flock', ['/tmp/npm.lock', cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const NPM_FLAGS = ['--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline', '--loglevel=error'];

/** A loopback OTLP/HTTP JSON endpoint that keeps the spans it receives. */
async function otlpReceiver() {
  const spans = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        for (const rs of JSON.parse(body).resourceSpans ?? []) {
          const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value?.stringValue;
          for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) spans.push({ ...s, service });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, spans, close: () => server.close() };
}

async function waitFor(predicate, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

function installedVersion(dir, name) {
  const file = join(dir, 'node_modules', name, 'package.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).version : undefined;
}

/** Lowest version a `>=A.B.C <X.Y.Z` range admits. */
function rangeFloor(range) {
  const m = /^>=(\d+\.\d+\.\d+) <\d+\.\d+\.\d+$/.exec(range);
  if (!m) throw new Error(`peer range ${range} is not of the form ">=A.B.C <X.Y.Z"`);
  return m[1];
}

function inRange(version, range) {
  const [lo, hi] = range.split(' ').map((p) =>
    p
      .replace(/^[<>=]+/, '')
      .split('.')
      .map(Number),
  );
  const v = version.split('.').map(Number);
  const cmp = (a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
  return cmp(v, lo) >= 0 && cmp(v, hi) < 0;
}

async function prepare(fixture, tarball) {
  const dir = mkdtempSync(join(tmpdir(), `mcp-audit-${fixture}-`));
  for (const f of ['package.json', 'package-lock.json'])
    copyFileSync(join(FIXTURES, fixture, f), join(dir, f));
  for (const f of readdirSync(APP)) copyFileSync(join(APP, f), join(dir, f));
  const ci = await run('npm', ['ci', ...NPM_FLAGS], { cwd: dir, lock: true });
  if (ci.code !== 0) throw new Error(`npm ci failed in ${fixture}:\n${ci.stderr}`);
  const add = await run('npm', ['install', '--no-save', ...NPM_FLAGS, tarball], { cwd: dir, lock: true });
  return { dir, add };
}

/** An application on `fixture` installs mcp-audit and audits one call, client and server linked. */
async function expectAudited(fixture, tarball, expectedApi) {
  const { dir, add } = await prepare(fixture, tarball);
  try {
    if (add.code !== 0) throw new Error(`installing mcp-audit failed:\n${add.stderr}`);
    const api = installedVersion(dir, '@opentelemetry/api');
    if (api !== expectedApi) throw new Error(`@opentelemetry/api ${api} installed, expected ${expectedApi}`);
    const nested = join(dir, 'node_modules/mcp-audit/node_modules/@opentelemetry/api');
    if (existsSync(nested)) throw new Error('npm nested a second @opentelemetry/api under mcp-audit');
    const receiver = await otlpReceiver();
    try {
      const env = {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'compat-agent',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_METRICS_EXPORTER: 'none',
        MCP_AUDIT_FILE: 'off',
      };
      const app = await run(process.execPath, ['--import', 'mcp-audit/register', 'agent.mjs'], {
        cwd: dir,
        env,
        timeoutMs: 60_000,
      });
      if (app.code !== 0) throw new Error(`the audited app failed (exit ${app.code}):\n${app.stderr}`);
      if (app.stdout.trim() !== '{"echo":"matrix"}') throw new Error(`unexpected app output: ${app.stdout}`);
      const calls = () => receiver.spans.filter((s) => s.name === 'tools/call echo');
      await waitFor(() => calls().length >= 2, 15_000);
      const client = calls().filter((s) => s.kind === CLIENT);
      const server = calls().filter((s) => s.kind === SERVER);
      if (client.length !== 1 || server.length !== 1) {
        throw new Error(`expected one CLIENT and one SERVER span, got ${client.length} and ${server.length}`);
      }
      if (server[0].parentSpanId !== client[0].spanId || server[0].traceId !== client[0].traceId) {
        throw new Error('the SERVER span is not the child of the CLIENT span');
      }
      if (client[0].service !== 'compat-agent' || server[0].service !== 'compat-server') {
        throw new Error(`services: ${client[0].service}, ${server[0].service}`);
      }
      return `@opentelemetry/api ${api}: CLIENT and SERVER span, linked across stdio`;
    } finally {
      receiver.close();
    }
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

/** An application on the 2.x SDK line: npm refuses mcp-audit at install time, naming the API. */
async function expectInstallRefused(fixture, tarball) {
  const { dir, add } = await prepare(fixture, tarball);
  try {
    if (add.code === 0)
      throw new Error('npm installed mcp-audit beside an @opentelemetry/api it cannot run on');
    if (!/ERESOLVE/.test(add.stderr) || !add.stderr.includes('@opentelemetry/api')) {
      throw new Error(`npm failed, but not with a peer conflict on @opentelemetry/api:\n${add.stderr}`);
    }
    if (existsSync(join(dir, 'node_modules/mcp-audit')))
      throw new Error('a refused install left mcp-audit behind');
    const api = installedVersion(dir, '@opentelemetry/api');
    const sdk = installedVersion(dir, '@opentelemetry/sdk-trace-base');
    return `@opentelemetry/api ${api} with sdk-trace-base ${sdk}: npm refuses the install (ERESOLVE on @opentelemetry/api)`;
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  if (!existsSync(join(ROOT, 'dist/register.js'))) throw new Error('dist/ is missing: npm run build first');
  const packDir = mkdtempSync(join(tmpdir(), 'mcp-audit-pack-'));
  const packed = await run('npm', ['pack', '--json', '--pack-destination', packDir, '--loglevel=error'], {
    cwd: ROOT,
  });
  if (packed.code !== 0) throw new Error(`npm pack failed:\n${packed.stderr}`);
  const tarball = join(packDir, JSON.parse(packed.stdout)[0].filename);

  const lowest = JSON.parse(readFileSync(join(FIXTURES, 'compat-api-lowest/package.json'), 'utf8'));
  const newest = JSON.parse(readFileSync(join(FIXTURES, 'compat-api-newest/package.json'), 'utf8'));
  const lowestApi = lowest.dependencies['@opentelemetry/api'];
  const newestApi = newest.dependencies['@opentelemetry/api'];
  const cases = [
    [
      'declared range',
      async () => {
        if (lowestApi !== rangeFloor(apiRange))
          throw new Error(`compat-api-lowest pins ${lowestApi}; range ${apiRange}`);
        if (!inRange(newestApi, apiRange))
          throw new Error(`compat-api-newest pins ${newestApi}, outside ${apiRange}`);
        return `peer @opentelemetry/api ${apiRange}: fixtures pin ${lowestApi} (lowest) and ${newestApi} (newest)`;
      },
    ],
    ['lowest api', () => expectAudited('compat-api-lowest', tarball, lowestApi)],
    ['newest api', () => expectAudited('compat-api-newest', tarball, newestApi)],
    ['sdk 2.x line', () => expectInstallRefused('compat-sdk-2x', tarball)],
  ];
  let passed = 0;
  let failed = 0;
  for (const [name, check] of cases) {
    if (only && !name.includes(only)) continue;
    try {
      console.log(`ok   ${name}: ${await check()}`);
      passed++;
    } catch (err) {
      console.log(`FAIL ${name}: ${err instanceof Error ? err.message : err}`);
      failed++;
    }
  }
  rmSync(packDir, { recursive: true, force: true });
  console.log(`compat: ${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

main().catch((err) => {
  console.error(`compat matrix: ${err instanceof Error ? err.message : err}`);
  process.exitCode = 1;
});
