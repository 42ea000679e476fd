// Shared by the HTTP proxy tests: real HTTP MCP servers and `mcp-audit proxy` (the built CLI) as
// child processes on 127.0.0.1 with OS-chosen ports, each killed by pid when the test ends, and the
// real SDK client over Streamable HTTP or the legacy SSE transport.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, type KeyObject, sign } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { FIXTURES, killAll, killedByKillAll, ROOT } from '../support/proc.js';

export const CLI = `${ROOT}bin/mcp-audit.cjs`;
export const SESSION_SERVER = `${FIXTURES}http-session-server.mjs`;
export const LOOPBACK_PRELOAD = `${FIXTURES}http-loopback-listen.mjs`;
export const EVERYTHING = `${ROOT}node_modules/@modelcontextprotocol/server-everything/dist/index.js`;

export interface Listening {
  child: ChildProcess;
  port: number;
  stderr: () => string;
}

/** Starts `node ARGS` and resolves once its stdout shows the port it listens on. */
export function startListening(args: string[], env: NodeJS.ProcessEnv, pattern: RegExp): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    killedByKillAll(child);
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) resolve({ child, port: Number(m[1]), stderr: () => err });
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      reject(new Error(`${args.join(' ')} exited with ${code} before listening: ${err}`));
    });
  });
}

export function startFixture(flags: string[] = []): Promise<Listening> {
  return startListening([SESSION_SERVER, ...flags], {}, /LISTENING (\d+)/);
}

/** server-everything in its Streamable HTTP mode, held to 127.0.0.1 by the preload. */
export function startEverything(): Promise<Listening> {
  return startListening(['--import', LOOPBACK_PRELOAD, EVERYTHING, 'streamableHttp'], {}, /LISTENING (\d+)/);
}

export function startProxy(
  target: string,
  flags: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<Listening> {
  return startListening(
    [CLI, 'proxy', '--listen', '127.0.0.1:0', '--target', target, ...flags],
    env,
    /listening on http:\/\/127\.0\.0\.1:(\d+)/,
  );
}

export async function stop(process_: Listening | undefined): Promise<void> {
  const child = process_?.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Kills every process a test started and did not reap, by pid. */
export const killLive = killAll;

export async function connectHttp(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const client = new Client({ name: 'http-proxy-test', version: '0.9.1' });
  await client.connect(transport);
  return { client, transport };
}

export async function connectSse(url: string): Promise<Client> {
  const client = new Client({ name: 'http-proxy-sse-test', version: '0.9.2' });
  await client.connect(new SSEClientTransport(new URL(url)));
  return client;
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A compact JWS: HS* with a secret string, RS256/ES256 with a private key. */
export function signJwt(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  key: string | KeyObject,
): string {
  const input = `${b64(header)}.${b64(claims)}`;
  const alg = String(header.alg);
  let signature: Buffer;
  if (alg === 'none') signature = Buffer.alloc(0);
  else if (alg.startsWith('HS'))
    signature = createHmac(`sha${alg.slice(2)}`, key as string)
      .update(input)
      .digest();
  else if (alg.startsWith('ES'))
    signature = sign(`sha${alg.slice(2)}`, Buffer.from(input), {
      key: key as KeyObject,
      dsaEncoding: 'ieee-p1363',
    });
  else signature = sign(`sha${alg.slice(2)}`, Buffer.from(input), key as KeyObject);
  return `${input}.${signature.toString('base64url')}`;
}
