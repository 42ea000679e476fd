// `mcp-audit install` / `mcp-audit uninstall`: put every stdio MCP server a client already has
// under `mcp-audit wrap`, and take it back out, byte for byte.

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIENTS, configTargets, type ClientName, type ConfigTarget, type Scope } from './client-configs.js';
import { lineDiff, unwrapServers, wrapServers, type Launcher, type TransformResult } from './config-edit.js';
import {
  backupOnce,
  readState,
  removeBackup,
  replaceFile,
  withFileLock,
  writeState,
  BACKUP_SUFFIX,
} from './config-file.js';
import { parse } from './args.js';
import { EXIT_FAILED, EXIT_OK, UsageError, type Command } from './command.js';
import { JsoncError, parseJsonc } from './jsonc.js';

const RESTART: Record<ClientName, string> = {
  'claude-desktop':
    'Quit Claude Desktop completely (from the menu bar or tray, not just its window) and start it again',
  'claude-code': 'Start a new Claude Code session (running ones keep their servers)',
  cursor: 'Restart Cursor (or turn each server off and on under Settings → MCP)',
  vscode: 'Restart the servers in VS Code (MCP: List Servers → Restart) or reload the window',
};

const options = {
  client: { type: 'string' },
  config: { type: 'string' },
  scope: { type: 'string' },
  project: { type: 'string' },
  'dry-run': { type: 'boolean' },
  otlp: { type: 'string' },
  'audit-file': { type: 'string' },
} as const;

function usageFor(verb: 'install' | 'uninstall'): string {
  const what =
    verb === 'install'
      ? `Rewrites a client's MCP server list so every stdio server runs under \`mcp-audit wrap\`:
its command becomes this Node.js and its args [mcp-audit, wrap, --service NAME, --, original command (made
absolute when found on PATH: clients often start servers with a reduced PATH), original args].
Server names, env, unknown keys, comments and formatting are kept; remote (HTTP) servers are left
as they are, with a note. Installing twice wraps once. The first install keeps a copy of the file
(FILE${BACKUP_SUFFIX}) and a record of the original values, so uninstall restores them exactly.`
      : `Puts back the original command and args of every server that install wrapped, byte for byte
(servers added since are left alone).`;
  return `Usage: mcp-audit ${verb} --client ${CLIENTS.join('|')} [options]

${what}

Options:
  --client NAME     claude-desktop (claude_desktop_config.json), claude-code (.mcp.json and
                    ~/.claude.json), cursor (.cursor/mcp.json), vscode (.vscode/mcp.json)
  --scope SCOPE     claude-code: user, local or project (default: all three);
                    cursor, vscode: project (default) or user
  --config FILE     the config file to edit instead of the client's default location
  --project DIR     the project the project/local scopes are for (default: the current folder)
  --otlp URL        wrapped servers export their audit spans here (e.g. http://127.0.0.1:4318,
                    the collector); desktop clients do not pass your shell's OTEL_* variables
  --audit-file PATH wrapped servers write the evidence log here ({pid} and {service} expand)
  --dry-run         print the diff, change nothing
  -h, --help        show this help

Writes are atomic (same mode and owner), under a lock, and re-checked after writing.
Windows launchers (npx.cmd, uvx.cmd) are started through cmd /d /s /c by wrap (not tested in CI).
Exit status: 0 done (or nothing to do), 1 a file could not be read or written, 2 usage error.`;
}

function launcher(flags: string[]): Launcher {
  return {
    node: process.execPath,
    cli: fileURLToPath(new URL('../../bin/mcp-audit.cjs', import.meta.url)),
    flags,
  };
}

function parseFlags(argv: string[]): {
  targets: ConfigTarget[];
  dryRun: boolean;
  client: ClientName;
  wrapFlags: string[];
} {
  const { values } = parse(argv, options, false);
  const wrapFlags: string[] = [];
  if (values.otlp !== undefined) wrapFlags.push('--otlp', values.otlp);
  if (values['audit-file'] !== undefined) wrapFlags.push('--audit-file', resolve(values['audit-file']));
  const client = values.client as ClientName | undefined;
  if (!client || !CLIENTS.includes(client))
    throw new UsageError(`--client must be one of ${CLIENTS.join(', ')}`);
  const scope = values.scope as Scope | undefined;
  if (scope && !['user', 'local', 'project'].includes(scope))
    throw new UsageError('--scope must be user, local or project');
  const targets = configTargets({
    client,
    scope,
    config: values.config,
    project: values.project ?? process.cwd(),
  });
  return { targets, dryRun: values['dry-run'] === true, client, wrapFlags };
}

function byFile(targets: ConfigTarget[]): Map<string, ConfigTarget[]> {
  const map = new Map<string, ConfigTarget[]>();
  for (const t of targets) map.set(t.file, [...(map.get(t.file) ?? []), t]);
  return map;
}

type Transform = (
  text: string,
  target: ConfigTarget,
  state: ReturnType<typeof readState>,
  wrapFlags: string[],
) => TransformResult;

async function run(argv: string[], verb: 'install' | 'uninstall', transform: Transform): Promise<number> {
  const { targets, dryRun, client, wrapFlags } = parseFlags(argv);
  let changedAny = false;
  let failed = false;
  for (const [file, group] of byFile(targets)) {
    if (!existsSync(file)) {
      process.stdout.write(`${file}: no such file (nothing to ${verb})\n`);
      continue;
    }
    try {
      await withFileLock(file, () => {
        const before = readFileSync(file, 'utf8');
        const state = readState(file);
        let text = before;
        for (const target of group) {
          const result = transform(text, target, state, wrapFlags);
          text = result.text;
          const where = `${file} [${target.scope}: ${target.path.join('.')}]`;
          for (const name of result.changed)
            process.stdout.write(`${where}: ${verb === 'install' ? 'wrapped' : 'restored'} ${name}\n`);
          for (const note of result.notes)
            process.stdout.write(`${where}: ${note.server}: ${note.message}\n`);
        }
        if (text === before) return;
        changedAny = true;
        if (dryRun) {
          process.stdout.write(lineDiff(before, text, file));
          return;
        }
        parseJsonc(text); // never write what would not parse
        if (verb === 'install') backupOnce(file);
        replaceFile(file, before, text);
        writeState(file, state);
        if (verb === 'uninstall' && Object.values(state).every((l) => Object.keys(l).length === 0))
          removeBackup(file);
      });
    } catch (err) {
      failed = true;
      const message =
        err instanceof JsoncError ? `not valid JSON (${err.message}); left as it is` : (err as Error).message;
      process.stderr.write(`mcp-audit ${verb}: ${file}: ${message}\n`);
    }
  }
  if (changedAny && !dryRun) process.stdout.write(`${RESTART[client]} for the change to take effect.\n`);
  if (!changedAny && !failed) process.stdout.write(`nothing to ${verb}\n`);
  return failed ? EXIT_FAILED : EXIT_OK;
}

export const installCommand: Command = {
  name: 'install',
  summary: "wrap every stdio MCP server of a client's config (Claude Desktop, Claude Code, Cursor, VS Code)",
  usage: usageFor('install'),
  run: (argv) =>
    run(argv, 'install', (text, t, state, flags) => wrapServers(text, t.path, launcher(flags), state)),
};

export const uninstallCommand: Command = {
  name: 'uninstall',
  summary: 'undo install: restore the original server commands exactly',
  usage: usageFor('uninstall'),
  run: (argv) => run(argv, 'uninstall', (text, t, state) => unwrapServers(text, t.path, state)),
};
