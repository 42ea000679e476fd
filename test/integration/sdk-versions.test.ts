// The supported SDK range, each over real stdio child processes: 1.17 (oldest 1.x; its own
// node_modules under test/fixtures/sdk-1.17, installed by `npm test`'s pretest) and the 2.x split
// packages, which bundle their own Protocol class and are patched through their exports.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';
import { FIXTURES, REGISTER_CJS, REGISTER_ESM, ROOT, killAll, otlpEnv, runNode } from '../support/proc.js';

const CLIENT = 3;
const SERVER = 2;
const LEGACY = `${ROOT}test/fixtures/sdk-1.17/`;

let receiver: OtlpReceiver | undefined;
after(async () => {
  killAll();
  await receiver?.close();
});

describe('@modelcontextprotocol/sdk 1.17 (oldest supported 1.x)', () => {
  it('audits an ESM client and a CommonJS server, linked across the pipe', async (t) => {
    const pkg = `${LEGACY}node_modules/@modelcontextprotocol/sdk/package.json`;
    assert.ok(existsSync(pkg), 'fixture not installed: npm --prefix test/fixtures/sdk-1.17 ci');
    assert.equal(JSON.parse(readFileSync(pkg, 'utf8')).version, '1.17.5');
    receiver = await startOtlpReceiver();
    const run = await runNode(
      ['--import', REGISTER_ESM, `${LEGACY}agent.mjs`, `${LEGACY}server.cjs`, '--require', REGISTER_CJS],
      otlpEnv(receiver.url, 'legacy-agent'),
    );
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { echo: 'old but audited' });
    const spans = await receiver.waitForSpans(
      (s) => s.filter((x) => x.name === 'tools/call echo').length >= 2,
    );
    const echo = spans.filter((s) => s.name === 'tools/call echo');
    t.diagnostic(`services: ${echo.map((s) => s.service).join(', ')}`);
    assert.equal(echo.length, 2);
    const client = echo.find((s) => s.kind === CLIENT)!;
    const server = echo.find((s) => s.kind === SERVER)!;
    assert.equal(client.service, 'legacy-agent');
    assert.equal(server.service, 'legacy-server');
    assert.equal(server.parentSpanId, client.spanId);
    assert.equal(client.attributes['enduser.id'], 'user:legacy');
    assert.equal(server.attributes['mcp_audit.server.name'], 'legacy-server');
    assert.equal(client.attributes['mcp_audit.server.version'], '1.17.5');
  });
});

describe('@modelcontextprotocol/client and /server 2.x', () => {
  it('audits a 2.x client and server, one span per side, linked across the pipe', async () => {
    receiver ??= await startOtlpReceiver();
    const run = await runNode(
      [
        '--import',
        REGISTER_ESM,
        `${FIXTURES}v2-agent.mjs`,
        `${FIXTURES}v2-server.mjs`,
        '--import',
        REGISTER_ESM,
      ],
      otlpEnv(receiver.url, 'v2-agent'),
    );
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { echo: 'split packages' });
    const spans = await receiver.waitForSpans(
      (s) => s.filter((x) => x.name === 'tools/call echo' && x.service.startsWith('v2')).length >= 2,
    );
    const echo = spans.filter((s) => s.name === 'tools/call echo' && s.service.startsWith('v2'));
    assert.equal(echo.length, 2, 'no duplicate spans from the two public request entries');
    const client = echo.find((s) => s.kind === CLIENT)!;
    const server = echo.find((s) => s.kind === SERVER)!;
    assert.equal(server.parentSpanId, client.spanId);
    assert.equal(client.attributes['gen_ai.conversation.id'], 'v2-session');
    assert.equal(server.attributes['gen_ai.conversation.id'], 'v2-session');
    assert.equal(server.attributes['enduser.id'], 'user:v2');
    assert.equal(server.attributes['mcp_audit.caller.source'], 'propagated');
    assert.equal(client.attributes['mcp_audit.server.name'], 'v2-server');
    assert.equal(client.attributes['gen_ai.tool.call.arguments'], '{"text":"split packages"}');
  });
});
