// Runs one bench worker in a fresh process and returns its `RESULT {json}` line. A worker that
// fails or prints no result stops the bench with its stderr: a figure is never made up.
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WORKERS = join(REPO_ROOT, 'bench', 'workers');
/** The build under test: `npm run bench` builds dist/ first; BENCH_DIST points at another build. */
export const DIST = resolve(process.env.BENCH_DIST ?? join(REPO_ROOT, 'dist'));

/** Node arguments that start a process the way users audit it: `--import mcp-audit/register`. */
export function registerArgs(): string[] {
  return ['--import', pathToFileURL(join(DIST, 'register.js')).href];
}

export interface RunOptions {
  /** Pin the process to this CPU (taskset), so scheduling across cores does not add noise. */
  cpu?: number;
  env?: Record<string, string>;
  nodeArgs?: string[];
  timeoutMs?: number;
}

export interface RunOutput<T> {
  result: T;
  /** Wall time from spawn to exit, ms. */
  wallMs: number;
  stderr: string;
}

export function runWorker<T>(
  script: string,
  args: string[],
  options: RunOptions = {},
): Promise<RunOutput<T>> {
  const nodeArgv = [...(options.nodeArgs ?? []), join(WORKERS, script), ...args];
  const [command, argv] =
    options.cpu === undefined
      ? [process.execPath, nodeArgv]
      : ['taskset', ['-c', String(options.cpu), process.execPath, ...nodeArgv]];
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, argv, {
      cwd: REPO_ROOT,
      env: { ...process.env, BENCH_DIST: DIST, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      // Keep the first part: enough to say what went wrong, bounded if a worker logs per call.
      if (stderr.length < 64 * 1024) stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const wallMs = performance.now() - started;
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT ') || l.startsWith('READY '));
      if (code !== 0 || !line) {
        reject(
          new Error(
            `${script} ${args.join(' ')} exited with ${code ?? signal}; stderr:\n${stderr.slice(0, 4000)}`,
          ),
        );
        return;
      }
      const result = line.startsWith('READY ')
        ? ({ readyMs: Number(line.split(' ')[1]), cpuMs: Number(line.split(' ')[2]) } as T)
        : (JSON.parse(line.slice(7)) as T);
      resolvePromise({ result, wallMs, stderr });
    });
  });
}
