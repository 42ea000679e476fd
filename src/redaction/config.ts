// Redaction options: validation of RedactionOptions into the engine's internal Config, and
// redactionOptionsFromEnv, which reads the same options from MCP_AUDIT_* environment variables.

import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { CUT_SUFFIX } from './bounded-json.js';
import { BUILTIN_CLASS_NAMES, KEY_CLASS, builtinDetectors, type Detector } from './detectors.js';
import { keyValueDetectors } from './key-value.js';
import { isBuiltinSensitiveKey, isHintKey, normalizeKey } from './keys.js';
import { renderSpans, scanText } from './scanner.js';

export interface RedactionOptions {
  /** User classes, masked as `[REDACTED:<name>]`; names match /^[A-Za-z0-9_.-]{1,64}$/. Run after the built-ins. */
  extraPatterns?: Array<{ name: string; pattern: RegExp | string }>;
  /** More sensitive key names, matched case- and separator-insensitively and exactly (`ssn_last4` ≡ `SsnLast4`). */
  extraKeys?: string[];
  /** Keys whose values are not key-masked; value patterns still apply to them. */
  allowKeys?: string[];
  /** Built-in classes to turn off (see BUILTIN_CLASS_NAMES); unknown names throw. Key masking cannot be turned off. */
  disableClasses?: string[];
  /** Bound on json() text in UTF-8 bytes, 64 … 64 MiB. @default 4096 */
  maxBytes?: number;
  /** Containers nested deeper than this become "[max depth]", 1 … 512. @default 16 */
  maxDepth?: number;
  /** HMAC-SHA256 key for 'hash' mode. @default a random key per process */
  hashKey?: string | Uint8Array;
}

const DEFAULT_MAX_BYTES = 4096;
const DEFAULT_MAX_DEPTH = 16;
const MIN_MAX_BYTES = 64;
const MAX_MAX_BYTES = 64 * 1024 * 1024;
const MAX_MAX_DEPTH = 512;
const KEY_LIMIT = 1024;

let processHashKey: KeyObject | undefined;

function configError(message: string): Error {
  return new Error(`mcp-audit redaction: ${message}`);
}

function checkInt(name: string, v: unknown, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw configError(`${name} must be an integer between ${min} and ${max}, got ${String(v)}`);
  }
  return v;
}

function compileUserPattern(name: unknown, pattern: unknown): RegExp {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
    throw configError(`extraPatterns: name ${JSON.stringify(name)} must match /^[A-Za-z0-9_.-]{1,64}$/`);
  }
  try {
    if (pattern instanceof RegExp)
      return new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '') + 'g');
    if (typeof pattern === 'string' && pattern !== '') return new RegExp(pattern, 'g');
  } catch (err) {
    throw configError(
      `extraPatterns: "${name}" is not a valid regular expression: ${(err as Error).message}`,
    );
  }
  throw configError(`extraPatterns: "${name}" needs a RegExp or a non-empty string pattern`);
}

function keySet(name: string, keys: unknown): Set<string> {
  const out = new Set<string>();
  if (keys === undefined) return out;
  if (!Array.isArray(keys)) throw configError(`${name} must be an array of strings`);
  for (const k of keys) {
    const n = typeof k === 'string' ? normalizeKey(k) : '';
    if (n === '') throw configError(`${name}: ${JSON.stringify(k)} is not a usable key name`);
    out.add(n);
  }
  return out;
}

export interface Config {
  readonly detectors: readonly Detector[];
  readonly maxBytes: number;
  readonly maxDepth: number;
  readonly hashKey: KeyObject;
  isSensitiveKey(raw: string): boolean;
  /** A key that only hints at a secret (a random-looking value under it is masked). */
  isHintKey(raw: string): boolean;
  /** An object key with value patterns applied (keys are names, so no key masking). */
  redactKey(raw: string): { text: string; count: number };
}
export function buildConfig(options: RedactionOptions): Config {
  const disabled = new Set<string>();
  for (const name of options.disableClasses ?? []) {
    if (name === KEY_CLASS) throw configError('key-based masking cannot be disabled');
    if (!(BUILTIN_CLASS_NAMES as readonly string[]).includes(name)) {
      throw configError(
        `disableClasses: unknown class "${name}"; known classes: ${BUILTIN_CLASS_NAMES.join(', ')}`,
      );
    }
    disabled.add(name);
  }
  const extraKeys = keySet('extraKeys', options.extraKeys);
  const allowKeys = keySet('allowKeys', options.allowKeys);
  const sensitiveNormalized = (n: string): boolean =>
    !allowKeys.has(n) && (extraKeys.has(n) || isBuiltinSensitiveKey(n));

  const user: Detector[] = (options.extraPatterns ?? []).map((p) => ({
    re: compileUserPattern(p?.name, p?.pattern),
    name: p.name,
    builtin: false,
  }));

  let hashKey: KeyObject;
  if (options.hashKey === undefined) {
    processHashKey ??= createSecretKey(randomBytes(32));
    hashKey = processHashKey;
  } else if (typeof options.hashKey === 'string' && options.hashKey !== '') {
    hashKey = createSecretKey(Buffer.from(options.hashKey, 'utf8'));
  } else if (options.hashKey instanceof Uint8Array && options.hashKey.byteLength > 0) {
    hashKey = createSecretKey(Buffer.from(options.hashKey));
  } else {
    throw configError('hashKey must be a non-empty string or Uint8Array');
  }

  // Key names repeat across calls; the caches are cleared rather than evicted to stay trivial.
  const cache = new Map<string, boolean>();
  const keyCache = new Map<string, { text: string; count: number }>();
  const detectors = [...builtinDetectors(disabled), ...user, ...keyValueDetectors(sensitiveNormalized)];
  return {
    detectors,
    maxBytes: checkInt('maxBytes', options.maxBytes, MIN_MAX_BYTES, MAX_MAX_BYTES, DEFAULT_MAX_BYTES),
    maxDepth: checkInt('maxDepth', options.maxDepth, 1, MAX_MAX_DEPTH, DEFAULT_MAX_DEPTH),
    hashKey,
    isSensitiveKey(raw: string): boolean {
      let hit = cache.get(raw);
      if (hit === undefined) {
        hit = sensitiveNormalized(normalizeKey(raw.length > KEY_LIMIT ? raw.slice(0, KEY_LIMIT) : raw));
        if (cache.size >= 4096) cache.clear();
        cache.set(raw, hit);
      }
      return hit;
    },
    isHintKey(raw: string): boolean {
      const n = normalizeKey(raw.length > KEY_LIMIT ? raw.slice(0, KEY_LIMIT) : raw);
      return !allowKeys.has(n) && isHintKey(n);
    },
    redactKey(raw: string): { text: string; count: number } {
      let hit = keyCache.get(raw);
      if (hit === undefined) {
        const text = raw.length > KEY_LIMIT ? raw.slice(0, KEY_LIMIT) : raw;
        const spans = scanText(text, detectors, { whole: text === raw });
        hit =
          spans.length === 0 && text === raw
            ? { text: raw, count: 0 }
            : { text: renderSpans(text, spans) + (text === raw ? '' : CUT_SUFFIX), count: spans.length };
        if (raw.length > 128) return hit;
        if (keyCache.size >= 4096) keyCache.clear();
        keyCache.set(raw, hit);
      }
      return hit;
    },
  };
}

// --- environment ----------------------------------------------------------------------------

function envList(env: NodeJS.ProcessEnv, name: string): string[] | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function envError(name: string, message: string): Error {
  return new Error(`mcp-audit: ${name}: ${message}`);
}

function envPatterns(raw: string): Array<{ name: string; pattern: RegExp }> {
  const NAME = 'MCP_AUDIT_REDACT_PATTERNS';
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw envError(NAME, `not valid JSON (${(err as Error).message}); expected [{"name":"…","pattern":"…"}]`);
  }
  if (!Array.isArray(parsed)) throw envError(NAME, 'expected a JSON array of {"name","pattern"} objects');
  return parsed.map((entry: unknown, i) => {
    const e = entry as { name?: unknown; pattern?: unknown; flags?: unknown } | null;
    if (typeof e !== 'object' || e === null || typeof e.name !== 'string' || typeof e.pattern !== 'string') {
      throw envError(NAME, `entry ${i} must be {"name": string, "pattern": string, "flags"?: string}`);
    }
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(e.name))
      throw envError(NAME, `entry ${i}: name "${e.name}" must match /^[A-Za-z0-9_.-]{1,64}$/`);
    const flags = e.flags === undefined ? '' : e.flags;
    if (typeof flags !== 'string' || !/^[imsu]*$/.test(flags))
      throw envError(NAME, `entry ${i} ("${e.name}"): flags may only contain i, m, s, u`);
    try {
      return { name: e.name, pattern: new RegExp(e.pattern, flags) };
    } catch (err) {
      throw envError(NAME, `entry ${i} ("${e.name}"): invalid regular expression: ${(err as Error).message}`);
    }
  });
}

/** Env config: MCP_AUDIT_REDACT_KEYS, MCP_AUDIT_ALLOW_KEYS, MCP_AUDIT_REDACT_PATTERNS (JSON array of {name,pattern}), MCP_AUDIT_REDACT_DISABLE, MCP_AUDIT_REDACT_MAX_BYTES. Bad values -> throws an Error with a clear message naming the variable. */
export function redactionOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): RedactionOptions {
  const opts: RedactionOptions = {};
  const extraKeys = envList(env, 'MCP_AUDIT_REDACT_KEYS');
  if (extraKeys) opts.extraKeys = extraKeys;
  const allowKeys = envList(env, 'MCP_AUDIT_ALLOW_KEYS');
  if (allowKeys) opts.allowKeys = allowKeys;

  const patterns = env.MCP_AUDIT_REDACT_PATTERNS;
  if (patterns !== undefined && patterns.trim() !== '') opts.extraPatterns = envPatterns(patterns);

  const disable = envList(env, 'MCP_AUDIT_REDACT_DISABLE');
  if (disable) {
    for (const name of disable) {
      if (name === KEY_CLASS)
        throw envError('MCP_AUDIT_REDACT_DISABLE', 'key-based masking cannot be disabled');
      if (!(BUILTIN_CLASS_NAMES as readonly string[]).includes(name)) {
        throw envError(
          'MCP_AUDIT_REDACT_DISABLE',
          `unknown class "${name}"; known classes: ${BUILTIN_CLASS_NAMES.join(', ')}`,
        );
      }
    }
    opts.disableClasses = disable;
  }

  const maxBytes = env.MCP_AUDIT_REDACT_MAX_BYTES;
  if (maxBytes !== undefined && maxBytes.trim() !== '') {
    const n = Number(maxBytes.trim());
    if (!/^[0-9]+$/.test(maxBytes.trim()) || n < MIN_MAX_BYTES || n > MAX_MAX_BYTES) {
      throw envError(
        'MCP_AUDIT_REDACT_MAX_BYTES',
        `must be an integer between ${MIN_MAX_BYTES} and ${MAX_MAX_BYTES}, got "${maxBytes}"`,
      );
    }
    opts.maxBytes = n;
  }
  return opts;
}
