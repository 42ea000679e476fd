// The text transforms behind `mcp-audit install` / `uninstall`: each stdio server of a client's
// list gets `command` = this Node.js and `args` = [our CLI, "wrap", "--", original command,
// original args...]. Only those two values change; server names, env, unknown keys, comments and
// formatting stay. What the values were (their exact text) is kept in a state record, so
// uninstall puts back the same bytes.

import { existsSync, statSync } from 'node:fs';
import { basename, delimiter, isAbsolute, join } from 'node:path';
import { applyEdits, member, parseJsonc, type Edit, type JsonNode } from './jsonc.js';

export interface Launcher {
  /** Absolute path of the node binary. */
  node: string;
  /** Absolute path of bin/mcp-audit.cjs. */
  cli: string;
  /** Flags for every wrapped server (--otlp, --audit-file); `--service <name>` is added per server. */
  flags?: string[];
}

/** The exact text of a server's values before install. */
export interface EntryState {
  command: string;
  /** The original `args` value text, or null when there was none (then `inserted` is what we added). */
  args: string | null;
  inserted?: string;
}

/** Per server list (key path, as JSON), per server name. */
export type FileState = Record<string, Record<string, EntryState>>;

export interface Note {
  server: string;
  message: string;
}

export interface TransformResult {
  text: string;
  changed: string[];
  notes: Note[];
}

function nodeAt(root: JsonNode, path: string[]): JsonNode | undefined {
  let node: JsonNode | undefined = root;
  for (const key of path) node = member(node, key);
  return node;
}

/** True when an entry already runs under `mcp-audit wrap` (installing twice wraps once). */
export function isWrapped(command: unknown, args: unknown): boolean {
  if (!Array.isArray(args) || !args.includes('wrap') || !args.includes('--')) return false;
  const names = [command, ...args.slice(0, args.indexOf('wrap'))]
    .filter((a): a is string => typeof a === 'string')
    .map((a) => basename(a.replace(/\\/g, '/')).toLowerCase());
  return names.some((n) => n === 'mcp-audit' || n === 'mcp-audit.cmd' || n === 'mcp-audit.cjs');
}

/** `command` as an absolute path when it is a bare name found on PATH (clients often strip PATH). */
export function absoluteCommand(
  command: string,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  if (isAbsolute(command) || command.includes('/') || command.includes('\\')) return command;
  const exts = platform === 'win32' ? (env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';') : [''];
  for (const dir of (env.PATH ?? env.Path ?? '').split(platform === 'win32' ? ';' : delimiter)) {
    if (!dir) continue;
    for (const ext of platform === 'win32' && /\.[^.]+$/.test(command) ? [''] : exts) {
      const candidate = join(dir, command + ext.toLowerCase());
      try {
        if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
      } catch {
        // unreadable entry on PATH
      }
    }
  }
  return command;
}

function serversIn(text: string, path: string[]): { root: JsonNode; servers: JsonNode | undefined } {
  const root = parseJsonc(text);
  return { root, servers: nodeAt(root, path) };
}

export function wrapServers(
  text: string,
  path: string[],
  launcher: Launcher,
  state: FileState,
  resolveCommand: (command: string) => string = absoluteCommand,
): TransformResult {
  const { servers } = serversIn(text, path);
  const result: TransformResult = { text, changed: [], notes: [] };
  if (!servers || servers.kind !== 'object') return result;
  const edits: Edit[] = [];
  const listState = (state[JSON.stringify(path)] ??= {});
  for (const { key: name, value: entry } of servers.members!) {
    if (entry.kind !== 'object') continue;
    const command = member(entry, 'command');
    const args = member(entry, 'args');
    if (!command) {
      if (member(entry, 'url')) {
        result.notes.push({
          server: name,
          message: 'remote (HTTP) server left as it is: wrap audits stdio servers only',
        });
      }
      continue;
    }
    if (command.kind !== 'string' || (args && args.kind !== 'array')) {
      result.notes.push({ server: name, message: 'command/args of an unexpected type; left as it is' });
      continue;
    }
    if (isWrapped(command.value, args?.value)) {
      result.notes.push({ server: name, message: 'already runs under mcp-audit wrap' });
      continue;
    }
    const original = [resolveCommand(command.value as string), ...((args?.value as string[]) ?? [])];
    const flags = [...(launcher.flags ?? []), '--service', name];
    const wrappedArgs = JSON.stringify([launcher.cli, 'wrap', ...flags, '--', ...original]).replace(
      /","/g,
      '", "',
    );
    edits.push({ start: command.start, end: command.end, text: JSON.stringify(launcher.node) });
    const saved: EntryState = { command: text.slice(command.start, command.end), args: null };
    if (args) {
      saved.args = text.slice(args.start, args.end);
      edits.push({ start: args.start, end: args.end, text: wrappedArgs });
    } else {
      saved.inserted = `, "args": ${wrappedArgs}`;
      edits.push({ start: command.end, end: command.end, text: saved.inserted });
    }
    listState[name] = saved;
    result.changed.push(name);
  }
  result.text = applyEdits(text, edits);
  return result;
}

/** The original command and args, from the wrapped args alone (when no state was kept). */
function unwrapArgs(args: string[]): string[] | undefined {
  const split = args.indexOf('--');
  return split >= 0 && split + 1 < args.length ? args.slice(split + 1) : undefined;
}

export function unwrapServers(text: string, path: string[], state: FileState): TransformResult {
  const { servers } = serversIn(text, path);
  const result: TransformResult = { text, changed: [], notes: [] };
  if (!servers || servers.kind !== 'object') return result;
  const listState = state[JSON.stringify(path)] ?? {};
  const edits: Edit[] = [];
  for (const { key: name, value: entry } of servers.members!) {
    if (entry.kind !== 'object') continue;
    const command = member(entry, 'command');
    const args = member(entry, 'args');
    if (!command || !args || !isWrapped(command.value, args.value)) continue;
    const saved = listState[name];
    if (saved) {
      edits.push({ start: command.start, end: command.end, text: saved.command });
      const between = text.slice(command.end, args.end);
      if (saved.args !== null) edits.push({ start: args.start, end: args.end, text: saved.args });
      else if (saved.inserted !== undefined && between === saved.inserted)
        edits.push({ start: command.end, end: args.end, text: '' });
      else edits.push({ start: args.start, end: args.end, text: '[]' });
      delete listState[name];
    } else {
      // Wrapped before (by hand or by another install): not ours to undo.
      const original = unwrapArgs(args.value as string[]);
      result.notes.push({
        server: name,
        message: `runs under mcp-audit wrap but was not wrapped by install; left (original: ${JSON.stringify(original ?? [])})`,
      });
      continue;
    }
    result.changed.push(name);
  }
  result.text = applyEdits(text, edits);
  return result;
}

/** A unified-style line diff of two texts (changes are local, so common ends are trimmed first). */
export function lineDiff(before: string, after: string, label: string): string {
  if (before === after) return '';
  const a = before.split('\n');
  const b = after.split('\n');
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  )
    tail++;
  const context = 2;
  const from = Math.max(0, head - context);
  const out = [`--- ${label}`, `+++ ${label} (after)`, `@@ line ${from + 1} @@`];
  for (let i = from; i < head; i++) out.push(` ${a[i]}`);
  for (let i = head; i < a.length - tail; i++) out.push(`-${a[i]}`);
  for (let i = head; i < b.length - tail; i++) out.push(`+${b[i]}`);
  for (let i = a.length - tail; i < Math.min(a.length, a.length - tail + context); i++) out.push(` ${a[i]}`);
  return `${out.join('\n')}\n`;
}
