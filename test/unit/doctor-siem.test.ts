// The doctor's SIEM line reads the shipped collector configs as a user would pass them: the OTLP
// overlay exports from the traces pipeline itself, the syslog overlay through the auditlog
// connector into a logs pipeline; config.yaml alone forwards nowhere.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { siemForwarding } from '../../src/doctor/config-checks.js';
import type { Observations } from '../../src/doctor/observations.js';
import { readMergedYaml } from '../../src/doctor/sources.js';
import { REPO_ROOT } from '../support/stack.js';

async function check(...names: string[]) {
  const files = names.map((n) => join(REPO_ROOT, 'collector', n));
  const observations = { collector: { files, config: await readMergedYaml(files) } } as Observations;
  return siemForwarding(observations);
}

describe('doctor: MCP spans are forwarded to a SIEM', () => {
  it('fails for config.yaml alone', async () => {
    const result = await check('config.yaml');
    assert.equal(result.ok, false);
    assert.match(result.evidence, /siem-syslog\.yaml/);
  });

  it('passes with the OTLP/HTTP overlay', async () => {
    const result = await check('config.yaml', 'siem.yaml');
    assert.equal(result.ok, true);
    assert.match(result.evidence, /otlp_http\/siem/);
  });

  it('passes with the syslog overlay, whose exporter sits behind the auditlog connector', async () => {
    const result = await check('config.yaml', 'siem-syslog.yaml');
    assert.equal(result.ok, true, result.evidence);
    assert.match(result.evidence, /syslog\/siem/);
    assert.doesNotMatch(result.evidence, /otlp_http\/siem/);
  });
});
