// Every process a test starts is registered here by pid, and killed when the test process ends,
// however it ends: a normal exit, an uncaught error, or SIGINT/SIGTERM/SIGHUP (the test runner
// sends SIGTERM to a file that runs past its timeout; scripts/run-tests.mjs forwards the signals it
// gets). Tests still stop their processes themselves; this is the last resort that keeps a crashed
// or interrupted run from leaving collectors, Jaeger, Prometheus or node children behind.
// SIGKILL of the test process itself cannot be caught: scripts/run-tests.mjs then kills the
// process group every test process belongs to.

interface Tracked {
  pid: number;
  /** The pid leads its own process group (spawned with `detached: true`): kill the whole group. */
  group: boolean;
}

const tracked = new Map<number, Tracked>();
let installed = false;

function killTracked(signal: NodeJS.Signals): void {
  for (const { pid, group } of tracked.values()) {
    try {
      process.kill(group ? -pid : pid, signal);
    } catch {
      // already gone
    }
  }
}

const SIGNALS: Array<[NodeJS.Signals, number]> = [
  ['SIGINT', 2],
  ['SIGTERM', 15],
  ['SIGHUP', 1],
];

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => killTracked('SIGKILL'));
  for (const [signal, number] of SIGNALS) {
    process.once(signal, () => {
      killTracked('SIGKILL');
      tracked.clear();
      // The conventional status of a process ended by that signal; 'exit' handlers still run.
      process.exit(128 + number);
    });
  }
}

/** Registers a pid (or, with `group`, the process group it leads) to be killed when this process ends. */
export function trackPid(pid: number | undefined, { group = false }: { group?: boolean } = {}): void {
  if (pid === undefined) return;
  install();
  tracked.set(pid, { pid, group });
}

/** Forgets a pid once the test has reaped it (so a recycled pid is never signalled). */
export function untrackPid(pid: number | undefined): void {
  if (pid !== undefined) tracked.delete(pid);
}

/** Registers a child process and forgets it when it exits. */
export function trackChild(
  child: { pid?: number | undefined; once(event: 'exit', listener: () => void): unknown },
  options: { group?: boolean } = {},
): void {
  trackPid(child.pid, options);
  const pid = child.pid;
  // A group outlives its leader (the agent's demo servers): keep it until the process ends.
  if (!options.group) child.once('exit', () => untrackPid(pid));
}

/** Pids registered and not yet reaped (for "nothing left running" assertions). */
export function trackedPids(): number[] {
  return [...tracked.keys()];
}
