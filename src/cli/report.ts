// `mcp-audit report FILE...`: per-session aggregation as a table or JSON.
// It reads records; it does not vouch for them — run `mcp-audit verify` for that.

import { assertReadableFile, orderLogFiles } from '../evidence/log-files.js';
import { formatSessionTable, reportFiles } from '../evidence/report.js';
import { parse } from './args.js';
import { EXIT_OK, UsageError, type Command } from './command.js';

const usage = `Usage: mcp-audit report [options] FILE...

Aggregates the evidence log per session (one agent run): tool calls, bytes returned, distinct
tools, time span, error rate, callers and servers. Each tools/call is counted once: when both the
client and the server are instrumented, the client's record counts.

Options:
  --json       print the sessions as JSON
  -h, --help   show this help

Exit status: 0 success, 2 usage error. Does not check integrity: use \`mcp-audit verify\`.`;

export const reportCommand: Command = {
  name: 'report',
  summary: 'per-session totals (calls, bytes, tools, time span, errors, callers) from evidence logs',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { json: { type: 'boolean', default: false } });
    if (positionals.length === 0) throw new UsageError('no FILE given');
    for (const f of positionals)
      await assertReadableFile(f).catch((e: Error) => Promise.reject(new UsageError(e.message)));
    const report = await reportFiles(orderLogFiles(positionals));
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return EXIT_OK;
    }
    if (report.sessions.length === 0) {
      process.stdout.write(`no tool calls in ${report.records} audit record(s)\n`);
      return EXIT_OK;
    }
    const calls = report.sessions.reduce((n, s) => n + s.calls, 0);
    process.stdout.write(
      `${formatSessionTable(report.sessions)}\n\n${report.sessions.length} session(s), ${calls} tool call(s) from ${report.records} audit record(s)\n`,
    );
    return EXIT_OK;
  },
};
