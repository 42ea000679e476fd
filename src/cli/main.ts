// The `mcp-audit` entry point (bin/mcp-audit.cjs calls `main` from the CJS build). It only
// dispatches: each command lives in its own module and is registered in COMMANDS below.

import { readFileSync } from 'node:fs';
import { EXIT_OK, EXIT_USAGE, UsageError, type Command } from './command.js';
import { topLevelHelp } from './help.js';
import { demoCommand } from './demo.js';
import { doctorCommand } from './doctor.js';
import { reportCommand } from './report.js';
import { sinkCommand } from './sink.js';
import { verifyCommand } from './verify.js';
import { wrapCommand } from './wrap.js';
import { proxyCommand } from './proxy.js';
import { installCommand, uninstallCommand } from './install.js';

export type { Command } from './command.js';

/** Add new commands (demo, doctor, wrap) here; help and dispatch follow. */
export const COMMANDS: readonly Command[] = [
  demoCommand,
  verifyCommand,
  reportCommand,
  sinkCommand,
  doctorCommand,
  wrapCommand,
  proxyCommand,
  installCommand,
  uninstallCommand,
];

export async function main(argv: string[], commands: readonly Command[] = COMMANDS): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const target = name === 'help' && rest[0] ? commands.find((c) => c.name === rest[0]) : undefined;
    if (name === 'help' && rest[0] && !target) return usageError(`unknown command '${rest[0]}'`);
    process.stdout.write(`${target ? target.usage : topLevelHelp(commands, version())}\n`);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${version()}\n`);
    return EXIT_OK;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) return usageError(`unknown command '${name}'`);
  if (wantsHelp(rest)) {
    process.stdout.write(`${command.usage}\n`);
    return EXIT_OK;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) return usageError(err.message, command.name);
    throw err;
  }
}

function wantsHelp(argv: string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

function usageError(message: string, command?: string): number {
  const prefix = command ? `mcp-audit ${command}` : 'mcp-audit';
  process.stderr.write(`${prefix}: ${message}\nRun '${prefix} --help' for usage.\n`);
  return EXIT_USAGE;
}

let cachedVersion: string | undefined;
function version(): string {
  if (cachedVersion) return cachedVersion;
  try {
    // Same relative path from src/cli/main.ts and from the built dist/cli/main.{js,cjs}.
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    cachedVersion = pkg.version ?? '0.0.0';
  } catch {
    cachedVersion = '0.0.0';
  }
  return cachedVersion;
}
