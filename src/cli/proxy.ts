// `mcp-audit proxy --listen HOST:PORT --target URL`: the HTTP reverse proxy (src/proxy/http-proxy.ts).
// Runs until SIGINT/SIGTERM, then flushes the audit and exits 0.

import { readFile } from 'node:fs/promises';
import { ENV_SESSION } from '../env.js';
import { startHttpProxy } from '../proxy/http-proxy.js';
import { JwtVerifier, parseJwks } from '../proxy/http-jwt.js';
import { DEFAULT_PARSE_LIMIT } from '../proxy/lines.js';
import { parse, parseByteCount } from './args.js';
import { EXIT_OK, UsageError, type Command } from './command.js';

const MIN_PARSE_LIMIT = 16 * 1024 * 1024;
const DEFAULT_LEEWAY_SECONDS = 30;

const usage = `Usage: mcp-audit proxy --listen [HOST:]PORT --target URL [options]

A reverse proxy in front of a remote MCP server (Streamable HTTP, and the legacy HTTP+SSE
transport). Clients connect to the proxy instead of the server; every request, header
(Mcp-Session-Id, Authorization, ...) and stream is passed through as it comes, and every request
is recorded as a span (tools/call with redacted arguments, result size and summary, outcome,
latency, server name and version, client address, MCP session) through the same pipeline as
\`node --import mcp-audit/register\`: OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, else the
local evidence log. OTEL_SDK_DISABLED=true turns the audit off (a plain relay).

A request for / goes to the target URL's path; any other path is kept (so /mcp, /sse and
/messages?sessionId=... reach the same paths on the target). A request without trace context
gets traceparent/baggage in a copy of params._meta (--no-inject keeps every byte), and a tool
listed in MCP_AUDIT_REQUIRE_CALLER is refused (JSON-RPC error -32010) when no caller is known.
If the target cannot be reached the client gets HTTP 502 with a JSON-RPC error saying so.

Options:
  --listen [HOST:]PORT   where to listen (HOST defaults to 127.0.0.1; nothing else is bound)
  --target URL           the MCP server, e.g. http://127.0.0.1:3001/mcp
  --caller-header NAME   take the caller (enduser.id) from this request header, set by the
                         authenticating gateway in front of the proxy (trusted: only use it when
                         clients cannot reach the proxy directly)
  --jwt-secret-file PATH verify bearer tokens signed with this shared secret (HS256/384/512)
  --jwks-file PATH       verify bearer tokens against these public keys (JWKS or one JWK;
                         RS256/384/512, PS256, ES256/384)
  --jwt-audience AUD     the audience a token must name (required with JWT verification)
  --jwt-issuer ISS       the issuer a token must name (optional)
  --jwt-leeway SECONDS   clock skew allowed on exp/nbf (default ${DEFAULT_LEEWAY_SECONDS}, at most 300)
                         A verified token's sub (else client_id) becomes enduser.id and its scopes
                         mcp_audit.caller.scopes; a token that fails verification gives no caller,
                         only mcp_audit.caller.verification=<reason>. The token itself is never
                         recorded; it is forwarded to the server unchanged.
  --session ID           the audit session (default $${ENV_SESSION}, else the client's propagated
                         one, else the Mcp-Session-Id)
  --server-name NAME     server name when the server sends none (no initialize)
  --max-message BYTES    largest body or SSE event the audit parses (default ${DEFAULT_PARSE_LIMIT / 1024 / 1024}MiB,
                         minimum 16MiB); larger ones are relayed untouched and counted as unparsed
  --no-inject            never add trace context to requests (every byte relayed as it is)
  --otlp URL             export the audit's spans to this OTLP/HTTP endpoint
  --audit-file PATH      write the hash-chained evidence log here (MCP_AUDIT_FILE)
  --service NAME         service.name of the audit's spans (OTEL_SERVICE_NAME)
  -h, --help             show this help

Prints one line on stdout once listening: "mcp-audit proxy: listening on http://HOST:PORT ...".
Exit status: 0 after SIGINT/SIGTERM; 1 when the address cannot be bound; 2 usage error.`;

/** `PORT`, `HOST:PORT` or `[IPv6]:PORT`. */
function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):)?(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new UsageError('--listen must be PORT or HOST:PORT, e.g. 127.0.0.1:8808');
  return { host: m[1] ? m[1].replace(/^\[|\]$/g, '') : '127.0.0.1', port };
}

function parseTarget(value: string | undefined): URL {
  if (!value) throw new UsageError('--target URL is required, e.g. --target http://127.0.0.1:3001/mcp');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--target ${value}: not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError('--target must be an http:// or https:// URL');
  if (url.username || url.password) throw new UsageError('--target must not carry credentials');
  return url;
}

async function readFlagFile(path: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch {
    throw new UsageError(`${flag} ${path}: cannot read the file`);
  }
}

async function jwtVerifier(
  values: Record<string, string | boolean | undefined>,
): Promise<JwtVerifier | undefined> {
  const secretFile = values['jwt-secret-file'] as string | undefined;
  const jwksFile = values['jwks-file'] as string | undefined;
  const audience = values['jwt-audience'] as string | undefined;
  if (!secretFile && !jwksFile) {
    for (const flag of ['jwt-audience', 'jwt-issuer', 'jwt-leeway'])
      if (values[flag] !== undefined)
        throw new UsageError(`--${flag} needs --jwt-secret-file or --jwks-file`);
    return undefined;
  }
  if (!audience)
    throw new UsageError(
      '--jwt-audience is required with JWT verification (a token for another service must not pass)',
    );
  let secret: Buffer | undefined;
  if (secretFile) {
    // A trailing newline from `echo secret > file` is not part of the secret.
    const text = (await readFlagFile(secretFile, '--jwt-secret-file')).toString('utf8').replace(/\r?\n$/, '');
    if (text.length < 16)
      throw new UsageError('--jwt-secret-file: the secret must be at least 16 characters');
    secret = Buffer.from(text, 'utf8');
  }
  let jwks;
  if (jwksFile) {
    try {
      jwks = parseJwks((await readFlagFile(jwksFile, '--jwks-file')).toString('utf8'));
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(`--jwks-file ${jwksFile}: ${(err as Error).message}`);
    }
  }
  const leeway = values['jwt-leeway'] as string | undefined;
  if (leeway !== undefined && (!/^\d{1,3}$/.test(leeway) || Number(leeway) > 300))
    throw new UsageError('--jwt-leeway must be a number of seconds from 0 to 300');
  try {
    return new JwtVerifier({
      secret,
      jwks,
      audience,
      issuer: values['jwt-issuer'] as string | undefined,
      leewaySeconds: leeway === undefined ? DEFAULT_LEEWAY_SECONDS : Number(leeway),
    });
  } catch (err) {
    throw new UsageError(`--jwks-file: ${(err as Error).message}`);
  }
}

export const proxyCommand: Command = {
  name: 'proxy',
  summary: 'audit a remote MCP server (Streamable HTTP, SSE): `proxy --listen 8808 --target URL`',
  usage,
  async run(argv) {
    const { values } = parse(
      argv,
      {
        listen: { type: 'string' },
        target: { type: 'string' },
        'caller-header': { type: 'string' },
        'jwt-secret-file': { type: 'string' },
        'jwks-file': { type: 'string' },
        'jwt-audience': { type: 'string' },
        'jwt-issuer': { type: 'string' },
        'jwt-leeway': { type: 'string' },
        session: { type: 'string' },
        'server-name': { type: 'string' },
        'max-message': { type: 'string' },
        'no-inject': { type: 'boolean' },
        otlp: { type: 'string' },
        'audit-file': { type: 'string' },
        service: { type: 'string' },
      },
      false,
    );
    if (!values.listen)
      throw new UsageError('--listen [HOST:]PORT is required, e.g. --listen 127.0.0.1:8808');
    const listen = parseListen(values.listen);
    const target = parseTarget(values.target);
    for (const flag of ['caller-header', 'session', 'server-name', 'jwt-issuer'] as const) {
      if (values[flag] === '') throw new UsageError(`--${flag} is empty`);
    }
    const header = values['caller-header'];
    if (header !== undefined && !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(header))
      throw new UsageError('--caller-header must be a header name, e.g. X-Authenticated-User');
    if (header?.toLowerCase() === 'authorization')
      throw new UsageError('--caller-header cannot be Authorization (use --jwt-secret-file or --jwks-file)');
    const parseLimit = parseByteCount(values['max-message'], '--max-message') ?? DEFAULT_PARSE_LIMIT;
    if (parseLimit < MIN_PARSE_LIMIT) throw new UsageError('--max-message must be at least 16MiB');
    const jwt = await jwtVerifier(values);
    const auditEnv: Record<string, string> = {};
    if (values.otlp !== undefined) {
      if (!/^https?:\/\/[^\s]+$/.test(values.otlp)) throw new UsageError('--otlp must be an http(s) URL');
      auditEnv.OTEL_EXPORTER_OTLP_ENDPOINT = values.otlp;
    }
    if (values['audit-file'] !== undefined) auditEnv.MCP_AUDIT_FILE = values['audit-file'];
    if (values.service !== undefined) auditEnv.OTEL_SERVICE_NAME = values.service;

    let running;
    try {
      running = await startHttpProxy({
        ...listen,
        target,
        callers: { header: header?.toLowerCase(), jwt },
        parseLimit,
        inject: !values['no-inject'],
        sessionId: values.session ?? (process.env[ENV_SESSION] || undefined),
        serverName: values['server-name'],
        auditEnv,
      });
    } catch (err) {
      process.stderr.write(`mcp-audit proxy: cannot listen on ${values.listen}: ${(err as Error).message}\n`);
      return 1;
    }
    const { address, port } = running.address;
    const shown = address.includes(':') ? `[${address}]` : address;
    process.stdout.write(`mcp-audit proxy: listening on http://${shown}:${port} (target ${target.href})\n`);
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    process.stderr.write(`mcp-audit proxy: ${signal}; stopping\n`);
    await running.stop();
    process.exit(EXIT_OK);
  },
};
