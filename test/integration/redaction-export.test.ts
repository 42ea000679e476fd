// A real child process started with secrets on its command line, exporting to a real OTLP/HTTP
// receiver and writing the evidence log: neither secret appears in anything it exported (span
// attributes, events, status, resource) nor in the evidence file, and the resource carries no
// command line unless MCP_AUDIT_RESOURCE_COMMAND_ARGS=true asks for it (then redacted).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOtlpReceiver } from '../support/otlp-receiver.js';
import { REGISTER_ESM, killAll, runNode } from '../support/proc.js';

const TOKEN = 'ghp_16C7e42F292c6912E7710c838347Ae178B4a';
const PASSWORD = 'Sup3rS3cretDbPass';
const DSN = `postgres://u:${PASSWORD}@db/x`;
const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-redaction-'));

after(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

async function run(extraEnv: NodeJS.ProcessEnv) {
  const receiver = await startOtlpReceiver();
  try {
    const file = join(dir, `audit-${Object.keys(extraEnv).length}.jsonl`);
    const out = await runNode(
      ['--import', REGISTER_ESM, 'test/fixtures/apps/secret-args-agent.mjs', '--api-key', TOKEN, '--db', DSN],
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'secret-args-agent',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_METRICS_EXPORTER: 'none',
        MCP_AUDIT_FILE: file,
        ...extraEnv,
      },
    );
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout.trim()), { isError: true });
    await receiver.waitForSpans((spans) => spans.filter((s) => s.name.startsWith('tools/call')).length >= 2);
    return { raw: receiver.raw.join('\n'), evidence: readFileSync(file, 'utf8'), stderr: out.stderr };
  } finally {
    await receiver.close();
  }
}

function resourceAttributeKeys(raw: string): Set<string> {
  const keys = new Set<string>();
  for (const body of raw.split('\n')) {
    if (!body.startsWith('{')) continue;
    const json = JSON.parse(body) as {
      resourceSpans?: Array<{ resource?: { attributes?: Array<{ key: string }> } }>;
    };
    for (const rs of json.resourceSpans ?? []) for (const a of rs.resource?.attributes ?? []) keys.add(a.key);
  }
  return keys;
}

test('secrets on the command line and in a failing call reach neither the OTLP receiver nor the evidence log', async () => {
  const { raw, evidence } = await run({});
  for (const secret of [TOKEN, PASSWORD, TOKEN.slice(-12)]) {
    assert.ok(!raw.includes(secret), `OTLP export contains ${secret}`);
    assert.ok(!evidence.includes(secret), `evidence log contains ${secret}`);
  }
  const keys = resourceAttributeKeys(raw);
  assert.ok(keys.has('service.name') && keys.has('process.pid'), [...keys].join(', '));
  assert.ok(!keys.has('process.command_args') && !keys.has('process.command_line'));
  assert.match(raw, /\[REDACTED:(github_token|key|url_password)\]/);
  assert.ok(evidence.split('\n').filter(Boolean).length >= 1);
});

test('with MCP_AUDIT_RESOURCE_COMMAND_ARGS=true the command line is exported, redacted', async () => {
  const { raw } = await run({ MCP_AUDIT_RESOURCE_COMMAND_ARGS: 'true' });
  assert.ok(resourceAttributeKeys(raw).has('process.command_args'));
  assert.ok(!raw.includes(TOKEN) && !raw.includes(PASSWORD));
  assert.ok(raw.includes('secret-args-agent.mjs'));
});
