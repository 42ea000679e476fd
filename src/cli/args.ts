// Shared flag handling: node:util parseArgs in strict mode, with its errors turned into
// UsageError (exit 2) and phrased for people.

import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ENV_HMAC_KEY, envString } from '../env.js';
import { parseByteSize } from '../evidence/log-files.js';
import { UsageError } from './command.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: true }>
>;

export function parse<O extends Options>(argv: string[], options: O, allowPositionals = true): Parsed<O> {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (err) {
    // parseArgs messages name the flag, never a value; still strip its advice about `--`.
    const msg = err instanceof Error ? err.message.split('. To specify')[0]!.replace(/\.$/, '') : String(err);
    throw new UsageError(msg);
  }
}

export function parseByteCount(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = parseByteSize(value);
  if (n === null) throw new UsageError(`${flag} must be a byte count like 1048576 or 64MiB`);
  return n;
}

/** The HMAC key from --key, --key-file or the environment (in that order). Never printed. */
export async function resolveKey(flags: { key?: string; 'key-file'?: string }): Promise<string | undefined> {
  if (flags.key !== undefined && flags['key-file'] !== undefined)
    throw new UsageError('use --key or --key-file, not both');
  if (flags.key !== undefined) {
    if (flags.key === '') throw new UsageError('--key is empty');
    return flags.key;
  }
  if (flags['key-file'] !== undefined) {
    let text: string;
    try {
      text = await readFile(flags['key-file'], 'utf8');
    } catch {
      throw new UsageError(`--key-file ${flags['key-file']}: cannot read the file`);
    }
    // A trailing newline from `echo key > file` is not part of the key.
    const key = text.replace(/\r?\n$/, '');
    if (key === '') throw new UsageError(`--key-file ${flags['key-file']}: the file is empty`);
    return key;
  }
  return envString(ENV_HMAC_KEY);
}
