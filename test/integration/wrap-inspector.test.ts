// `mcp-audit wrap` driven by a client this project did not write: the official MCP Inspector in
// CLI mode (`mcp-inspector --cli`, from @modelcontextprotocol/inspector), one process per
// request as a user would run it. Each request is made twice, against the server directly and
// under wrap: the Inspector must print the same thing and exit the same way, and every tools/call
// through wrap must be a span with the audit attributes, exported to a real OTLP/HTTP endpoint,
// with the secret put in an argument absent from every exported byte.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { ROOT, otlpEnv, runNode, type RunResult } from '../support/proc.js';
import { CLI, EVERYTHING, PY_FIXTURE, venvPython } from './wrap-harness.js';

const INSPECTOR_DIR = `${ROOT}node_modules/@modelcontextprotocol/inspector/`;
const INSPECTOR = `${INSPECTOR_DIR}${
  (JSON.parse(readFileSync(`${INSPECTOR_DIR}package.json`, 'utf8')) as { bin: Record<string, string> }).bin[
    'mcp-inspector'
  ]
}`;
const SERVER_KIND = 2;
/** Exit status of `mcp-inspector --cli` when the tool answered with isError: true. */
const INSPECTOR_TOOL_ERROR = 5;
const SECRET = 'AKIAIOSFODNN7EXAMPLE';
const PASSWORD = 'hunter2-very-secret';
const RUN_TIMEOUT_MS = 90_000;
/** Each suite starts the Inspector six times, two at once; a loaded 2-core machine needs minutes. */
const HOOK = { timeout: 400_000 };

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver.close();
});

/**
 * One Inspector CLI run: `mcp-inspector --cli <request flags> [-e K=V...] -- <server command>`.
 * The Inspector's commander parser ends its own options at the first `--`, so the server command
 * (which holds wrap's own `--`) goes after it, untouched. The Inspector hands the server only a
 * default environment plus `-e` pairs, so the exporter settings for wrap go as `-e`.
 */
function inspect(request: string[], server: string[], serverEnv: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const env = Object.entries(serverEnv).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  return runNode([INSPECTOR, '--cli', ...request, ...env, '--', ...server], {}, RUN_TIMEOUT_MS);
}

const underWrap = (server: string[], flags: string[] = []) => [CLI, 'wrap', ...flags, '--', ...server];

/** Runs the same request directly and under wrap; both runs must print and exit alike. */
async function sideBySide(
  request: string[],
  server: string[],
  flags: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ direct: RunResult; wrapped: RunResult }> {
  const [direct, wrapped] = await Promise.all([
    inspect(request, server),
    inspect(request, [process.execPath, ...underWrap(server, flags)], env),
  ]);
  assert.equal(wrapped.code, direct.code, `exit codes differ; wrapped stderr:\n${wrapped.stderr}`);
  assert.equal(wrapped.stdout, direct.stdout);
  return { direct, wrapped };
}

const toolSpans = (service: string): ReceivedSpan[] =>
  receiver.spans.filter((s) => s.service === service && s.attributes['mcp.method.name'] === 'tools/call');

/** `version` undefined: the server's initialize reply gave an empty version, which is not recorded. */
function assertAuditSpan(
  span: ReceivedSpan,
  server: { name: string; version: 'any' | undefined },
  caller: string,
  session: string,
): void {
  const a = span.attributes;
  assert.equal(span.kind, SERVER_KIND);
  assert.equal(a['network.transport'], 'pipe');
  assert.equal(a['gen_ai.operation.name'], 'execute_tool');
  assert.equal(a['mcp_audit.proxy'], 'wrap');
  assert.equal(a['mcp_audit.server.name'], server.name);
  if (server.version === 'any') assert.match(String(a['mcp_audit.server.version']), /^\d/);
  else assert.equal(a['mcp_audit.server.version'], undefined);
  assert.match(String(a['mcp_audit.client.name']), /inspector/i);
  assert.equal(a['mcp_audit.client.instrumented'], false);
  assert.equal(a['enduser.id'], caller);
  assert.equal(a['gen_ai.conversation.id'], session);
  assert.ok((a['mcp_audit.result.size'] as number) > 0);
}

describe('MCP Inspector CLI → wrap → @modelcontextprotocol/server-everything (npm, stdio)', () => {
  const server = [process.execPath, EVERYTHING, 'stdio'];
  const flags = ['--caller', 'user:inspector', '--session', 's-inspector'];
  const runs: Record<string, { direct: RunResult; wrapped: RunResult }> = {};
  before(async () => {
    const serverEnv = otlpEnv(receiver.url, 'inspector-everything');
    runs.list = await sideBySide(['--method', 'tools/list'], server, flags, serverEnv);
    runs.echo = await sideBySide(
      [
        '--method',
        'tools/call',
        '--tool-name',
        'echo',
        '--tool-arg',
        `message=key ${SECRET} password=${PASSWORD}`,
      ],
      server,
      flags,
      serverEnv,
    );
    runs.sum = await sideBySide(
      ['--method', 'tools/call', '--tool-name', 'get-sum', '--tool-arg', 'a=19', '--tool-arg', 'b=23'],
      server,
      flags,
      serverEnv,
    );
    await receiver.waitForSpans(() => toolSpans('inspector-everything').length >= 2);
  }, HOOK);

  it('prints the same tools/list and the same results as without wrap', () => {
    const tools = (JSON.parse(runs.list!.wrapped.stdout) as { tools: { name: string }[] }).tools;
    assert.ok(tools.some((t) => t.name === 'echo') && tools.some((t) => t.name === 'get-sum'));
    assert.equal(runs.sum!.wrapped.code, 0);
    assert.match(runs.sum!.wrapped.stdout, /The sum of 19 and 23 is 42/);
    assert.ok(runs.echo!.wrapped.stdout.includes(SECRET), 'the relay must not alter what the server answers');
  });

  it('records each tools/call as a SERVER span with the tool, outcome and redacted arguments', () => {
    const spans = toolSpans('inspector-everything');
    assert.deepEqual(spans.map((s) => s.attributes['gen_ai.tool.name']).sort(), ['echo', 'get-sum']);
    for (const span of spans) {
      assertAuditSpan(
        span,
        { name: 'mcp-servers/everything', version: 'any' },
        'user:inspector',
        's-inspector',
      );
      assert.equal(span.attributes['error.type'], undefined);
    }
    const sum = spans.find((s) => s.name === 'tools/call get-sum')!;
    assert.equal(sum.attributes['gen_ai.tool.call.arguments'], '{"a":19,"b":23}');
    const echo = spans.find((s) => s.name === 'tools/call echo')!;
    assert.match(String(echo.attributes['gen_ai.tool.call.arguments']), /\[REDACTED:/);
    assert.ok(receiver.spans.some((s) => s.service === 'inspector-everything' && s.name === 'tools/list'));
  });

  it('never lets the secret in an argument reach the exporter', () => {
    assert.ok(receiver.raw.length > 0);
    for (const body of receiver.raw) {
      assert.ok(!body.includes(SECRET), 'the AWS key reached the exporter');
      assert.ok(!body.includes(PASSWORD), 'the password reached the exporter');
    }
  });
});

/** FastMCP answers initialize with `serverInfo: { name: 'fastmcp-fixture', version: '' }`. */
const FASTMCP = { name: 'fastmcp-fixture', version: undefined };

describe('MCP Inspector CLI → wrap → FastMCP fixture (Python, PyPI `mcp`, project-local venv)', () => {
  const service = 'inspector-fastmcp';
  const runs: Record<string, { direct: RunResult; wrapped: RunResult }> = {};
  before(async () => {
    const server = [venvPython(), PY_FIXTURE];
    const flags = ['--caller', 'user:py-inspector', '--session', 's-py-inspector'];
    const env = otlpEnv(receiver.url, service);
    runs.add = await sideBySide(
      ['--method', 'tools/call', '--tool-name', 'add', '--tool-arg', 'a=2', '--tool-arg', 'b=40'],
      server,
      flags,
      env,
    );
    // Not an integer: the Inspector, coercing to the tool's schema, sends a: null; the server
    // answers with isError: true, and the Inspector exits non-zero.
    runs.bad = await sideBySide(
      ['--method', 'tools/call', '--tool-name', 'add', '--tool-arg', 'a=forty', '--tool-arg', 'b=2'],
      server,
      flags,
      env,
    );
    runs.echo = await sideBySide(
      ['--method', 'tools/call', '--tool-name', 'echo', '--tool-arg', `message=token ${SECRET}`],
      server,
      flags,
      env,
    );
    await receiver.waitForSpans(() => toolSpans(service).length >= 3);
  }, HOOK);

  it('prints the same results and exits the same way as without wrap, tool error included', () => {
    assert.equal(runs.add!.wrapped.code, 0);
    assert.deepEqual(
      (JSON.parse(runs.add!.wrapped.stdout) as { structuredContent: unknown }).structuredContent,
      {
        result: 42,
      },
    );
    assert.equal(runs.bad!.wrapped.code, INSPECTOR_TOOL_ERROR);
    assert.equal((JSON.parse(runs.bad!.wrapped.stdout) as { isError: boolean }).isError, true);
  });

  it('records the Python server identity, the outcome of each call, and no secret', () => {
    const spans = toolSpans(service);
    assert.equal(spans.length, 3);
    for (const span of spans) assertAuditSpan(span, FASTMCP, 'user:py-inspector', 's-py-inspector');
    const byArgs = (text: string) =>
      spans.find((s) => String(s.attributes['gen_ai.tool.call.arguments']).includes(text))!;
    assert.equal(byArgs('"a":2').attributes['error.type'], undefined);
    assert.equal(byArgs('"a":null').attributes['error.type'], 'tool_error');
    const echo = spans.find((s) => s.attributes['gen_ai.tool.name'] === 'echo')!;
    assert.match(String(echo.attributes['gen_ai.tool.call.arguments']), /\[REDACTED:/);
    assert.ok(runs.echo!.wrapped.stdout.includes(SECRET));
    for (const body of receiver.raw) assert.ok(!body.includes(SECRET), 'the key reached the exporter');
  });
});
