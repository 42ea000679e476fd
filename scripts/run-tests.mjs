#!/usr/bin/env node
// Runs the test suite with Node's built-in runner. Node 20's `--test` takes no globs, so the files
// are listed here. Usage: node scripts/run-tests.mjs [unit|integration|e2e ...] [--only PATTERN]
//
// Timeouts: every test and hook gets a default timeout (test/support/test-timeout.mjs, preloaded
// into each test process: 120 s, 600 s in test/e2e), and every file a cap on its whole run
// (`--test-timeout`, which bounds a file in Node 20): a hang fails the run, it never stalls CI.
//
// Cleanup: the runner starts `node --test` as the leader of a process group of its own; every test
// process, and every collector, Jaeger, Prometheus or node child they start, belongs to that group.
// However the runner ends (the tests finish, it fails, or it gets SIGINT/SIGTERM/SIGHUP) it kills
// the whole group, so nothing a test started outlives the run. Inside each test process,
// test/support/reaper.ts kills the processes it registered on exit and on signals as well (it
// also covers process groups that tests create themselves, which this group kill cannot reach).
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? args.splice(onlyIdx, 2)[1] : undefined;
const groups = args.length > 0 ? args : ['unit', 'integration', 'e2e'];

/** Cap on one file's whole run, by kind of file (ms). */
const FILE_TIMEOUT_MS = { fast: 10 * 60_000, e2e: 45 * 60_000 };
/** After SIGTERM to the group, how long the test processes get to stop their children. */
const GRACE_MS = 10_000;

function find(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(find(path));
    else if (/\.test\.(ts|mts|cts)$/.test(name)) out.push(path);
  }
  return out;
}

const files = groups
  .flatMap((g) => {
    try {
      return find(join(root, 'test', g)).sort();
    } catch {
      return [];
    }
  })
  .filter((f) => !only || f.includes(only))
  .map((f) => relative(root, f));

if (files.length === 0) {
  console.error(`no test files found for ${groups.join(', ')}${only ? ` matching ${only}` : ''}`);
  process.exit(1);
}

const isE2e = (f) => f.startsWith(`test${'/'}e2e/`);
const batches = [
  { kind: 'fast', files: files.filter((f) => !isE2e(f)) },
  { kind: 'e2e', files: files.filter(isE2e) },
].filter((b) => b.files.length > 0);

/** The running `node --test` (leader of its own process group), if any. */
let current;

function killGroup(signal) {
  if (current?.pid === undefined) return;
  try {
    process.kill(-current.pid, signal);
  } catch {
    // the group is gone
  }
}

function runBatch({ kind, files: batchFiles }) {
  console.error(`running ${batchFiles.length} test files (${kind}): ${groups.join(', ')}`);
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        './test/support/test-timeout.mjs',
        '--test',
        '--test-reporter=spec',
        `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
        `--test-timeout=${FILE_TIMEOUT_MS[kind]}`,
        ...batchFiles,
      ],
      // detached: a new process group led by the child, so one kill reaches everything under it.
      // stdin is not inherited: a background group reading the terminal would be stopped.
      { stdio: ['ignore', 'inherit', 'inherit'], cwd: root, detached: true },
    );
    current = child;
    child.on('exit', (code, signal) => {
      // Anything a test started and left behind (its test process is gone) goes with the group.
      killGroup('SIGKILL');
      current = undefined;
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

let stopping = false;
for (const [signal, number] of [
  ['SIGINT', 2],
  ['SIGTERM', 15],
  ['SIGHUP', 1],
]) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.error(`\nrun-tests: ${signal}: stopping the tests and every process they started`);
    killGroup('SIGTERM');
    const force = setTimeout(() => killGroup('SIGKILL'), GRACE_MS);
    force.unref();
    const leader = current;
    const done = () => {
      killGroup('SIGKILL');
      process.exit(128 + number);
    };
    if (leader && leader.exitCode === null && leader.signalCode === null) leader.once('exit', done);
    else done();
  });
}
// Last resort for an exit of the runner itself (an exception here): never leave the group running.
process.on('exit', () => killGroup('SIGKILL'));

let status = 0;
for (const batch of batches) {
  if (stopping) break;
  const code = await runBatch(batch);
  if (code !== 0) status = code;
}
process.exit(status);
