// Every shipped collector configuration is accepted by the collector binary we ship: a key that
// the pinned components do not know fails here, not in a user's deployment.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { locateBinaries, REPO_ROOT } from '../support/stack.js';

const run = promisify(execFile);

const CONFIGS: string[][] = [
  ['collector/config.yaml'],
  ['collector/gateway.yaml'],
  ['collector/config.yaml', 'collector/siem.yaml'],
  ['collector/config.yaml', 'collector/siem-syslog.yaml'],
  ['collector/config.yaml', 'collector/siem.yaml', 'collector/siem-syslog.yaml'],
  ['collector/config.yaml', 'collector/sampling.yaml'],
  ['collector/config.yaml', 'collector/scale-out.yaml'],
  ['collector/config.yaml', 'collector/sampling.yaml', 'collector/scale-out.yaml'],
];

describe('otelcol-mcp validate', () => {
  for (const files of CONFIGS) {
    it(`accepts ${files.join(' + ')}`, async () => {
      const { otelcol } = await locateBinaries();
      const args = ['validate', ...files.flatMap((f) => ['--config', `${REPO_ROOT}/${f}`])];
      const { stdout, stderr } = await run(otelcol, args, { cwd: REPO_ROOT });
      assert.doesNotMatch(stdout + stderr, /error/i);
    });
  }

  it('rejects a config with an unknown component (the check can fail)', async () => {
    const { otelcol } = await locateBinaries();
    const bad =
      'yaml:receivers: {nope: {}}\nexporters: {debug: {}}\nservice: {pipelines: {traces: {receivers: [nope], exporters: [debug]}}}';
    await assert.rejects(run(otelcol, ['validate', '--config', bad], { cwd: REPO_ROOT }));
  });
});
