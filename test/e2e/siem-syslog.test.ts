// The syslog SIEM route (collector/siem-syslog.yaml) delivering to a real receiver: Debian's rsyslog
// (imtcp on a loopback port it picks, every message written to a file in RFC 5424 form), the real
// collector started with config.yaml + siem-syslog.yaml, and an instrumented agent calling an
// instrumented stdio server with secrets from the shared corpus in its arguments. rsyslog must get
// one message per call (not one per side), the audit fields in its structured data, and none of the
// secrets; spans posted straight to the collector in clear are masked too, and a natively traced
// server span whose client already recorded the call is not sent again.
//
//   npm run build && node --import tsx --test test/e2e/siem-syslog.test.ts
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES, REGISTER_ESM, killAll, runNode } from '../support/proc.js';
import { trackChild } from '../support/reaper.js';
import { REPO_ROOT, readAuditFile, startStack, waitFor, type Stack } from '../support/stack.js';

const RSYSLOGD = '/usr/sbin/rsyslogd';
const CLIENT = 3;
const SERVER = 2;
// PRI = facility 13 (log audit) * 8 + severity.
const PRI_INFO = 13 * 8 + 6;
const PRI_WARNING = 13 * 8 + 4;

interface CorpusSecret {
  class: string;
  value: string;
}
const CORPUS = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'secrets-corpus.json'), 'utf8')) as {
    secrets: CorpusSecret[];
  }
).secrets;
// The first corpus value of classes that both redaction lines (SDK and collector) mask.
const CLASSES = [
  'card',
  'ssn',
  'email',
  'github_token',
  'aws_access_key',
  'jwt',
  'stripe_key',
  'slack_token',
  'bearer',
  'url_password',
];
const SECRETS = CLASSES.map((cls) => CORPUS.find((s) => s.class === cls)!.value);

const runId = randomBytes(4).toString('hex');
const SESSION = `siem-syslog-${runId}`;
const RAW_SESSION = `siem-syslog-raw-${runId}`;
const CALLER = 'user:auditor';

/** One RFC 5424 message as rsyslog wrote it (RSYSLOG_SyslogProtocol23Format). */
interface SyslogMessage {
  pri: number;
  appName: string;
  msgId: string;
  sdId: string;
  params: Record<string, string>;
  msg: string;
  line: string;
}

const HEADER =
  /^<(?<pri>\d+)>1 \S+ \S+ (?<app>\S+) \S+ (?<msgId>\S+) (?:-|\[(?<sdId>[^\s\]]+)(?<params>(?: [^=\s\]"]+="(?:[^"\\]|\\.)*")*)\]) ?(?<msg>.*)$/;
const PARAM = /([^=\s\]"]+)="((?:[^"\\]|\\.)*)"/g;

function parseLine(line: string): SyslogMessage {
  const g = HEADER.exec(line)?.groups;
  if (!g) throw new Error(`not an RFC 5424 message with one SD element: ${line}`);
  const params: Record<string, string> = {};
  for (const p of (g.params ?? '').matchAll(PARAM)) params[p[1]!] = p[2]!.replace(/\\(["\\\]])/g, '$1');
  return {
    pri: Number(g.pri),
    appName: g.app!,
    msgId: g.msgId!,
    sdId: g.sdId ?? '',
    params,
    msg: g.msg!,
    line,
  };
}

let stack: Stack;
let rsyslog: ChildProcess | undefined;
let dir: string;
let outFile: string;

function received(): SyslogMessage[] {
  if (!existsSync(outFile)) return [];
  return readFileSync(outFile, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map(parseLine);
}
const ofSession = (session: string) => received().filter((m) => m.params.session === session);

async function startRsyslog(): Promise<number> {
  if (!existsSync(RSYSLOGD)) {
    throw new Error(
      `${RSYSLOGD} not found: this test needs Debian's rsyslog as the syslog receiver; ` +
        `run 'bash scripts/build.sh' (installs it) or 'apt-get install -y rsyslog'`,
    );
  }
  const portFile = join(dir, 'rsyslog.port');
  const config = join(dir, 'rsyslog.conf');
  // Only what the test needs: no system inputs, no system files; port 0 lets rsyslog pick a free
  // port and write it to portFile (no race with another process for a port chosen in advance).
  writeFileSync(
    config,
    [
      `global(workDirectory="${dir}" maxMessageSize="64k")`,
      'module(load="imtcp")',
      `input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="${portFile}" ruleset="siem")`,
      'ruleset(name="siem") {',
      `  action(type="omfile" file="${outFile}" template="RSYSLOG_SyslogProtocol23Format")`,
      '}',
      '',
    ].join('\n'),
  );
  const log: string[] = [];
  rsyslog = spawn(RSYSLOGD, ['-n', '-f', config, '-i', join(dir, 'rsyslog.pid')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(rsyslog);
  rsyslog.stdout!.on('data', (d: Buffer) => log.push(String(d)));
  rsyslog.stderr!.on('data', (d: Buffer) => log.push(String(d)));
  const child = rsyslog;
  const port = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`rsyslogd exited with ${child.exitCode}: ${log.join('')}`);
      const text = existsSync(portFile) ? readFileSync(portFile, 'utf8').trim() : '';
      return /^\d+$/.test(text) && Number(text) > 0 ? Number(text) : undefined;
    },
    { timeoutMs: 20000, intervalMs: 50, message: 'rsyslogd did not report its port' },
  );
  return port;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-audit-syslog-'));
  outFile = join(dir, 'siem.log');
  const port = await startRsyslog();
  stack = await startStack({
    withPrometheus: false,
    extraCollectorConfigs: [`${REPO_ROOT}/collector/siem-syslog.yaml`],
    collectorEnv: { MCP_AUDIT_SYSLOG_ENDPOINT: '127.0.0.1', MCP_AUDIT_SYSLOG_PORT: String(port) },
  });
});

after(async () => {
  killAll();
  await stack?.stop();
  if (rsyslog?.pid !== undefined && rsyslog.exitCode === null) {
    const exited = new Promise<void>((resolve) => rsyslog!.once('exit', () => resolve()));
    process.kill(rsyslog.pid, 'SIGKILL');
    await exited;
  }
  if (dir && !process.env.MCP_AUDIT_KEEP_STACK_DIR) rmSync(dir, { recursive: true, force: true });
});

/** What the collector logged about the syslog exporter (for a timeout's message). */
function syslogExporterLog(): string {
  const path = stack.logs.collector;
  if (!path || !existsSync(path)) return '(no collector log)';
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.includes('syslog/siem') && /warn|error/i.test(line));
  return lines.slice(-3).join('\n') || '(nothing)';
}

/** Span ids of the audit file's tools/call spans of `session` and `kind` (what Jaeger stores too). */
function auditSpanIds(session: string, kind: number): string[] {
  const ids: string[] = [];
  for (const data of readAuditFile(stack.auditFilePath) as Array<{
    resourceSpans?: Array<{
      scopeSpans?: Array<{
        spans?: Array<{
          spanId: string;
          kind: number;
          attributes?: Array<{ key: string; value: { stringValue?: string } }>;
        }>;
      }>;
    }>;
  }>) {
    for (const rs of data.resourceSpans ?? [])
      for (const ss of rs.scopeSpans ?? [])
        for (const span of ss.spans ?? []) {
          const attr = (key: string) => span.attributes?.find((a) => a.key === key)?.value.stringValue;
          if (
            span.kind === kind &&
            attr('mcp.method.name') === 'tools/call' &&
            attr('gen_ai.conversation.id') === session
          )
            ids.push(span.spanId);
        }
  }
  return ids.sort();
}

describe('SIEM over syslog RFC 5424 (collector/siem-syslog.yaml) into rsyslog', () => {
  const calls = SECRETS.length + 1;

  it('gets one message per call, with the audit fields, and no secret', async () => {
    const run = await runNode(
      [
        '--import',
        REGISTER_ESM,
        `${FIXTURES}listed-calls-agent.mjs`,
        `${FIXTURES}stdio-server.mjs`,
        '--import',
        REGISTER_ESM,
      ],
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: stack.otlpHttpEndpoint,
        OTEL_SERVICE_NAME: 'siem-syslog-agent',
        SERVER_SERVICE_NAME: 'siem-syslog-server',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_METRICS_EXPORTER: 'none',
        MCP_AUDIT_FILE: 'off',
        // One echo call per secret (in its arguments, so in its result too), then a tool error.
        CALLS: JSON.stringify([
          ...SECRETS.map((secret) => ({ tool: 'echo', arguments: { text: `credentials: ${secret}` } })),
          { tool: 'explode', arguments: {} },
        ]),
        CALLER,
        SESSION,
      },
      60000,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { calls });
    // Both sides were recorded: the collector's audit file holds a CLIENT and a SERVER span per call.
    // Each wait throws what it saw so far, which a timeout reports.
    const clientSpans = await waitFor(
      () => {
        const client = auditSpanIds(SESSION, CLIENT);
        const server = auditSpanIds(SESSION, SERVER);
        if (client.length === calls && server.length === calls) return client;
        throw new Error(`${client.length} CLIENT and ${server.length} SERVER spans so far`);
      },
      { timeoutMs: 60000, message: `the audit file did not get ${calls} calls from both sides` },
    );
    await waitFor(
      () => {
        const got = ofSession(SESSION).length;
        if (got >= calls) return true;
        throw new Error(`${got} so far; the syslog exporter logged: ${syslogExporterLog()}`);
      },
      { timeoutMs: 60000, message: `rsyslog did not get ${calls} messages for session ${SESSION}` },
    );

    const messages = ofSession(SESSION);
    assert.equal(messages.length, calls, 'one message per call, not one per side');
    // The client side of each call, as the per-session metrics count it.
    assert.deepEqual(messages.map((m) => m.params.span_id).sort(), clientSpans);
    for (const m of messages) {
      assert.equal(m.appName, 'mcp-audit');
      assert.equal(m.msgId, 'tools/call');
      assert.equal(m.sdId, 'mcp_audit@32473');
      assert.equal(m.params.method, 'tools/call');
      assert.equal(m.params.caller, CALLER);
      assert.equal(m.params.recorded_by, 'client');
      assert.equal(m.params.service, 'siem-syslog-agent');
      assert.match(m.params.trace_id ?? '', /^[0-9a-f]{32}$/);
      assert.match(m.params.latency_ms ?? '', /^\d+\.\d{3}$/);
      assert.ok(m.msg.includes(`caller=${CALLER} session=${SESSION}`), m.msg);
    }
    const echoes = messages.filter((m) => m.params.tool === 'echo');
    assert.equal(echoes.length, SECRETS.length);
    for (const m of echoes) {
      assert.equal(m.pri, PRI_INFO, m.line);
      assert.equal(m.params.outcome, 'ok');
      assert.equal(m.params.error_type, undefined);
      assert.ok(Number(m.params.result_size) > 0, m.line);
      assert.ok(m.msg.startsWith(`tools/call echo ok caller=${CALLER}`), m.msg);
      // The (redacted) arguments close the message.
      assert.match(m.msg, /arguments=\{"text":"credentials: .*\[REDACTED:[a-z_]+\]/);
    }
    // The result echoed the card number: its class is in the record, the number is not.
    const card = echoes.find((m) => m.msg.includes('[REDACTED:card]'));
    assert.ok(card, 'no echo call with a masked card number');
    assert.ok((card.params.pii_classes ?? '').split(',').includes('card'), card.line);
    const explode = messages.find((m) => m.params.tool === 'explode');
    assert.ok(explode, 'no message for the explode call');
    assert.equal(explode.pri, PRI_WARNING, explode.line);
    assert.equal(explode.params.outcome, 'error');
    assert.equal(explode.params.error_type, 'tool_error');
    assert.ok(explode.msg.startsWith('tools/call explode error=tool_error'), explode.msg);

    const everything = readFileSync(outFile, 'utf8');
    for (const secret of SECRETS)
      assert.ok(!everything.includes(secret), `a secret reached rsyslog: ${secret}`);
  });

  it('masks what a sender exported in clear, and counts a natively traced call once', async () => {
    const traceId = randomBytes(16).toString('hex');
    const now = BigInt(Date.now()) * 1_000_000n;
    const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
    const clear = { card: SECRETS[0], email: SECRETS[2], token: SECRETS[3], key: SECRETS[4] };
    const span = (
      name: string,
      extra: Record<string, unknown>,
      attributes: Array<ReturnType<typeof str>>,
    ) => ({
      traceId,
      spanId: randomBytes(8).toString('hex'),
      name,
      kind: SERVER,
      startTimeUnixNano: String(now),
      endTimeUnixNano: String(now + 2_000_000n),
      attributes: [
        str('mcp.method.name', 'tools/call'),
        str('gen_ai.conversation.id', RAW_SESSION),
        str('enduser.id', CALLER),
        ...attributes,
      ],
      ...extra,
    });
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [str('service.name', 'siem-syslog-raw-server')] },
          scopeSpans: [
            {
              scope: { name: 'raw' },
              spans: [
                // A server no instrumented client called: its span is the call's only record.
                span('tools/call charge', { status: { code: 2, message: `declined ${clear.card}` } }, [
                  str('gen_ai.tool.name', 'charge'),
                  str('error.type', 'tool_error'),
                  str('gen_ai.tool.call.arguments', JSON.stringify(clear)),
                ]),
                // A natively traced server span whose request carried a client's span context:
                // that client's span records the call, so this one is not sent.
                span('tools/call refund', { parentSpanId: randomBytes(8).toString('hex') }, [
                  str('gen_ai.tool.name', 'refund'),
                ]),
              ],
            },
          ],
        },
      ],
    };
    const response = await fetch(`${stack.otlpHttpEndpoint}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(response.status, 200);
    // Both spans travel in one request, so one batch: once charge's message is there, refund's
    // would be too.
    const charge = await waitFor(() => ofSession(RAW_SESSION).find((m) => m.params.tool === 'charge'), {
      timeoutMs: 60000,
      message: 'the raw span did not reach rsyslog',
    });
    assert.deepEqual(
      ofSession(RAW_SESSION).map((m) => m.params.tool),
      ['charge'],
    );
    assert.equal(charge.pri, PRI_WARNING);
    assert.equal(charge.params.recorded_by, 'server');
    assert.equal(charge.params.server, 'siem-syslog-raw-server');
    assert.match(charge.msg, /arguments=\{"card":"\[REDACTED:card\]","email":"\[REDACTED:email\]"/);
    const everything = readFileSync(outFile, 'utf8');
    for (const secret of Object.values(clear))
      assert.ok(!everything.includes(secret!), `reached rsyslog: ${secret}`);
    // Nothing of the first session arrived twice meanwhile.
    assert.equal(ofSession(SESSION).length, calls);
  });
});
