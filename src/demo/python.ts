// The demo's Python path: mcp-kb-01 (servers/kb_server.py, standard library only) run under
// `mcp-audit wrap`, so the same audit covers a server no module hook can reach. Finding python3,
// and the wrap command line with where its own evidence log and spans go.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from './paths.js';

/** The interpreter to run the Python server with (default `python3` on PATH). */
export const ENV_DEMO_PYTHON = 'MCP_DEMO_PYTHON';
/** wrap's own evidence log (one writer per hash chain: never the agent's file). */
export const ENV_DEMO_WRAP_AUDIT_FILE = 'MCP_DEMO_WRAP_AUDIT_FILE';
/** An OTLP/HTTP endpoint (JSON) for wrap's spans alone, e.g. the demo's local span listener. */
export const ENV_DEMO_WRAP_OTLP = 'MCP_DEMO_WRAP_OTLP';
/** service.name of wrap's spans and records. */
export const KB_WRAP_SERVICE = 'mcp-audit-wrap';
const MIN_PYTHON: readonly [number, number] = [3, 8];

export type PythonCheck = { ok: true; command: string; version: string } | { ok: false; reason: string };

export function findPython(env: NodeJS.ProcessEnv = process.env): PythonCheck {
  const command = env[ENV_DEMO_PYTHON] || 'python3';
  const run = spawnSync(command, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], {
    encoding: 'utf8',
    timeout: 15_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (run.error) {
    const code = (run.error as NodeJS.ErrnoException).code;
    return {
      ok: false,
      reason:
        code === 'ENOENT'
          ? `${command} was not found${command.includes('/') ? '' : ' on PATH'}`
          : `${command} could not be run (${run.error.message})`,
    };
  }
  const version = run.stdout.trim();
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (run.status !== 0 || !/^\d+\.\d+\.\d+$/.test(version)) {
    return { ok: false, reason: `${command} exited with status ${run.status} when asked for its version` };
  }
  if (major < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor < MIN_PYTHON[1])) {
    return {
      ok: false,
      reason: `${command} is Python ${version}; ${MIN_PYTHON.join('.')} or newer is needed`,
    };
  }
  return { ok: true, command, version };
}

/** Where wrap writes its records: its own file, next to the agent's when only that one is named. */
function wrapAuditFile(env: NodeJS.ProcessEnv): string | undefined {
  const own = env[ENV_DEMO_WRAP_AUDIT_FILE];
  if (own) return own;
  const agent = env.MCP_AUDIT_FILE;
  if (!agent || ['off', 'false', '0'].includes(agent) || agent.includes('{pid}')) return agent || undefined;
  return join(dirname(agent), 'evidence-wrap.jsonl');
}

/**
 * `node <mcp-audit> wrap [--service, --audit-file, --otlp] -- python3 kb_server.py`: the built
 * CLI, or the source one under tsx when this module runs from src/ (tests).
 */
export function kbWrapCommand(
  python: string,
  env: NodeJS.ProcessEnv = process.env,
): { command: string; args: string[]; env: Record<string, string> } {
  const root = packageRoot();
  const fromSource = fileURLToPath(import.meta.url).endsWith('.ts');
  const cli = fromSource
    ? ['--import', 'tsx', join(root, 'src', 'cli', 'run.ts')]
    : [join(root, 'bin', 'mcp-audit.cjs')];
  const flags = ['--service', KB_WRAP_SERVICE];
  const extraEnv: Record<string, string> = {};
  const file = wrapAuditFile(env);
  if (file) flags.push('--audit-file', file);
  const otlp = env[ENV_DEMO_WRAP_OTLP];
  if (otlp) {
    flags.push('--otlp', otlp);
    extraEnv.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
  }
  const script = join(root, 'src', 'demo', 'servers', 'kb_server.py');
  return { command: process.execPath, args: [...cli, 'wrap', ...flags, '--', python, script], env: extraEnv };
}
