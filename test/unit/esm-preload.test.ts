// How the register entry decides, without a loader hook, which files of the app's MCP SDK copy to
// import and patch before the app runs: from the real packages installed here and real app fixtures.
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import satisfies from 'semver/functions/satisfies.js';
import { planPreload, type PreloadPlan } from '../../src/instrumentation/esm-preload.js';
import { supportedSdkVersion } from '../../src/instrumentation/instrumentation.js';
import fc from '../support/property.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const MODULES = realpathSync(join(ROOT, 'node_modules/@modelcontextprotocol'));
const scratch = mkdtempSync(join(tmpdir(), 'mcp-audit-preload-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const plan = (entry: string | undefined, cwd = ROOT, env: NodeJS.ProcessEnv = {}): PreloadPlan =>
  planPreload(supportedSdkVersion, entry, cwd, env);
const files = (p: PreloadPlan) => p.targets.map((t) => t.file.replace(`${MODULES}/`, '')).sort();

describe('planPreload', () => {
  it('imports only the packages the app names: the 1.x Protocol file for an SDK 1.x client', () => {
    const p = plan(join(ROOT, 'bench/workers/startup.mjs'));
    assert.equal(p.hookReason, undefined);
    assert.deepEqual(files(p), ['sdk/dist/esm/shared/protocol.js']);
    assert.equal(p.targets[0]!.holds, 'protocol');
  });

  it('adds the HTTP transport file an app imports (its peer address is read there)', () => {
    const p = plan(join(ROOT, 'test/fixtures/apps/http-server.mjs'));
    assert.deepEqual(files(p), ['sdk/dist/esm/server/streamableHttp.js', 'sdk/dist/esm/shared/protocol.js']);
    assert.deepEqual(p.targets.map((t) => t.holds).sort(), ['protocol', 'server/streamableHttp']);
  });

  it('a 2.x client gets its package entry (which exports Protocol), not the 1.x SDK beside it', () => {
    const p = plan(join(ROOT, 'test/fixtures/apps/v2-agent.mjs'));
    assert.deepEqual(files(p), ['client/dist/index.mjs']);
    assert.equal(p.targets[0]!.version, '2.4.0');
  });

  it("follows the app's relative imports to the module that names the SDK", () => {
    const app = mkdtempSync(join(ROOT, 'test/fixtures/apps/.preload-'));
    try {
      writeFileSync(join(app, 'main.mjs'), "import { run } from './run.js';\nawait run();\n");
      writeFileSync(
        join(app, 'run.js'),
        "export async function run() { await import('@modelcontextprotocol/server'); }\n",
      );
      writeFileSync(join(app, 'package.json'), '{"type":"module"}\n');
      assert.deepEqual(files(plan(join(app, 'main.mjs'))), ['server/dist/index.mjs']);
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });

  it('imports every copy found when the app names none or loads a module it cannot follow', () => {
    const app = mkdtempSync(join(ROOT, 'test/fixtures/apps/.preload-'));
    try {
      // A library of the app's could import the SDK: nothing named, so everything found is patched.
      writeFileSync(join(app, 'wrapped.mjs'), "import 'some-mcp-framework';\n");
      const all = [
        'client/dist/index.mjs',
        'sdk/dist/esm/server/sse.js',
        'sdk/dist/esm/server/streamableHttp.js',
        'sdk/dist/esm/shared/protocol.js',
        'server/dist/index.mjs',
      ];
      assert.deepEqual(files(plan(join(app, 'wrapped.mjs'))), all);
      writeFileSync(
        join(app, 'computed.mjs'),
        "import '@modelcontextprotocol/sdk/client/index.js';\nconst name = process.argv[2];\nawait import(name);\n",
      );
      assert.deepEqual(files(plan(join(app, 'computed.mjs'))), all);
      assert.deepEqual(files(plan(undefined)), all, 'node -e: from the working directory');
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });

  it('uses the copy the app would load (its own node_modules), at its version', () => {
    const legacy = join(ROOT, 'test/fixtures/sdk-1.17/agent.mjs');
    assert.ok(
      existsSync(join(ROOT, 'test/fixtures/sdk-1.17/node_modules')),
      'fixture not installed: npm --prefix test/fixtures/sdk-1.17 ci',
    );
    const p = plan(legacy);
    assert.equal(p.targets.length, 1);
    assert.equal(p.targets[0]!.version, '1.17.5');
    assert.match(p.targets[0]!.file, /test\/fixtures\/sdk-1\.17\/node_modules\/@modelcontextprotocol\/sdk\//);
  });

  it('falls back to the loader hook when no copy is found from the entry point or the working directory', () => {
    writeFileSync(join(scratch, 'elsewhere.mjs'), 'await import(process.env.SDK_URL);\n');
    const p = plan(join(scratch, 'elsewhere.mjs'), scratch);
    assert.deepEqual(p.targets, []);
    assert.match(p.hookReason ?? '', /no @modelcontextprotocol package found/);
  });

  it('falls back to the loader hook when a package the app names is not installed where it runs', () => {
    writeFileSync(join(scratch, 'named.mjs'), "import '@modelcontextprotocol/client';\n");
    const p = plan(join(scratch, 'named.mjs'), scratch);
    assert.match(p.hookReason ?? '', /@modelcontextprotocol\/client/);
  });

  it('keeps the loader hook when symlinks are preserved (module URLs are then the symlinked paths)', () => {
    const p = plan(join(ROOT, 'bench/workers/startup.mjs'), ROOT, { NODE_PRESERVE_SYMLINKS: '1' });
    assert.deepEqual(p.targets, []);
    assert.match(p.hookReason ?? '', /symlinks/);
  });

  it('MCP_AUDIT_ESM_HOOK=on keeps the loader hook (SDK copies loaded from elsewhere at run time)', () => {
    const p = plan(join(ROOT, 'bench/workers/startup.mjs'), ROOT, { MCP_AUDIT_ESM_HOOK: 'on' });
    assert.deepEqual(p.targets, []);
    assert.match(p.hookReason ?? '', /MCP_AUDIT_ESM_HOOK/);
  });
});

describe('supportedSdkVersion', () => {
  const part = fc.integer({ min: 0, max: 25 });
  const version = fc
    .tuple(
      fc.integer({ min: 0, max: 4 }),
      part,
      part,
      fc.option(fc.constantFrom('rc.1', 'beta', '0', 'alpha.2.x'), { nil: undefined }),
      fc.option(fc.constantFrom('build.5', '001'), { nil: undefined }),
    )
    .map(([a, b, c, pre, build]) => `${a}.${b}.${c}${pre ? `-${pre}` : ''}${build ? `+${build}` : ''}`);

  it('answers as semver does for the two supported ranges, prereleases included', () => {
    fc.assert(
      fc.property(version, (v) => {
        assert.equal(
          supportedSdkVersion(v, true),
          satisfies(v, '>=1.17.0 <2', { includePrerelease: true }),
          v,
        );
        assert.equal(
          supportedSdkVersion(v, false),
          satisfies(v, '>=2.0.0 <3', { includePrerelease: true }),
          v,
        );
      }),
      { numRuns: 2000 },
    );
    for (const v of ['1.17.0', '1.17.0-rc.1', '1.16.9', '1.32.2', '2.0.0-rc.1', '2.4.0', '3.0.0', 'x', '']) {
      assert.equal(supportedSdkVersion(v, true), satisfies(v, '>=1.17.0 <2', { includePrerelease: true }), v);
      assert.equal(supportedSdkVersion(v, false), satisfies(v, '>=2.0.0 <3', { includePrerelease: true }), v);
    }
  });
});
