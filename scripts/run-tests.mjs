#!/usr/bin/env node
// Runs the test suite with Node's built-in runner. Node 20's `--test` takes no globs, so the files
// are listed here. Usage: node scripts/run-tests.mjs [unit|integration|e2e ...] [--only PATTERN]
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? args.splice(onlyIdx, 2)[1] : undefined;
const groups = args.length > 0 ? args : ['unit', 'integration', 'e2e'];

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
console.error(`running ${files.length} test files: ${groups.join(', ')}`);
const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
    ...files,
  ],
  { stdio: 'inherit', cwd: root },
);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
