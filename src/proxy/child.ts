// The wrapped server process: its own process group (so it and whatever it starts can be signalled
// and reaped together), stdin/stdout piped through the relay, stderr inherited untouched (always
// drained, by whoever reads ours, exactly as without the proxy), and the environment as it is.

import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';

export interface Launch {
  command: string;
  args: string[];
  /** Windows: arguments are already quoted for cmd.exe. */
  verbatim: boolean;
}

/**
 * How to start COMMAND on this platform. Windows cannot spawn the `.cmd`/`.bat` launchers that
 * npm, npx and uvx install without a shell, so they go through `cmd /d /s /c` with each argument
 * quoted. Not exercised in CI (no Windows runner); the quoting follows cmd.exe's rules.
 */
export function launchFor(
  command: string,
  args: string[],
  platform: NodeJS.Platform = process.platform,
): Launch {
  if (platform !== 'win32' || /\.(exe|com)$/i.test(command)) return { command, args, verbatim: false };
  const hasExtension = /\.[A-Za-z0-9]+$/.test(command.split(/[\\/]/).pop() ?? '');
  if (hasExtension && !/\.(cmd|bat)$/i.test(command)) return { command, args, verbatim: false };
  const line = [command, ...args].map(quoteForCmd).join(' ');
  // /s strips the outer quotes and keeps the rest verbatim; /d skips AutoRun commands.
  return { command: 'cmd.exe', args: ['/d', '/s', '/c', `"${line}"`], verbatim: true };
}

/** Quotes one argument for cmd.exe (and the C runtime's argv parser behind it). */
export function quoteForCmd(arg: string): string {
  if (arg !== '' && !/[\s"&|<>^%!(),;=]/.test(arg)) return arg;
  // Backslashes before a quote are doubled, quotes escaped; cmd metacharacters are caret-escaped.
  const escaped = arg.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\+)$/, '$1$1');
  return `"${escaped}"`.replace(/[&|<>^%!]/g, '^$&');
}

export type WrappedChild = ChildProcessByStdio<Writable, Readable, null>;

export function spawnChild(launch: Launch, env: NodeJS.ProcessEnv): WrappedChild {
  return spawn(launch.command, launch.args, {
    stdio: ['pipe', 'pipe', 'inherit'],
    env,
    // POSIX: a new process group (and session) led by the child.
    detached: process.platform !== 'win32',
    windowsVerbatimArguments: launch.verbatim,
    windowsHide: true,
  });
}

/** The exit status a shell would report: the code, or 128 + the signal's number. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  if (signal) return 128 + (constants.signals[signal] ?? 0);
  return 1;
}

/** Signals the child's whole process group (POSIX), or the child alone (Windows). */
export function signalGroup(child: WrappedChild, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    if (process.platform === 'win32') child.kill(signal);
    else process.kill(-child.pid, signal);
  } catch {
    // The group is gone already.
  }
}

export interface StopDeadlines {
  /** After closing stdin, how long the child may take to exit by itself. */
  graceMs: number;
  /** After SIGTERM, how long before SIGKILL. */
  termMs: number;
}

/**
 * The shutdown the MCP stdio transport describes: close the child's stdin, wait, SIGTERM the
 * group, wait, SIGKILL the group. Resolves when the child has exited.
 */
export function stopChild(
  child: WrappedChild,
  deadlines: StopDeadlines,
  exited: Promise<unknown>,
): Promise<void> {
  child.stdin.end();
  const timers: NodeJS.Timeout[] = [];
  timers.push(
    setTimeout(() => {
      signalGroup(child, 'SIGTERM');
      timers.push(setTimeout(() => signalGroup(child, 'SIGKILL'), deadlines.termMs));
    }, deadlines.graceMs),
  );
  return exited.then(() => {
    for (const t of timers) clearTimeout(t);
    // Whatever the server left running in its group goes with it.
    signalGroup(child, 'SIGKILL');
  });
}
