// Top-level help, built from the registry so a new command appears without editing this file.

import type { Command } from './command.js';

export function topLevelHelp(commands: readonly Command[], version: string): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `mcp-audit ${version} — an audit trail for MCP tool calls, built on OpenTelemetry

Usage: mcp-audit <command> [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run \`mcp-audit <command> --help\` for a command's options.
Options: -h, --help (this text), -v, --version`;
}
