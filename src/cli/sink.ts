// `mcp-audit sink`: runs the OTLP/HTTP receiver that writes the evidence log until SIGTERM/SIGINT,
// then finishes in-flight requests, fsyncs and exits 0.

import { ENV_FILE, ENV_FILE_MAX_BYTES, ENV_HMAC_KEY, envString } from '../env.js';
import { startSink, DEFAULT_MAX_BODY_BYTES, TRACES_PATH } from '../evidence/sink.js';
import { parse, parseByteCount, resolveKey } from './args.js';
import { EXIT_FAILED, EXIT_OK, UsageError, type Command } from './command.js';

const DEFAULT_LISTEN = '127.0.0.1:4320';

const usage = `Usage: mcp-audit sink --file PATH [options]

A small OTLP/HTTP trace receiver that writes the hash-chained evidence log. Point the collector's
otlphttp exporter at it (encoding json or proto), and run it as a user whose log folder the MCP
servers cannot write. Only MCP spans (with mcp.method.name) become records; others are accepted
and ignored. A request is answered 200 only after its records are fsync'd.

Options:
  --listen HOST:PORT      address to listen on (default ${DEFAULT_LISTEN}; port 0 picks one)
  --file PATH             evidence log (default $${ENV_FILE}); rotated files are PATH.1, PATH.2, ...
  --max-bytes N           rotate before a file exceeds N bytes, e.g. 64MiB (default
                          $${ENV_FILE_MAX_BYTES}, else never)
  --max-body-bytes N      largest request body, compressed or not (default ${DEFAULT_MAX_BODY_BYTES / 1024 / 1024}MiB)
  --key-file PATH         HMAC key for the chain (default $${ENV_HMAC_KEY}; no --key here:
                          a long-running process would show it in process lists)
  -h, --help              show this help

Endpoints: POST ${TRACES_PATH} (application/json or application/x-protobuf, gzip allowed),
GET /health. Exit status: 0 after a clean shutdown, 1 if it cannot start, 2 usage error.`;

export const sinkCommand: Command = {
  name: 'sink',
  summary: 'OTLP/HTTP receiver that writes the hash-chained evidence log (run apart from MCP servers)',
  usage,
  async run(argv) {
    const { values } = parse(
      argv,
      {
        listen: { type: 'string', default: DEFAULT_LISTEN },
        file: { type: 'string' },
        'max-bytes': { type: 'string' },
        'max-body-bytes': { type: 'string' },
        'key-file': { type: 'string' },
      },
      false,
    );
    const file = values.file ?? envString(ENV_FILE);
    if (!file) throw new UsageError(`--file is required (or set ${ENV_FILE})`);
    const { host, port } = parseListen(values.listen);
    const maxBytes = parseByteCount(values['max-bytes'] ?? envString(ENV_FILE_MAX_BYTES), '--max-bytes');
    const maxBodyBytes = parseByteCount(values['max-body-bytes'], '--max-body-bytes');
    const hmacKey = await resolveKey({ 'key-file': values['key-file'] });

    let sink;
    try {
      sink = await startSink({ host, port, file, maxBytes, maxBodyBytes, hmacKey });
    } catch (err) {
      process.stderr.write(`mcp-audit sink: cannot start: ${(err as Error).message}\n`);
      return EXIT_FAILED;
    }
    const { writer } = sink;
    if (writer.stats.chainBreaks > 0) {
      process.stderr.write(
        `mcp-audit sink: the log's tail was damaged (crash?); sealed it with a chain_break line\n`,
      );
    }
    process.stdout.write(
      `mcp-audit sink listening on ${sink.url}${TRACES_PATH}, writing ${writer.position.file} (${hmacKey ? 'HMAC-SHA256' : 'SHA-256'} chain, next seq ${writer.position.seq})\n`,
    );

    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        resolve();
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    await sink.close();
    const s = writer.stats;
    process.stderr.write(
      `mcp-audit sink: stopped; ${s.records} records written${s.dropped ? `, ${s.dropped} refused (queue full)` : ''}${s.writeErrors ? `, ${s.writeErrors} write errors` : ''}\n`,
    );
    return EXIT_OK;
  },
};

export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535)
    throw new UsageError(`--listen must be HOST:PORT (e.g. ${DEFAULT_LISTEN} or [::1]:4320)`);
  return { host: (m[1] ?? m[2])!, port };
}
