// `mcp-audit install` / `uninstall` on copies of each client's config (fixtures written from the
// clients' documented formats: unknown keys, comments, remote servers, an already wrapped one).
// The rewritten file parses, the wrapped server starts and answers through the proxy (real SDK
// client, real server-everything), installing twice wraps once, and uninstall restores the
// original byte for byte.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { parseJsonc } from '../../src/cli/jsonc.js';
import { ROOT } from '../support/proc.js';
import { CLI, EVERYTHING, FILESYSTEM } from './wrap-harness.js';

const FIXTURES = `${ROOT}test/fixtures/clients/`;
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function sandbox(): { home: string; project: string } {
  const home = mkdtempSync(join(tmpdir(), 'mcp-audit-install-'));
  dirs.push(home);
  const project = join(home, 'work', 'app');
  mkdirSync(project, { recursive: true });
  return { home, project };
}

/** Copies a fixture to `dest` with the placeholders filled in; returns the bytes written. */
function place(fixture: string, dest: string, project: string): string {
  const text = readFileSync(FIXTURES + fixture, 'utf8')
    .replaceAll('__EVERYTHING__', EVERYTHING)
    .replaceAll('__FILESYSTEM__', FILESYSTEM)
    .replaceAll('__PROJECT__', project);
  mkdirSync(join(dest, '..'), { recursive: true });
  writeFileSync(dest, text);
  chmodSync(dest, 0o640);
  return text;
}

function cli(
  args: string[],
  home: string,
  cwd: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd,
      env: { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

type Entry = { command?: string; args?: string[]; env?: Record<string, string> };

function servers(file: string, path: string[]): Record<string, Entry> {
  let node = parseJsonc(readFileSync(file, 'utf8')).value as Record<string, unknown>;
  for (const key of path) node = node[key] as Record<string, unknown>;
  return node as Record<string, Entry>;
}

function assertWrapped(entry: Entry, name: string, command: string, args: string[]): void {
  assert.equal(entry.command, process.execPath);
  const split = entry.args!.indexOf('--');
  assert.deepEqual(entry.args!.slice(0, 2), [`${ROOT}bin/mcp-audit.cjs`, 'wrap']);
  assert.deepEqual(entry.args!.slice(split - 2, split), ['--service', name]);
  assert.equal(entry.args![split + 1], command);
  assert.deepEqual(entry.args!.slice(split + 2), args);
}

/** Starts a server entry as the client would and calls a tool through it. */
async function callThrough(entry: Entry, home: string): Promise<string> {
  const transport = new StdioClientTransport({
    command: entry.command!,
    args: entry.args,
    env: {
      ...(process.env as Record<string, string>),
      ...(entry.env ?? {}),
      HOME: home,
      MCP_AUDIT_FILE: join(home, 'audit.jsonl'),
    },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'install-test', version: '1.0.0' });
  await client.connect(transport);
  const result = (await client.callTool({ name: 'get-sum', arguments: { a: 40, b: 2 } })) as {
    content: { text: string }[];
  };
  await client.close();
  return result.content[0]!.text;
}

async function roundTrip(opts: {
  client: string;
  file: string;
  original: string;
  home: string;
  cwd: string;
  extra?: string[];
}): Promise<{ installOut: string }> {
  const flags = ['--client', opts.client, ...(opts.extra ?? [])];
  const dry = await cli(['install', ...flags, '--dry-run'], opts.home, opts.cwd);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^\+.*mcp-audit\.cjs/m, 'the dry run prints the diff');
  assert.equal(readFileSync(opts.file, 'utf8'), opts.original, '--dry-run changed the file');

  const installed = await cli(['install', ...flags], opts.home, opts.cwd);
  assert.equal(installed.code, 0, installed.stderr);
  assert.match(installed.stdout, /for the change to take effect/);
  const after1 = readFileSync(opts.file, 'utf8');
  assert.notEqual(after1, opts.original);
  assert.equal(statSync(opts.file).mode & 0o777, 0o640, 'the file mode changed');
  assert.equal(
    readFileSync(`${opts.file}.mcp-audit.bak`, 'utf8'),
    opts.original,
    'no backup of the original',
  );

  const again = await cli(['install', ...flags], opts.home, opts.cwd);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /already runs under mcp-audit wrap/);
  assert.equal(readFileSync(opts.file, 'utf8'), after1, 'installing twice changed the file again');
  return { installOut: installed.stdout };
}

async function uninstall(
  client: string,
  file: string,
  original: string,
  home: string,
  cwd: string,
  extra: string[] = [],
) {
  const out = await cli(['uninstall', '--client', client, ...extra], home, cwd);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(readFileSync(file, 'utf8'), original, 'uninstall did not restore the original bytes');
  assert.ok(!existsSync(`${file}.mcp-audit-state.json`));
}

describe('install / uninstall', () => {
  it('claude-desktop: claude_desktop_config.json (mcpServers), unknown keys and a wrapped server kept', async () => {
    const { home, project } = sandbox();
    const file = join(home, '.config', 'Claude', 'claude_desktop_config.json');
    const original = place('claude_desktop_config.json', file, project);
    const evidence = join(home, 'evidence', '{service}.jsonl');
    const { installOut } = await roundTrip({
      client: 'claude-desktop',
      file,
      original,
      home,
      cwd: project,
      extra: ['--audit-file', evidence],
    });
    assert.match(installOut, /already-audited: already runs under mcp-audit wrap/);
    const list = servers(file, ['mcpServers']);
    assertWrapped(list.everything!, 'everything', process.execPath, [EVERYTHING, 'stdio']);
    assert.deepEqual(list.time!.env, { TZ: 'Europe/Paris' });
    assert.equal(list.time!.args![list.time!.args!.indexOf('--') + 1]!.endsWith('uvx'), true);
    const before = JSON.parse(original) as Record<string, unknown>;
    const now = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(now.preferences, before.preferences);
    assert.equal(now.globalShortcut, before.globalShortcut);
    assert.deepEqual(
      (now.mcpServers as Record<string, unknown>)['already-audited'],
      (before.mcpServers as Record<string, unknown>)['already-audited'],
    );
    assert.match(await callThrough(list.everything!, home), /\b42\b/);
    // The evidence log named by --audit-file, under the config's server name.
    const record = readFileSync(join(home, 'evidence', 'everything.jsonl'), 'utf8');
    assert.ok(record.includes('"tool_name":"get-sum"'), 'no audit record');
    assert.ok(record.includes('"service_name":"everything"'));
    await uninstall('claude-desktop', file, original, home, project, ['--audit-file', evidence]);
    assert.ok(!existsSync(`${file}.mcp-audit.bak`));
  });

  it('claude-code: project (.mcp.json), local and user scopes (~/.claude.json); remote servers left with a note', async () => {
    const { home, project } = sandbox();
    const user = join(home, '.claude.json');
    const mcp = join(project, '.mcp.json');
    const userOriginal = place('claude.json', user, project);
    const mcpOriginal = place('mcp.json', mcp, project);
    const installed = await cli(['install', '--client', 'claude-code'], home, project);
    assert.equal(installed.code, 0, installed.stderr);
    assert.match(installed.stdout, /remote-docs: remote \(HTTP\) server left as it is/);
    assertWrapped(
      servers(mcp, ['mcpServers'])['everything-project']!,
      'everything-project',
      process.execPath,
      [EVERYTHING, 'stdio'],
    );
    assertWrapped(servers(user, ['mcpServers'])['everything-user']!, 'everything-user', process.execPath, [
      EVERYTHING,
      'stdio',
    ]);
    assertWrapped(
      servers(user, ['projects', project, 'mcpServers'])['fs-local']!,
      'fs-local',
      process.execPath,
      [FILESYSTEM, project],
    );
    // Another project's servers and every other key stay as they were.
    const now = JSON.parse(readFileSync(user, 'utf8')) as Record<string, Record<string, unknown>>;
    const before = JSON.parse(userOriginal) as Record<string, Record<string, unknown>>;
    assert.deepEqual(now.projects!['/some/other/project'], before.projects!['/some/other/project']);
    assert.deepEqual(now.oauthAccount, before.oauthAccount);
    assert.equal(now.numStartups, before.numStartups);
    assert.match(await callThrough(servers(mcp, ['mcpServers'])['everything-project']!, home), /\b42\b/);
    await uninstall('claude-code', user, userOriginal, home, project);
    assert.equal(readFileSync(mcp, 'utf8'), mcpOriginal);
  });

  it('claude-code: one scope at a time', async () => {
    const { home, project } = sandbox();
    const user = join(home, '.claude.json');
    const userOriginal = place('claude.json', user, project);
    const out = await cli(['install', '--client', 'claude-code', '--scope', 'local'], home, project);
    assert.equal(out.code, 0, out.stderr);
    assertWrapped(
      servers(user, ['projects', project, 'mcpServers'])['fs-local']!,
      'fs-local',
      process.execPath,
      [FILESYSTEM, project],
    );
    assert.equal(servers(user, ['mcpServers'])['everything-user']!.command, 'node', 'user scope touched');
    await uninstall('claude-code', user, userOriginal, home, project, ['--scope', 'local']);
  });

  it('cursor: .cursor/mcp.json, an entry without args, env kept, remote left alone', async () => {
    const { home, project } = sandbox();
    const file = join(project, '.cursor', 'mcp.json');
    const original = place('cursor-mcp.json', file, project);
    const { installOut } = await roundTrip({ client: 'cursor', file, original, home, cwd: project });
    assert.match(installOut, /linear: remote \(HTTP\) server left as it is/);
    const list = servers(file, ['mcpServers']);
    assertWrapped(list['no-args']!, 'no-args', 'my-mcp-server', []);
    assert.deepEqual(list.everything!.env, { API_KEY: 'value' });
    assert.equal((list.linear as { url?: string }).url, 'https://mcp.example.com/sse');
    await uninstall('cursor', file, original, home, project);
  });

  it('vscode: .vscode/mcp.json (servers, JSONC): comments, trailing commas and inputs kept', async () => {
    const { home, project } = sandbox();
    const file = join(project, '.vscode', 'mcp.json');
    const original = place('vscode-mcp.json', file, project);
    await roundTrip({ client: 'vscode', file, original, home, cwd: project });
    const text = readFileSync(file, 'utf8');
    assert.ok(text.includes('// Servers for this workspace'));
    assert.ok(text.includes('/* the reference server, run from the workspace */'));
    assert.ok(text.includes('"id": "api-key",'));
    const list = servers(file, ['servers']);
    assertWrapped(list.everything!, 'everything', process.execPath, [EVERYTHING, 'stdio']);
    assert.equal((list.github as { url?: string }).url, 'https://api.example.com/mcp/');
    assert.match(await callThrough({ ...list.everything!, env: {} }, home), /\b42\b/);
    await uninstall('vscode', file, original, home, project);
  });

  it('--config FILE, a missing file, and a file that is not JSON', async () => {
    const { home, project } = sandbox();
    const custom = join(home, 'custom.json');
    const original = place('cursor-mcp.json', custom, project);
    const out = await cli(['install', '--client', 'cursor', '--config', custom], home, project);
    assert.equal(out.code, 0, out.stderr);
    assert.notEqual(readFileSync(custom, 'utf8'), original);
    await uninstall('cursor', custom, original, home, project, ['--config', custom]);
    const missing = await cli(['install', '--client', 'cursor'], home, project);
    assert.equal(missing.code, 0);
    assert.match(missing.stdout, /no such file/);
    const broken = join(home, 'broken.json');
    writeFileSync(broken, '{ "mcpServers": { ');
    const bad = await cli(['install', '--client', 'cursor', '--config', broken], home, project);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /not valid JSON/);
    assert.equal(readFileSync(broken, 'utf8'), '{ "mcpServers": { ');
    const usage = await cli(['install', '--client', 'emacs'], home, project);
    assert.equal(usage.code, 2);
  });
});
