// The HTTP rows of bench/proxy.ts: a Streamable HTTP round trip on loopback, directly to an SDK
// McpServer (test/fixtures/apps/http-session-server.mjs, stateful, its `echo` tool) and through
// `mcp-audit proxy`. The client POSTs JSON-RPC itself over a keep-alive connection and times each
// tools/call from the request to the end of its response (the SDK answers a POST with a short SSE
// stream), so the client SDK's own cost is not in the figures.
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join } from 'node:path';

export interface HttpConfig {
  name: string;
  /** Undefined: the client talks to the server directly. */
  proxyEnv?: NodeJS.ProcessEnv;
}

interface Started {
  child: ChildProcess;
  port: number;
}

function startListening(args: string[], env: NodeJS.ProcessEnv, pattern: RegExp): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

class HttpClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private session: string | undefined;
  constructor(private readonly port: number) {}

  post(body: unknown): Promise<void> {
    return new Promise((resolve, reject) => {
      const payload = JSON.stringify(body);
      const headers: Record<string, string | number> = {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'content-length': Buffer.byteLength(payload),
      };
      if (this.session) headers['mcp-session-id'] = this.session;
      const req = request(
        { host: '127.0.0.1', port: this.port, path: '/mcp', method: 'POST', headers, agent: this.agent },
        (res) => {
          const id = res.headers['mcp-session-id'];
          if (typeof id === 'string') this.session = id;
          res.on('data', () => undefined);
          res.on('end', () =>
            res.statusCode! < 300 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** CPU time (µs) of a process so far, from /proc (Linux); undefined elsewhere. */
type CpuReader = (pid: number) => number | undefined;

export async function measureHttp(
  root: string,
  config: HttpConfig,
  calls: number,
  warmup: number,
  cpuMicros: CpuReader,
): Promise<{ samples: number[]; cpuPerCall?: number }> {
  const server = await startListening(
    [join(root, 'test/fixtures/apps/http-session-server.mjs')],
    {},
    /LISTENING (\d+)/,
  );
  let proxy: Started | undefined;
  try {
    if (config.proxyEnv) {
      proxy = await startListening(
        [
          join(root, 'bin/mcp-audit.cjs'),
          'proxy',
          '--listen',
          '127.0.0.1:0',
          '--target',
          `http://127.0.0.1:${server.port}/mcp`,
        ],
        config.proxyEnv,
        /listening on http:\/\/127\.0\.0\.1:(\d+)/,
      );
    }
    const client = new HttpClient(proxy?.port ?? server.port);
    let id = 0;
    await client.post({
      jsonrpc: '2.0',
      id: ++id,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'bench', version: '1' },
      },
    });
    await client.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    const call = () =>
      client.post({
        jsonrpc: '2.0',
        id: ++id,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: 'hello from the bench' } },
      });
    for (let i = 0; i < warmup; i++) await call();
    const pid = proxy?.child.pid;
    const cpuBefore = pid ? cpuMicros(pid) : undefined;
    const samples: number[] = [];
    for (let i = 0; i < calls; i++) {
      const t0 = process.hrtime.bigint();
      await call();
      samples.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
    const cpuAfter = pid ? cpuMicros(pid) : undefined;
    client.close();
    const cpuPerCall =
      cpuBefore !== undefined && cpuAfter !== undefined ? (cpuAfter - cpuBefore) / calls : undefined;
    return { samples, cpuPerCall };
  } finally {
    if (proxy) await stopChild(proxy.child);
    await stopChild(server.child);
  }
}
