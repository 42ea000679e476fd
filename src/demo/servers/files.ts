// mcp-files-01: the problem statement's file-storage server, confined to a sandbox folder (env
// MCP_DEMO_FILES_ROOT). Any path, absolute or with `..`, is mapped INTO the sandbox, so test
// case 2 of the problem statement ("write /etc/cron.d/backdoor") lands harmlessly in <root>/etc/cron.d/backdoor and
// the real system path is never touched. `slow_tool` sleeps, for the hanging-call replay.
import { mkdir, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { constants, mkdirSync } from 'node:fs';
import { dirname, join, posix, sep } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { isMain, log, serveStdio } from './run-stdio.js';
import { demoTempDir } from './workdir.js';

export const FILES_SERVER_NAME = 'mcp-files-01';
const VERSION = '0.1.0';
export const MAX_SLOW_SECONDS = 120;

export interface FilesServerOptions {
  /** Sandbox folder. Default: env MCP_DEMO_FILES_ROOT, else a temp folder. */
  root?: string;
}

export function filesRootFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.MCP_DEMO_FILES_ROOT || join(demoTempDir(), 'files');
}

/**
 * The sandbox path for a requested path. Normalizing against a virtual `/` first means `..`
 * can never climb above the root, and absolute paths become paths under it.
 */
export function sandboxPath(root: string, requested: string): string {
  const virtual = posix.normalize('/' + requested.replace(/\\/g, '/'));
  return join(root, ...virtual.split('/').filter(Boolean));
}

/**
 * A symlink inside the sandbox could still point out of it: the nearest existing ancestor of
 * `target` must resolve inside the root. Checked before creating folders, and the file itself is
 * opened with O_NOFOLLOW.
 */
async function assertInside(root: string, target: string): Promise<void> {
  const realRoot = await realpath(root);
  let dir = dirname(target);
  while (
    !(await stat(dir).then(
      () => true,
      () => false,
    )) &&
    dirname(dir) !== dir
  )
    dir = dirname(dir);
  const real = await realpath(dir);
  if (real !== realRoot && !real.startsWith(realRoot + sep)) throw new Error('path escapes the sandbox');
}

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;
const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

function text(payload: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(payload) }], structuredContent: payload };
}

function errorResult(message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: message }] };
}

function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => resolve(true), ms);
    // A cancelled request (or a closing client) must not keep the process alive for two minutes.
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve(false)), { once: true });
  });
}

export function createFilesServer(opts: FilesServerOptions = {}): McpServer {
  const root = opts.root ?? filesRootFromEnv();
  mkdirSync(root, { recursive: true });
  const server = new McpServer({ name: FILES_SERVER_NAME, version: VERSION });

  server.registerTool(
    'file_read',
    {
      description: 'Read a text file from the file store.',
      inputSchema: { path: z.string().min(1).max(4096) },
      annotations: { readOnlyHint: true },
    },
    async ({ path }) => {
      const target = sandboxPath(root, path);
      try {
        await assertInside(root, target);
        const content = await readFile(target, { encoding: 'utf8', flag: READ_FLAGS });
        return text({ path, content, bytes: Buffer.byteLength(content) });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        return errorResult(
          code === 'ENOENT' ? `no such file: ${path}` : `read failed: ${(err as Error).message}`,
        );
      }
    },
  );

  server.registerTool(
    'file_write',
    {
      description: 'Write a text file to the file store (parent folders are created).',
      inputSchema: { path: z.string().min(1).max(4096), content: z.string().max(10_000_000) },
      annotations: { destructiveHint: true },
    },
    async ({ path, content }) => {
      const target = sandboxPath(root, path);
      try {
        await assertInside(root, target);
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, content, { flag: WRITE_FLAGS });
        return text({ ok: true, path, bytes: Buffer.byteLength(content) });
      } catch (err) {
        return errorResult(`write failed: ${(err as Error).message}`);
      }
    },
  );

  server.registerTool(
    'slow_tool',
    {
      description: `Sleep for the given number of seconds (at most ${MAX_SLOW_SECONDS}), then answer.`,
      inputSchema: { seconds: z.number().min(0).max(MAX_SLOW_SECONDS) },
    },
    async ({ seconds }, extra) => {
      const completed = await sleep(seconds * 1000, extra.signal);
      return completed ? text({ ok: true, slept_seconds: seconds }) : errorResult('cancelled');
    },
  );

  return server;
}

if (isMain(import.meta.url)) {
  void serveStdio(FILES_SERVER_NAME, () => {
    const root = filesRootFromEnv();
    log(FILES_SERVER_NAME, `sandbox ${root}`);
    return createFilesServer({ root });
  });
}
