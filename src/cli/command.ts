// The contract between `mcp-audit` and its subcommands. Each command is its own module exporting
// one `Command`; main.ts only keeps the registry, so `demo`, `doctor` or `wrap` plug in by adding
// one import and one table entry.

export interface Command {
  /** What the user types: `mcp-audit <name>`. */
  name: string;
  /** One line for `mcp-audit --help`. */
  summary: string;
  /** Full help text printed by `mcp-audit <name> --help` (main handles --help/-h for every command). */
  usage: string;
  /** Exit code: 0 success, 1 the check failed (e.g. tampering found), 2 usage error. */
  run(argv: string[]): Promise<number>;
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Bad flags, missing files: main prints the message and a pointer to --help, then exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
