// The scripted FinanceApp agent: connects to the demo MCP servers over stdio (each its own child
// process: three Node servers, and the Python one under `mcp-audit wrap` when a scenario needs it)
// and runs scenarios. Meant to be started under the instrumentation:
//   node --import mcp-audit/register dist/demo/agent.js --scenario all
// and runs just as well without it (no audit). Progress goes to stderr, one line per call.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { findPython, kbWrapCommand } from './python.js';
import { isMain } from './servers/run-stdio.js';
import {
  DEMO_SCENARIOS,
  PYTHON_SCENARIO,
  SCENARIOS,
  SCENARIO_NAMES,
  isScenarioName,
  runScenario,
  type DemoClients,
  type ScenarioName,
  type ScenarioOptions,
  type ScenarioResult,
  type ServerName,
  type StepEvent,
} from './scenarios.js';

export * from './scenarios.js';

export const AGENT_NAME = 'financeapp-agent';
type NodeServer = Exclude<ServerName, 'kb'>;
/** What connectDemoServers starts unless told otherwise: the servers audited in-process. */
export const NODE_SERVERS: readonly NodeServer[] = ['db', 'messaging', 'files'];
/** The bulk replay returns ≈17 MB (rows as text and as structured content); the SDK's default is 10 MiB. */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * How to start one demo server: the compiled file next to this one (dist/demo/servers/*.js), or,
 * when this module runs from source under tsx, the .ts file with tsx loaded in the child too.
 */
export function serverCommand(name: NodeServer): { command: string; args: string[] } {
  const here = fileURLToPath(import.meta.url);
  const fromSource = here.endsWith('.ts');
  const file = join(dirname(here), 'servers', `${name}.${fromSource ? 'ts' : 'js'}`);
  return { command: process.execPath, args: fromSource ? ['--import', 'tsx', file] : [file] };
}

/** The Python server under wrap; throws, saying why, when there is no usable python3. */
function kbCommand(env: NodeJS.ProcessEnv): { command: string; args: string[]; env: Record<string, string> } {
  const python = findPython(env);
  if (!python.ok) throw new Error(`the ${PYTHON_SCENARIO} scenario runs a Python server: ${python.reason}`);
  return kbWrapCommand(python.command, env);
}

export interface ConnectOptions {
  /** Extra environment for the servers (MCP_DEMO_CUSTOMERS, MCP_DEMO_OUTBOX, MCP_DEMO_FILES_ROOT…). */
  env?: Record<string, string>;
  /** Which servers to start. Default: the three Node servers (NODE_SERVERS). */
  servers?: readonly ServerName[];
  /** Server stderr. Default 'inherit'. */
  stderr?: 'inherit' | 'pipe' | 'ignore';
}

export interface DemoConnection {
  clients: Partial<DemoClients>;
  /** Child pids, so tests can prove every one of them is gone. */
  pids: number[];
  close(): Promise<void>;
}

export async function connectDemoServers(opts: ConnectOptions = {}): Promise<DemoConnection> {
  const clients: Partial<DemoClients> = {};
  const pids: number[] = [];
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    await Promise.allSettled(closers.map((c) => c()));
  };
  try {
    await Promise.all(
      (opts.servers ?? NODE_SERVERS).map(async (name) => {
        const env = { ...(process.env as Record<string, string>), ...opts.env };
        const {
          command,
          args,
          env: extraEnv,
        } = name === 'kb' ? kbCommand(env) : { ...serverCommand(name), env: {} };
        const transport = new StdioClientTransport({
          command,
          args,
          // The SDK passes only HOME, LOGNAME, PATH, SHELL, TERM, USER unless env is given:
          // NODE_OPTIONS, OTEL_* and MCP_AUDIT_* must reach the servers too.
          env: { ...env, ...extraEnv },
          stderr: opts.stderr ?? 'inherit',
          maxBufferSize: MAX_MESSAGE_BYTES,
        });
        const client = new Client({ name: AGENT_NAME, version: '0.1.0' });
        closers.push(() => client.close());
        await client.connect(transport);
        if (transport.pid !== null) pids.push(transport.pid);
        clients[name] = client;
      }),
    );
  } catch (err) {
    await close();
    throw err;
  }
  return { clients, pids, close };
}

export function formatStep(e: StepEvent): string {
  const outcome = e.isError ? 'error' : 'ok';
  return `[${e.scenario}] ${e.step}/${e.total} ${e.tool} ${outcome} ${e.bytes} B ${e.ms} ms (session ${e.sessionId}, ${e.callerId ?? 'no caller'})`;
}

/** Runs scenarios in order over one set of connections. */
export async function runScenarios(
  names: readonly ScenarioName[],
  opts: Omit<ScenarioOptions, 'clients'> & { connect?: ConnectOptions } = {},
): Promise<ScenarioResult[]> {
  const conn = await connectDemoServers(opts.connect);
  try {
    const results: ScenarioResult[] = [];
    for (const name of names) results.push(await runScenario(name, { ...opts, clients: conn.clients }));
    return results;
  } finally {
    await conn.close();
  }
}

const USAGE = `usage: node [--import mcp-audit/register] dist/demo/agent.js [--scenario NAME[,NAME...]|all] [--session ID] [--caller ID] [--count N] [--seconds S]

Scenarios (all = ${DEMO_SCENARIOS.join(', ')}):
${SCENARIO_NAMES.map((n) => `  ${n.padEnd(16)} ${SCENARIOS[n].description}`).join('\n')}

Environment: MCP_DEMO_CUSTOMERS (rows, default 2400), MCP_DEMO_OUTBOX (messages file),
MCP_DEMO_FILES_ROOT (file sandbox); all passed through to the servers with the rest of the env.`;

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        scenario: { type: 'string', default: 'all' },
        session: { type: 'string' },
        caller: { type: 'string' },
        count: { type: 'string' },
        seconds: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`agent: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const requested =
    values.scenario === 'all' ? [...DEMO_SCENARIOS] : values.scenario.split(',').map((s) => s.trim());
  const unknown = requested.filter((n) => !isScenarioName(n));
  if (unknown.length > 0) {
    process.stderr.write(
      `agent: unknown scenario ${unknown.join(', ')} (known: ${SCENARIO_NAMES.join(', ')}, all)\n`,
    );
    return 2;
  }
  const number = (name: string, raw: string | undefined): number | undefined => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number`);
    return n;
  };
  const opts: Omit<ScenarioOptions, 'clients'> & { connect?: ConnectOptions } = {
    onStep: (e) => process.stderr.write(formatStep(e) + '\n'),
  };
  if (requested.includes(PYTHON_SCENARIO)) opts.connect = { servers: [...NODE_SERVERS, 'kb'] };
  // One work folder for all the servers, so the outbox and the sandbox are easy to find.
  if (!process.env.MCP_DEMO_OUTBOX || !process.env.MCP_DEMO_FILES_ROOT) {
    const work = mkdtempSync(join(tmpdir(), 'mcp-audit-demo-'));
    opts.connect = {
      ...opts.connect,
      env: {
        MCP_DEMO_OUTBOX: process.env.MCP_DEMO_OUTBOX || join(work, 'outbox.jsonl'),
        MCP_DEMO_FILES_ROOT: process.env.MCP_DEMO_FILES_ROOT || join(work, 'files'),
      },
    };
    process.stderr.write(`agent: work folder ${work}\n`);
  }
  try {
    if (values.session) opts.sessionId = values.session;
    if (values.caller) opts.callerId = values.caller;
    const count = number('count', values.count);
    const seconds = number('seconds', values.seconds);
    if (count !== undefined) opts.count = count;
    if (seconds !== undefined) opts.seconds = seconds;
    await runScenarios(requested as ScenarioName[], opts);
    return 0;
  } catch (err) {
    process.stderr.write(`agent: ${(err as Error).message}\n`);
    return 1;
  }
}

if (isMain(import.meta.url)) {
  // exitCode, not process.exit(): the instrumentation flushes its spans on beforeExit.
  main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
