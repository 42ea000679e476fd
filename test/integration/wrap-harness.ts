// Shared by the wrap tests: a real MCP SDK client over a stdio transport that keeps the raw bytes
// it received, run against a server directly or under `mcp-audit wrap` (the built CLI).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { ROOT } from '../support/proc.js';

export const CLI = `${ROOT}bin/mcp-audit.cjs`;
export const EVERYTHING = `${ROOT}node_modules/@modelcontextprotocol/server-everything/dist/index.js`;
export const FILESYSTEM = `${ROOT}node_modules/@modelcontextprotocol/server-filesystem/dist/index.js`;
export const PY_FIXTURE = `${ROOT}test/fixtures/python/fastmcp_server.py`;

let python: string | undefined;
/** The project-local venv's python (scripts/python-env.sh creates it on first use). */
export function venvPython(): string {
  if (python) return python;
  const run = spawnSync('bash', [`${ROOT}scripts/python-env.sh`], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (run.status !== 0) throw new Error('scripts/python-env.sh failed');
  python = run.stdout.trim().split('\n').pop()!;
  return python;
}

const live = new Set<ChildProcess>();

/** A stdio client transport that records every byte it receives and every line it sends. */
export class RecordingTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  readonly received: Buffer[] = [];
  readonly sent: string[] = [];
  child: ChildProcess | undefined;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  // Our own line reader: the SDK's ReadBuffer refuses lines over 10 MiB.
  private partial: Buffer[] = [];

  constructor(
    private readonly command: string,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv = {},
  ) {}

  async start(): Promise<void> {
    const child = spawn(this.command, this.args, {
      cwd: ROOT,
      env: { ...process.env, ...this.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    live.add(child);
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exit = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        live.delete(child);
        resolve({ code, signal });
      }),
    );
    child.on('close', () => this.onclose?.());
    child.stdout!.on('data', (chunk: Buffer) => {
      this.received.push(chunk);
      // Only the new chunk is searched for line ends (10 MB lines arrive in many chunks).
      let start = 0;
      let nl: number;
      while ((nl = chunk.indexOf(0x0a, start)) >= 0) {
        this.partial.push(chunk.subarray(start, nl));
        const line = Buffer.concat(this.partial).toString('utf8').replace(/\r$/, '');
        this.partial = [];
        start = nl + 1;
        if (!line) continue;
        try {
          this.onmessage?.(JSON.parse(line) as JSONRPCMessage);
        } catch (err) {
          this.onerror?.(err as Error);
        }
      }
      if (start < chunk.length) this.partial.push(chunk.subarray(start));
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', reject);
    });
  }

  stderr = '';

  async send(message: JSONRPCMessage): Promise<void> {
    const line = serializeMessage(message);
    this.sent.push(line);
    this.child?.stdin?.write(line);
  }

  async close(): Promise<void> {
    this.child?.stdin?.end();
    await this.exit;
  }

  get stdout(): Buffer {
    return Buffer.concat(this.received);
  }
}

export function wrapped(
  command: string,
  args: string[],
  flags: string[] = [],
  env: NodeJS.ProcessEnv = {},
): RecordingTransport {
  return new RecordingTransport(process.execPath, [CLI, 'wrap', ...flags, '--', command, ...args], env);
}

export async function connect(transport: RecordingTransport, name = 'wrap-test-client'): Promise<Client> {
  const client = new Client({ name, version: '1.2.3' }, { capabilities: { sampling: {} } });
  await client.connect(transport);
  return client;
}

/** Kills every process a test started and did not reap, by pid (the wrapped ones die with wrap). */
export function killLive(): void {
  for (const child of live) {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  live.clear();
}

/** Lines of a byte stream. */
export function lines(bytes: Buffer | string): string[] {
  return bytes
    .toString()
    .split('\n')
    .filter((l) => l.length > 0);
}

/** A line with the proxy's trace context taken out of params._meta (the only bytes it may change). */
export function withoutInjected(line: string): unknown {
  const value = JSON.parse(line) as { params?: { _meta?: Record<string, unknown> } };
  const meta = value.params?._meta;
  if (meta) {
    delete meta.traceparent;
    delete meta.tracestate;
    delete meta.baggage;
    if (Object.keys(meta).length === 0) delete value.params!._meta;
  }
  return value;
}
