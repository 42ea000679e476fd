// `mcp-audit wrap [options] -- COMMAND [ARGS...]`: the stdio proxy (src/proxy/wrap.ts). It exits
// with the server's status, so a client sees the same exit as without the proxy.

import { DEFAULT_PARSE_LIMIT } from '../proxy/lines.js';
import { ENV_CALLER, ENV_SESSION } from '../env.js';
import { runWrap } from '../proxy/wrap.js';
import { parse, parseByteCount } from './args.js';
import { UsageError, type Command } from './command.js';

const MIN_PARSE_LIMIT = 16 * 1024 * 1024;

const usage = `Usage: mcp-audit wrap [options] -- COMMAND [ARGS...]

Runs the MCP stdio server COMMAND and relays its protocol unchanged, recording every request as
a span (tools/call with redacted arguments, result size and summary, outcome, latency, server
name and version) through the same pipeline as \`node --import mcp-audit/register\`: OTLP when
OTEL_EXPORTER_OTLP_ENDPOINT is set, else the local evidence log. Works for servers in any
language (npx, uvx, python, go binaries, ...).

Stdout carries only the server's bytes; diagnostics go to stderr. OTEL_SDK_DISABLED=true turns
the audit off (a plain relay). Lines are relayed as they are,
except that a request without trace context gets traceparent/baggage in a copy of params._meta
(that one line is re-serialised; --no-inject keeps every byte), and a tool listed in
MCP_AUDIT_REQUIRE_CALLER is refused (JSON-RPC error -32010) when no caller is known.

Options:
  --caller ID          the caller recorded as enduser.id (default $${ENV_CALLER}); stdio carries
                       no authentication: the OS user and parent process are recorded apart, as
                       unverified context
  --session ID         the audit session (default $${ENV_SESSION}, else the client's
                       propagated one, else one id per run)
  --server-name NAME   server name when the server sends none (no initialize)
  --max-line BYTES     largest line the audit parses (default ${DEFAULT_PARSE_LIMIT / 1024 / 1024}MiB, minimum 16MiB);
                       longer lines are relayed untouched and counted as unparsed
  --no-inject          never add trace context to requests (every byte relayed as it is)
  --otlp URL           export the audit's spans to this OTLP/HTTP endpoint (sets
                       OTEL_EXPORTER_OTLP_ENDPOINT for the audit only, not for the server)
  --audit-file PATH    write the hash-chained evidence log here (MCP_AUDIT_FILE, audit only)
  --service NAME       service.name of the audit's spans (OTEL_SERVICE_NAME, audit only)
  --stop-grace MS      after stdin EOF, how long the server may take to exit (default 5000)
  --stop-term MS       after SIGTERM, how long before SIGKILL (default 3000)
  -h, --help           show this help

On stdin EOF or the client's death the server's stdin is closed, then its process group gets
SIGTERM after the grace and SIGKILL after the term deadline. SIGINT, SIGTERM and SIGHUP are forwarded.
Exit status: the server's (128+N when it died of signal N); 127 when COMMAND cannot start;
2 usage error.`;

export const wrapCommand: Command = {
  name: 'wrap',
  summary: 'run an MCP stdio server (any language) under the audit: `wrap -- npx -y some-server`',
  usage,
  async run(argv) {
    const split = argv.indexOf('--');
    if (split < 0)
      throw new UsageError('put the server command after --, e.g. mcp-audit wrap -- npx -y server');
    const [command, ...args] = argv.slice(split + 1);
    if (!command) throw new UsageError('no server command after --');
    const { values, positionals } = parse(argv.slice(0, split), {
      caller: { type: 'string' },
      session: { type: 'string' },
      'server-name': { type: 'string' },
      'max-line': { type: 'string' },
      'no-inject': { type: 'boolean' },
      otlp: { type: 'string' },
      'audit-file': { type: 'string' },
      service: { type: 'string' },
      'stop-grace': { type: 'string' },
      'stop-term': { type: 'string' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected '${positionals[0]}' before --`);
    const parseLimit = parseByteCount(values['max-line'], '--max-line');
    if (parseLimit !== undefined && parseLimit < MIN_PARSE_LIMIT) {
      throw new UsageError('--max-line must be at least 16MiB (MCP results of several MiB are common)');
    }
    for (const flag of ['caller', 'session', 'server-name'] as const) {
      if (values[flag] === '') throw new UsageError(`--${flag} is empty`);
    }
    const deadlines = {
      graceMs: milliseconds(values['stop-grace'], '--stop-grace'),
      termMs: milliseconds(values['stop-term'], '--stop-term'),
    };
    const auditEnv: Record<string, string> = {};
    if (values.otlp !== undefined) {
      if (!/^https?:\/\/[^\s]+$/.test(values.otlp)) throw new UsageError('--otlp must be an http(s) URL');
      auditEnv.OTEL_EXPORTER_OTLP_ENDPOINT = values.otlp;
    }
    if (values['audit-file'] !== undefined) auditEnv.MCP_AUDIT_FILE = values['audit-file'];
    if (values.service !== undefined) auditEnv.OTEL_SERVICE_NAME = values.service;
    const status = await runWrap({
      auditEnv,
      deadlines: Object.fromEntries(Object.entries(deadlines).filter(([, v]) => v !== undefined)),
      command,
      args,
      callerId: values.caller,
      sessionId: values.session,
      serverName: values['server-name'],
      parseLimit,
      inject: !values['no-inject'],
    });
    // stdin may never close (clients often keep it open): leave now, once stdout is flushed.
    await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
    process.exit(status);
  },
};

function milliseconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,7}$/.test(value)) throw new UsageError(`${flag} must be a number of milliseconds`);
  return Number(value);
}
