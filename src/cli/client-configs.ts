// Where each MCP client keeps its server list, as the clients document it:
// - Claude Desktop: claude_desktop_config.json, key `mcpServers` (strict JSON).
// - Claude Code: project scope `.mcp.json` (`mcpServers`); user scope `~/.claude.json`
//   top-level `mcpServers`; local scope `~/.claude.json` `projects[<absolute dir>].mcpServers`.
// - Cursor: `.cursor/mcp.json` (project) or `~/.cursor/mcp.json` (user), key `mcpServers`.
// - VS Code: `.vscode/mcp.json` (workspace) or the user profile's `mcp.json`, key `servers`
//   (JSONC: comments and trailing commas allowed).
// Every stdio entry has `command` and optional `args` (plus `env`, `cwd`, `type`, ... left alone);
// remote entries have `url`.

import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from './command.js';

export const CLIENTS = ['claude-desktop', 'claude-code', 'cursor', 'vscode'] as const;
export type ClientName = (typeof CLIENTS)[number];
export type Scope = 'user' | 'project' | 'local';

/** One server list to patch: a file and the key path to the object of servers in it. */
export interface ConfigTarget {
  client: ClientName;
  scope: Scope;
  file: string;
  path: string[];
  /** Comments allowed in the file. */
  jsonc: boolean;
}

export interface TargetOptions {
  client: ClientName;
  scope?: Scope;
  config?: string;
  project: string;
  platform?: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
  home?: string;
}

function appConfigDir(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, home: string): string {
  if (platform === 'darwin') return join(home, 'Library', 'Application Support');
  if (platform === 'win32') return env.APPDATA || join(home, 'AppData', 'Roaming');
  return env.XDG_CONFIG_HOME || join(home, '.config');
}

/** The server lists `install`/`uninstall` act on for these options, in order. */
export function configTargets(options: TargetOptions): ConfigTarget[] {
  const platform = options.platform ?? process.platform;
  const env = options.env ?? process.env;
  const home = options.home ?? homedir();
  const project = resolve(options.project);
  const { client, scope } = options;
  const one = (s: Scope, file: string, path: string[], jsonc = false): ConfigTarget => ({
    client,
    scope: s,
    file: resolve(file),
    path,
    jsonc,
  });
  switch (client) {
    case 'claude-desktop': {
      if (scope && scope !== 'user') throw new UsageError('claude-desktop has one config (no --scope)');
      const file =
        options.config ?? join(appConfigDir(platform, env, home), 'Claude', 'claude_desktop_config.json');
      return [one('user', file, ['mcpServers'])];
    }
    case 'claude-code': {
      const user = options.config ?? join(home, '.claude.json');
      const all: ConfigTarget[] = [
        one('project', join(project, '.mcp.json'), ['mcpServers']),
        one('local', user, ['projects', project, 'mcpServers']),
        one('user', user, ['mcpServers']),
      ];
      if (options.config && !scope)
        throw new UsageError('with --config, give --scope user, local or project');
      if (options.config && scope === 'project') return [one('project', options.config, ['mcpServers'])];
      return scope ? all.filter((t) => t.scope === scope) : all;
    }
    case 'cursor': {
      if (scope === 'local') throw new UsageError('cursor has user and project scopes');
      const file =
        options.config ??
        (scope === 'user' ? join(home, '.cursor', 'mcp.json') : join(project, '.cursor', 'mcp.json'));
      return [one(scope ?? 'project', file, ['mcpServers'])];
    }
    case 'vscode': {
      if (scope === 'local') throw new UsageError('vscode has user and project (workspace) scopes');
      const file =
        options.config ??
        (scope === 'user'
          ? join(appConfigDir(platform, env, home), 'Code', 'User', 'mcp.json')
          : join(project, '.vscode', 'mcp.json'));
      return [one(scope ?? 'project', file, ['servers'], true)];
    }
  }
}
