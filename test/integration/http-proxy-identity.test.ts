// Who a call through `mcp-audit proxy` is for. A bearer token the proxy verifies (shared secret or
// JWKS) names the caller; a forged, expired, wrong-audience or unsigned one never does, and only the
// reason is recorded. A trusted gateway header names the caller too, and MCP_AUDIT_REQUIRE_CALLER
// refuses a sensitive tool without one with the same JSON-RPC error `wrap` answers. The token
// reaches the server unchanged and never reaches an exported span.
import { strict as assert } from 'node:assert';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';
import { otlpEnv } from '../support/proc.js';
import {
  connectHttp,
  killLive,
  signJwt,
  startFixture,
  startProxy,
  stop,
  type Listening,
} from './http-proxy-harness.js';

const SECRET = 'a-shared-hs256-secret-for-the-proxy-test';
const AUDIENCE = 'https://mcp.example.test/reports';
const ISSUER = 'https://idp.example.test';

let dir: string;
let receiver: OtlpReceiver;
let fixture: Listening;
let rsa: KeyObject;
let ec: KeyObject;
let rsaPublicPem: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-audit-http-identity-'));
  receiver = await startOtlpReceiver();
  fixture = await startFixture();
  const rsaPair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ecPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  rsa = rsaPair.privateKey;
  rsaPublicPem = rsaPair.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  ec = ecPair.privateKey;
  writeFileSync(join(dir, 'secret'), `${SECRET}\n`);
  writeFileSync(
    join(dir, 'jwks.json'),
    JSON.stringify({
      keys: [
        { ...rsaPair.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
        { ...ecPair.publicKey.export({ format: 'jwk' }), kid: 'ec-1', alg: 'ES256' },
      ],
    }),
  );
});
after(async () => {
  killLive();
  await receiver.close();
  rmSync(dir, { recursive: true, force: true });
});

const spansOf = (service: string) =>
  receiver.spans.filter((s) => s.service === service && s.attributes['mcp.method.name'] === 'tools/call');

describe('proxy: caller identity from a verified JWT', () => {
  const SERVICE = 'http-proxy-jwt';
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: ISSUER, aud: AUDIENCE, exp: now + 600, iat: now };
  const tokens: Record<string, () => string> = {
    valid: () =>
      signJwt(
        { alg: 'HS256', typ: 'JWT' },
        { ...claims, sub: 'user:alice', scope: 'reports:read reports:run' },
        SECRET,
      ),
    forged: () =>
      signJwt(
        { alg: 'HS256', typ: 'JWT' },
        { ...claims, sub: 'user:mallory' },
        'not-the-configured-secret-at-all',
      ),
    expired: () =>
      signJwt({ alg: 'HS256' }, { ...claims, sub: 'user:old', exp: now - 3600, iat: now - 7200 }, SECRET),
    audience: () =>
      signJwt(
        { alg: 'HS256' },
        { ...claims, sub: 'user:elsewhere', aud: 'https://other.example.test' },
        SECRET,
      ),
    unsigned: () => signJwt({ alg: 'none' }, { ...claims, sub: 'user:nobody' }, ''),
    issuer: () =>
      signJwt({ alg: 'HS256' }, { ...claims, sub: 'user:foreign', iss: 'https://evil.example.test' }, SECRET),
    notYet: () => signJwt({ alg: 'HS256' }, { ...claims, sub: 'user:future', nbf: now + 3600 }, SECRET),
    jwksRsa: () => signJwt({ alg: 'RS256', kid: 'rsa-1' }, { ...claims, client_id: 'svc-reports' }, rsa),
    jwksEc: () => signJwt({ alg: 'ES256', kid: 'ec-1' }, { ...claims, sub: 'svc-ec' }, ec),
    // The RSA public key used as an HMAC secret: the classic algorithm-confusion forgery.
    confused: () =>
      signJwt({ alg: 'HS256', kid: 'rsa-1' }, { ...claims, sub: 'user:confused' }, rsaPublicPem),
  };
  const issued = new Map<string, string>();
  const sessions = new Map<string, string>();
  let proxy: Listening;

  before(async () => {
    proxy = await startProxy(
      `http://127.0.0.1:${fixture.port}/mcp`,
      [
        '--jwt-secret-file',
        join(dir, 'secret'),
        '--jwks-file',
        join(dir, 'jwks.json'),
        '--jwt-audience',
        AUDIENCE,
        '--jwt-issuer',
        ISSUER,
      ],
      otlpEnv(receiver.url, SERVICE),
    );
    for (const [name, make] of Object.entries(tokens)) {
      const token = make();
      issued.set(name, token);
      const { client, transport } = await connectHttp(`http://127.0.0.1:${proxy.port}/mcp`, {
        authorization: `Bearer ${token}`,
      });
      const result = (await client.callTool({ name: 'echo', arguments: { text: name } })) as unknown as {
        structuredContent: { authorization: string };
      };
      assert.equal(result.structuredContent.authorization, `Bearer ${token}`, `${name}: forwarded unchanged`);
      sessions.set(name, transport.sessionId!);
      await client.close();
    }
    await receiver.waitForSpans(() => spansOf(SERVICE).length >= Object.keys(tokens).length);
  });
  after(() => stop(proxy));

  const spanFor = (name: string) => {
    const span = spansOf(SERVICE).find((s) => s.attributes['mcp.session.id'] === sessions.get(name));
    assert.ok(span, `no span for ${name}`);
    return span.attributes;
  };

  it('a valid HS256 token: enduser.id is its sub, its scopes recorded, source auth', () => {
    const a = spanFor('valid');
    assert.equal(a['enduser.id'], 'user:alice');
    assert.equal(a['mcp_audit.caller.source'], 'auth');
    assert.deepEqual(a['mcp_audit.caller.scopes'], ['reports:read', 'reports:run']);
    assert.equal(a['mcp_audit.caller.verification'], 'verified');
  });

  it('a valid RS256 or ES256 token checked against the JWKS: client_id or sub becomes enduser.id', () => {
    assert.equal(spanFor('jwksRsa')['enduser.id'], 'svc-reports');
    assert.equal(spanFor('jwksEc')['enduser.id'], 'svc-ec');
  });

  it('forged, expired, wrong-audience, wrong-issuer, not-yet-valid, unsigned and alg-confused tokens give no caller', () => {
    const expected: Record<string, string> = {
      forged: 'bad_signature',
      expired: 'expired',
      audience: 'wrong_audience',
      issuer: 'wrong_issuer',
      notYet: 'not_yet_valid',
      unsigned: 'algorithm_not_allowed',
      confused: 'bad_signature',
    };
    for (const [name, reason] of Object.entries(expected)) {
      const a = spanFor(name);
      assert.equal(a['enduser.id'], undefined, `${name} became a caller`);
      assert.equal(a['mcp_audit.caller.source'], undefined, name);
      assert.equal(a['mcp_audit.caller.verification'], reason, name);
    }
  });

  it('never exports a token or any part of its signature', () => {
    for (const [name, token] of issued) {
      const signature = token.split('.')[2]!;
      for (const body of receiver.raw) {
        assert.ok(!body.includes(token), `${name} token exported`);
        if (signature.length > 8) assert.ok(!body.includes(signature), `${name} signature exported`);
      }
    }
  });
});

describe('proxy: caller from a trusted gateway header, and the caller policy', () => {
  const SERVICE = 'http-proxy-header';
  let proxy: Listening;
  before(async () => {
    proxy = await startProxy(
      `http://127.0.0.1:${fixture.port}/mcp`,
      ['--caller-header', 'X-Authenticated-User'],
      {
        ...otlpEnv(receiver.url, SERVICE),
        MCP_AUDIT_REQUIRE_CALLER: 'echo',
      },
    );
  });
  after(() => stop(proxy));

  it('refuses a required-caller tool without a caller with the -32010 JSON-RPC error, and never forwards it', async () => {
    const { client } = await connectHttp(`http://127.0.0.1:${proxy.port}/mcp`);
    await assert.rejects(
      client.callTool({ name: 'echo', arguments: { text: 'anonymous' } }),
      (err: unknown) =>
        err instanceof McpError && err.code === -32010 && /requires a caller identity/.test(err.message),
    );
    // Other tools are not affected.
    const released = await client.callTool({ name: 'release', arguments: {} });
    assert.deepEqual(released.content, [{ type: 'text', text: 'ok' }]);
    await client.close();
    await receiver.waitForSpans(() =>
      spansOf(SERVICE).some((s) => s.attributes['error.type'] === 'policy_denied'),
    );
  });

  it('takes enduser.id from the header, and lets the call through', async () => {
    const { client } = await connectHttp(`http://127.0.0.1:${proxy.port}/mcp`, {
      'x-authenticated-user': 'user:bob',
    });
    const result = (await client.callTool({ name: 'echo', arguments: { text: 'as bob' } })) as unknown as {
      structuredContent: { text: string };
    };
    assert.equal(result.structuredContent.text, 'as bob');
    await client.close();
    await receiver.waitForSpans(() =>
      spansOf(SERVICE).some((s) => String(s.attributes['gen_ai.tool.call.arguments']).includes('as bob')),
    );
    const span = spansOf(SERVICE).find((s) =>
      String(s.attributes['gen_ai.tool.call.arguments']).includes('as bob'),
    )!;
    assert.equal(span.attributes['enduser.id'], 'user:bob');
    assert.equal(span.attributes['mcp_audit.caller.source'], 'auth');
    assert.equal(span.attributes['error.type'], undefined);
  });
});
