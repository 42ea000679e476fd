// `mcp-audit demo`: the FinanceApp story end to end on the embedded default. Runs the scripted
// agent under the instrumentation (node --import mcp-audit/register) against three local Node MCP
// servers and a Python one under `mcp-audit wrap`, then reads the evidence logs they wrote: a
// per-session table with the detection thresholds each session crossed
// (collector/rules/thresholds.json, the numbers the alert rules use), what wrap recorded of the
// Python server's calls, and the verify result of each hash chain.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { verifyLog } from '../evidence/verify.js';
import { formatDemoTable, logFiles, readRecords, sessionRows } from '../demo/evidence.js';
import { agentEntry, packageRoot, registerEntry } from '../demo/paths.js';
import { ENV_DEMO_PYTHON, ENV_DEMO_WRAP_AUDIT_FILE, ENV_DEMO_WRAP_OTLP, findPython } from '../demo/python.js';
import { DEMO_SCENARIOS, PYTHON_SCENARIO, SCENARIO_NAMES, isScenarioName } from '../demo/scenarios.js';
import { formatWrapCalls, startSpanListener, type SpanListener } from '../demo/wrap-report.js';
import { otlpRequested } from '../sdk.js';
import { parse, resolveKey } from './args.js';
import { EXIT_FAILED, EXIT_OK, UsageError, type Command } from './command.js';
import { formatResult } from './verify.js';

const DEFAULT_OUT = 'mcp-audit-demo';
/** The demo takes a few seconds; anything near this means a hung child, not a slow machine. */
const AGENT_TIMEOUT_MS = 90_000;

const usage = `usage: mcp-audit demo [--out DIR] [--scenario NAME[,NAME...]|all] [--keep-work]

Runs FinanceApp's scripted agent (no LLM) under the instrumentation against local MCP servers
(database, messaging, files in Node; the knowledge base in Python, run under \`mcp-audit wrap\`;
stdio child processes, nothing leaves the machine): Sarah's ordinary session, Marcus's
prompt-injected one, and a knowledge-base lookup through the wrap proxy (skipped, with the reason,
when python3 is missing). Writes the hash-chained evidence logs (the agent's, and wrap's own),
prints a per-session table with the detection thresholds each session crossed and the Python
server's calls as wrap recorded them, and verifies both.

  --out DIR        where the evidence log goes (default ./${DEFAULT_OUT}); a previous log there is
                   moved to DIR/previous-<time>/, never deleted
  --scenario LIST  default all (= ${DEMO_SCENARIOS.join(', ')}); known: ${SCENARIO_NAMES.join(', ')}
  --keep-work      keep the servers' temp folder (the outbox of "sent" messages, the file sandbox)

${ENV_DEMO_PYTHON} names the Python interpreter (default python3; standard library only).

With OTEL_EXPORTER_OTLP_ENDPOINT set, the same spans also go to the collector.
MCP_AUDIT_HMAC_KEY, if set, keys the chain (and the verify at the end).`;

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the audited FinanceApp demo: evidence log, per-session table, verify',
  usage,
  async run(argv) {
    const { values } = parse(
      argv,
      {
        out: { type: 'string', default: DEFAULT_OUT },
        scenario: { type: 'string', default: 'all' },
        'keep-work': { type: 'boolean', default: false },
      },
      false,
    );
    const scenario = values.scenario;
    let scenarios = scenario === 'all' ? [...DEMO_SCENARIOS] : scenario.split(',').map((n) => n.trim());
    const unknown = scenarios.filter((n) => !isScenarioName(n));
    if (unknown.length > 0)
      throw new UsageError(
        `unknown scenario ${unknown.join(', ')}; known: ${SCENARIO_NAMES.join(', ')}, all`,
      );
    const python = scenarios.includes(PYTHON_SCENARIO) ? findPython() : undefined;
    let skipped: string | undefined;
    if (python && !python.ok) {
      const why = `the ${PYTHON_SCENARIO} scenario: it runs a Python MCP server under \`mcp-audit wrap\`, and ${python.reason}`;
      if (scenario !== 'all') {
        process.stderr.write(
          `mcp-audit demo: cannot run ${why}; install python3 (no packages needed) or set ${ENV_DEMO_PYTHON}\n`,
        );
        return EXIT_FAILED;
      }
      skipped = `Skipped ${why}. Install python3 (no packages needed) or set ${ENV_DEMO_PYTHON} to see that path.`;
      process.stderr.write(`mcp-audit demo: ${skipped}\n`);
      scenarios = scenarios.filter((n) => n !== PYTHON_SCENARIO);
    }
    const wrapped = python?.ok === true;

    const root = packageRoot();
    const agent = agentEntry(root);
    const register = registerEntry(root);
    for (const [what, file] of [
      ['agent', agent],
      ['instrumentation', register],
    ] as const) {
      if (!existsSync(file)) {
        process.stderr.write(
          `mcp-audit demo: the ${what} is not built (${file}); run \`npm run build\` first\n`,
        );
        return EXIT_FAILED;
      }
    }

    const outDir = resolve(values.out);
    await mkdir(outDir, { recursive: true });
    const logPath = join(outDir, 'evidence.jsonl');
    const wrapLogPath = join(outDir, 'evidence-wrap.jsonl');
    const moved = await setAsidePreviousLogs([logPath, wrapLogPath], outDir);
    if (moved) process.stderr.write(`previous evidence logs moved to ${display(moved)}\n`);

    const work = await mkdtemp(join(tmpdir(), 'mcp-audit-demo-'));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // The agent's spans name it, unless the user chose a name.
      OTEL_SERVICE_NAME: process.env.OTEL_SERVICE_NAME || 'financeapp-agent',
      MCP_AUDIT_FILE: logPath,
      MCP_DEMO_OUTBOX: join(work, 'outbox.jsonl'),
      MCP_DEMO_FILES_ROOT: join(work, 'files'),
    };
    // wrap's spans: to the collector when one is configured, else to a loopback listener here, so
    // the table below can show what they carry beyond the evidence record.
    let listener: SpanListener | undefined;
    if (wrapped) {
      env[ENV_DEMO_PYTHON] = python.command;
      env[ENV_DEMO_WRAP_AUDIT_FILE] = wrapLogPath;
      if (!otlpRequested(process.env)) {
        listener = await startSpanListener();
        env[ENV_DEMO_WRAP_OTLP] = listener.url;
      }
    }
    let code: number;
    try {
      const started = Date.now();
      const args = ['--import', pathToFileURL(register).href, agent, '--scenario', scenarios.join(',')];
      code = await runAgent(args, env);
      process.stderr.write(`agent finished in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    } finally {
      await listener?.close();
      if (!values['keep-work']) await rm(work, { recursive: true, force: true });
    }

    const files = await logFiles(logPath);
    const records = files.length > 0 ? await readRecords(files) : [];
    const out: string[] = [''];
    if (records.length === 0) {
      out.push(
        `No audit records in ${display(logPath)}: the instrumentation wrote nothing.`,
        'Check that dist/register.js is built and that OTEL_SDK_DISABLED is not set.',
      );
      process.stdout.write(out.join('\n') + '\n');
      return EXIT_FAILED;
    }
    out.push(formatDemoTable(sessionRows(records)), '');

    const key = await resolveKey({});
    const verified = await verifyLog(files, { key });
    out.push(`Evidence log ${display(logPath)}:`, formatResult(verified, key !== undefined).trimEnd(), '');
    let wrapOk = true;
    const wrapFiles = wrapped ? await logFiles(wrapLogPath) : [];
    if (wrapped) {
      const wrapRecords = wrapFiles.length > 0 ? await readRecords(wrapFiles) : [];
      const source = listener
        ? { spans: listener.spans }
        : { exportedTo: process.env.OTEL_EXPORTER_OTLP_ENDPOINT || 'the configured OTLP endpoint' };
      out.push(
        `Python server under \`mcp-audit wrap\` (${PYTHON_SCENARIO}; ${python.command} ${python.version}, standard library only):`,
      );
      const wrapVerified = wrapFiles.length > 0 ? await verifyLog(wrapFiles, { key }) : undefined;
      wrapOk = wrapRecords.some((r) => r.method === 'tools/call') && wrapVerified?.ok === true;
      out.push(
        wrapRecords.length > 0
          ? formatWrapCalls(wrapRecords, records, source)
          : `No records from wrap in ${display(wrapLogPath)}.`,
        `Evidence log ${display(wrapLogPath)} (wrap's own chain):`,
        wrapVerified ? formatResult(wrapVerified, key !== undefined).trimEnd() : 'missing',
        '',
      );
    }
    if (skipped) out.push(skipped, '');
    const args = files.map(display).join(' ');
    out.push(
      'Inspect it:',
      `  mcp-audit verify ${args}`,
      `  mcp-audit report ${args}`,
      `  mcp-audit report --json ${args}`,
    );
    // A separate chain: verified on its own, never as a segment of the agent's.
    if (wrapFiles.length > 0) out.push(`  mcp-audit verify ${wrapFiles.map(display).join(' ')}`);
    if (values['keep-work']) out.push('', `Servers' work folder (outbox.jsonl, files/): ${work}`);
    process.stdout.write(out.join('\n') + '\n');
    if (code !== 0) process.stderr.write(`mcp-audit demo: the agent exited with code ${code}\n`);
    return code === 0 && verified.ok && wrapOk ? EXIT_OK : EXIT_FAILED;
  },
};

function display(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

/** A rerun must not mix with the previous run's sessions; the old log is evidence, so it is kept. */
async function setAsidePreviousLogs(logPaths: string[], outDir: string): Promise<string | undefined> {
  const files = (await Promise.all(logPaths.map(logFiles))).flat();
  if (files.length === 0) return undefined;
  const dest = join(outDir, `previous-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  await mkdir(dest, { recursive: true });
  for (const f of files) await rename(f, join(dest, relative(outDir, f)));
  return dest;
}

const STEP_LINE = /^\[([\w-]+)\] (\d+)\/(\d+) (\S+)/;

/**
 * Runs the agent, turning its per-call lines into one progress line (rewritten in place on a
 * terminal, one line per scenario otherwise). Everything else it prints is kept and shown only
 * when it fails, so a healthy run stays quiet.
 */
function runAgent(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const tty = process.stderr.isTTY === true;
    const other: string[] = [];
    let pending = '';
    let lastScenario = '';
    let lastLine = '';
    const timer = setTimeout(() => {
      other.push(`timed out after ${AGENT_TIMEOUT_MS / 1000} s`);
      child.kill('SIGTERM');
    }, AGENT_TIMEOUT_MS);

    const progress = (line: string) => {
      const m = STEP_LINE.exec(line);
      if (!m) {
        other.push(line);
        return;
      }
      const [, scenario, step, total, tool] = m;
      lastLine = `running ${scenario} ${step}/${total} ${tool}`;
      if (tty) process.stderr.write(`\r\x1b[K${lastLine}`);
      else if (step === total || scenario !== lastScenario) process.stderr.write(`${lastLine}\n`);
      lastScenario = scenario!;
    };
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) progress(line);
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (pending.trim()) progress(pending);
      if (tty && lastLine) process.stderr.write('\n');
      const status = code ?? (signal ? 1 : 0);
      if (status !== 0 && other.length > 0)
        process.stderr.write(other.map((l) => `  agent: ${l}`).join('\n') + '\n');
      resolvePromise(status);
    });
  });
}
