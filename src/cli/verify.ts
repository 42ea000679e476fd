// `mcp-audit verify FILE...`: re-computes the hash chain across rotated files and names the first
// bad line. Exit 0 intact, 1 tampered, 2 usage error (bad flag, missing file).

import { orderLogFiles, assertReadableFile } from '../evidence/log-files.js';
import { verifyLog, type VerifyResult } from '../evidence/verify.js';
import { parse, resolveKey } from './args.js';
import { EXIT_FAILED, EXIT_OK, UsageError, type Command } from './command.js';

const usage = `Usage: mcp-audit verify [options] FILE...

Checks the hash chain of an evidence log written by mcp-audit (the in-process exporter or
\`mcp-audit sink\`). Give every file of a rotated log (FILE, FILE.1, FILE.2, ...): they are put in
chain order whatever order the shell lists them, and a missing file is reported.

Reports the first bad line as FILE:LINE with a reason:
  edited     a line's content does not match its hash (or it was re-hashed)
  removed    records are missing (seq gap), including a missing rotated file
  inserted   a line that is not part of the chain
  reordered  lines are out of order
  truncated  the final line is incomplete (torn write or cut file)
  bad_json   a complete line that is not a chain entry

Options:
  --key KEY          HMAC key the log was written with (visible in process lists:
                     prefer MCP_AUDIT_HMAC_KEY or --key-file)
  --key-file PATH    read the HMAC key from a file
  --json             print the result as JSON
  -h, --help         show this help

Exit status: 0 chain intact, 1 tampering or damage found, 2 usage error.
The summary prints the chain head hash: record it elsewhere (ticket, SIEM, WORM store) to detect
lines cut from the end later.`;

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'check the hash chain of evidence log files; name the first tampered line',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      key: { type: 'string' },
      'key-file': { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    if (positionals.length === 0) throw new UsageError('no FILE given');
    for (const f of positionals)
      await assertReadableFile(f).catch((e: Error) => Promise.reject(new UsageError(e.message)));
    const key = await resolveKey(values);
    const files = orderLogFiles(positionals);
    const result = await verifyLog(files, { key });
    if (values.json)
      process.stdout.write(`${JSON.stringify({ ...result, hmac: key !== undefined }, null, 2)}\n`);
    else process.stdout.write(formatResult(result, key !== undefined));
    return result.ok ? EXIT_OK : EXIT_FAILED;
  },
};

export function formatResult(r: VerifyResult, hmac: boolean): string {
  const out: string[] = [];
  for (const w of r.warnings) out.push(`warning: ${w.file}:${w.line}: ${w.detail}`);
  if (r.problem) {
    const p = r.problem;
    out.push(`TAMPERED ${p.file}:${p.line}: ${p.reason}: ${p.detail}`);
  }
  const controls = Object.entries(r.control).map(([k, n]) => `${n} ${k}`);
  const lines = `${r.records} record${r.records === 1 ? '' : 's'}${controls.length ? ` (+${controls.join(', ')})` : ''}`;
  const files = `${r.files.length} file${r.files.length === 1 ? '' : 's'}`;
  const alg = hmac ? 'HMAC-SHA256' : 'SHA-256';
  out.push(
    r.ok && r.lines === 0
      ? `OK: empty log (0 records in ${files})`
      : r.ok
        ? `OK: ${lines} in ${files}, ${alg} chain intact; head seq ${r.head.seq - 1} hash ${r.head.hash}`
        : `FAILED: ${lines} verified before the first bad line, in ${files} (${alg}); last good hash ${r.head.hash}`,
  );
  return `${out.join('\n')}\n`;
}
