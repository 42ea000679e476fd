// The layer map of src/, held by a test so it cannot drift: every relative import must point to the
// same layer or one below it, and never across to a sibling layer at the same rank. docs/architecture.md
// explains why the layers run in this order; this list is the one place the order is written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Bottom to top. Each entry is a file or a directory under src/; entries sharing a rank may not import each other. */
const LAYERS: readonly (readonly string[])[] = [
  ['version.ts', 'semconv.ts', 'env.ts', 'otel-setup.ts'],
  ['redaction/'],
  ['instrumentation/'],
  ['evidence/'],
  ['detection/'],
  ['sdk.ts', 'sdk-detect.ts'],
  ['proxy/'],
  ['doctor/', 'demo/'],
  ['cli/'],
  ['index.ts', 'register.ts'],
];

function layerOf(file: string): { rank: number; unit: string } | undefined {
  for (let rank = 0; rank < LAYERS.length; rank++) {
    for (const unit of LAYERS[rank]!) {
      if (unit.endsWith('/') ? file.startsWith(unit) : file === unit) return { rank, unit };
    }
  }
  return undefined;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|cts)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function relativeImports(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => (m[1] ?? m[2])!);
}

const files = sourceFiles(SRC).map((p) => relative(SRC, p).split('\\').join('/'));

test('every file in src/ belongs to a layer', () => {
  assert.ok(files.length > 30, `found only ${files.length} files under src/`);
  assert.deepEqual(
    files.filter((f) => layerOf(f) === undefined),
    [],
  );
});

test('imports point down the layers, never up and never sideways between siblings', () => {
  const violations: string[] = [];
  let checked = 0;
  for (const file of files) {
    const from = layerOf(file)!;
    for (const spec of relativeImports(join(SRC, file))) {
      const target = normalize(join(dirname(file), spec))
        .split('\\')
        .join('/')
        .replace(/\.js$/, '.ts');
      if (target.startsWith('..')) continue; // data outside src/ (collector/rules/thresholds.json)
      const to = layerOf(target);
      checked++;
      if (to === undefined) violations.push(`${file} → ${spec}: target is in no layer`);
      else if (to.rank > from.rank)
        violations.push(`${file} (${from.unit}) → ${target} (${to.unit}): points up`);
      else if (to.rank === from.rank && to.unit !== from.unit)
        violations.push(`${file} (${from.unit}) → ${target} (${to.unit}): sideways between siblings`);
    }
  }
  assert.ok(checked > 100, `only ${checked} imports checked: the import pattern no longer matches the code`);
  assert.deepEqual(violations, []);
});
