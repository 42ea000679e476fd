// Child processes for tests: started with a known pid, always killed by pid in cleanup, and
// registered with the reaper so that an interrupted test process kills them too.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { trackChild } from './reaper.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const REGISTER_ESM = `${ROOT}dist/register.js`;
export const REGISTER_CJS = `${ROOT}dist/register.cjs`;
export const FIXTURES = `${ROOT}test/fixtures/apps/`;

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const live = new Set<ChildProcess>();

/** Runs a node script to completion (bounded by timeoutMs, then killed). */
export function runNode(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    trackChild(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d));
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Registers a child a test started: killAll() (and the reaper, on any exit) kills it by pid. */
export function killedByKillAll(child: ChildProcess): void {
  live.add(child);
  trackChild(child);
  child.on('exit', () => live.delete(child));
}

/** Starts a long-running node script; resolves with the child and its first stdout line. */
export function startNode(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; firstLine: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    killedByKillAll(child);
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        child.stdout!.off('data', onData);
        resolve({ child, firstLine: buf.slice(0, nl) });
      }
    };
    child.stdout!.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`exited with ${code} before printing a line`)));
  });
}

/** Kills every child a test started and did not reap (by pid). */
export function killAll(): void {
  for (const child of live) {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  live.clear();
}

/** Environment for a child that exports OTLP/JSON to the test receiver, fast. */
export function otlpEnv(url: string, service: string): NodeJS.ProcessEnv {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_SERVICE_NAME: service,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_METRIC_EXPORT_INTERVAL: '500',
    MCP_AUDIT_FILE: 'off',
  };
}
