// ESM applications without a loader hook. Node 20 can only intercept `import` through
// `module.register()`, which starts a loader thread and routes every module of the app through it
// (most of what `--import mcp-audit/register` used to cost at start-up). An ES module is one instance
// per URL, though: the register entry finds the app's copy of the MCP SDK from the app's own
// location, imports the files that hold what we patch before the app runs, and patches the classes
// in place, so the app's later `import` of the same files sees them patched. Where that cannot work
// (no copy found from the entry point, an entry the planner cannot read, MCP_AUDIT_ESM_HOOK=on), the
// register entry falls back to the loader hook.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

/** The files of one SDK copy to import before the app runs, and what each holds. */
export interface PreloadTarget {
  /** Absolute, symlinks resolved: the path Node's ESM resolver gives the app for the same file. */
  file: string;
  /** `protocol`: a module exporting `Protocol`; the others: the 1.x server HTTP transports. */
  holds: 'protocol' | 'server/streamableHttp' | 'server/sse';
  version: string;
}

export interface PreloadPlan {
  targets: PreloadTarget[];
  /** Why the loader hook is still needed, when it is. */
  hookReason: string | undefined;
}

const V1 = 'sdk';
const V2_PACKAGES = ['client', 'server'] as const;
const V1_HTTP_ENTRIES = ['server/streamableHttp', 'server/sse'] as const;
type Mentioned = Set<string>;

const MAX_SCANNED_FILES = 200;
const MAX_SCANNED_BYTES = 2 * 1024 * 1024;
const MENTION = /@modelcontextprotocol\/(sdk|client|server)(?:\/([\w./-]*))?/g;
const RELATIVE = /(?:\bfrom|\bimport|\brequire)\s*\(?\s*['"](\.{1,2}\/[^'"\n]+)['"]/g;
// `import(x)` with a computed specifier: what it loads cannot be known from the text.
const COMPUTED_IMPORT = /\bimport\s*\(\s*(?!['"\s])/;
const SOURCE_EXTENSIONS = ['', '.js', '.mjs', '.cjs', '.ts', '.mts', '.cts', '/index.js', '/index.ts'];

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function sourceFile(path: string): string | undefined {
  const candidates = SOURCE_EXTENSIONS.map((ext) => path + ext);
  // TypeScript sources import their siblings by the name they will have once compiled.
  const swapped = path.replace(/\.([mc]?)js$/, '.$1ts');
  if (swapped !== path) candidates.push(swapped);
  const found = candidates.find(isFile);
  return found ? realpathSync(found) : undefined;
}

interface Scan {
  mentioned: Mentioned;
  /** False when some module the app loads could not be followed (so the scan may have missed one). */
  complete: boolean;
}

/**
 * Which MCP packages (and 1.x subpaths) the app's own modules name, following its relative imports
 * from the entry point. Packages it reaches through a dependency of its own are not seen here.
 */
function scanApp(entry: string | undefined): Scan {
  const mentioned: Mentioned = new Set();
  const start = entry ? sourceFile(resolve(entry)) : undefined;
  if (!start) return { mentioned, complete: false };
  const queue = [start];
  const seen = new Set(queue);
  let complete = true;
  for (let i = 0; i < queue.length; i++) {
    const file = queue[i]!;
    let text: string;
    try {
      if (statSync(file).size > MAX_SCANNED_BYTES) {
        complete = false;
        continue;
      }
      text = readFileSync(file, 'utf8');
    } catch {
      complete = false;
      continue;
    }
    if (COMPUTED_IMPORT.test(text)) complete = false;
    for (const m of text.matchAll(MENTION)) {
      mentioned.add(m[1]!);
      if (m[1] === V1 && m[2]) mentioned.add(`${V1}/${m[2].replace(/\.js$/, '')}`);
    }
    for (const m of text.matchAll(RELATIVE)) {
      const next = sourceFile(resolve(dirname(file), m[1]!));
      if (!next) {
        complete = false;
        continue;
      }
      if (seen.has(next) || /[\\/]node_modules[\\/]/.test(next)) continue;
      if (queue.length >= MAX_SCANNED_FILES) {
        complete = false;
        break;
      }
      seen.add(next);
      queue.push(next);
    }
  }
  return { mentioned, complete };
}

interface PackageJson {
  version?: unknown;
  exports?: unknown;
}

/** The directory Node would load `@modelcontextprotocol/<name>` from, resolving from `fromDir`. */
function packageDir(name: string, fromDirs: readonly string[]): string | undefined {
  for (const fromDir of fromDirs) {
    const full = `@modelcontextprotocol/${name}`;
    const searched = createRequire(join(fromDir, 'noop.js')).resolve.paths(full) ?? [];
    for (const dir of searched) {
      const candidate = join(dir, full);
      if (isFile(join(candidate, 'package.json'))) return realpathSync(candidate);
    }
  }
  return undefined;
}

function readPackage(dir: string): PackageJson | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
  } catch {
    return undefined;
  }
}

/** The `import` target of a package's "." export (plain string or `{ default }` condition object). */
function esmEntry(pkg: PackageJson): string | undefined {
  const exportsField = pkg.exports as Record<string, unknown> | string | undefined;
  const dot = typeof exportsField === 'object' && exportsField !== null ? exportsField['.'] : exportsField;
  const imported = typeof dot === 'object' && dot !== null ? (dot as Record<string, unknown>).import : dot;
  const target =
    typeof imported === 'object' && imported !== null
      ? (imported as Record<string, unknown>).default
      : imported;
  return typeof target === 'string' ? target : undefined;
}

type InRange = (version: string, v1: boolean) => boolean;

function preservesSymlinks(env: NodeJS.ProcessEnv): boolean {
  const flags = [...process.execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)];
  return env.NODE_PRESERVE_SYMLINKS === '1' || flags.includes('--preserve-symlinks');
}

function envForcesHook(env: NodeJS.ProcessEnv): boolean {
  return ['1', 'true', 'on', 'yes'].includes((env.MCP_AUDIT_ESM_HOOK ?? '').toLowerCase());
}

/**
 * What to import before the app runs, found from the entry point (`process.argv[1]`) and the working
 * directory. The app's own modules decide which packages are imported (a package that is installed
 * but not named is not loaded for nothing); when they name none, or cannot all be read, every copy
 * found is imported, so a copy reached through another library is still patched.
 */
export function planPreload(
  inRange: InRange,
  entry: string | undefined = process.argv[1],
  cwd: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): PreloadPlan {
  if (envForcesHook(env)) return { targets: [], hookReason: 'MCP_AUDIT_ESM_HOOK is set' };
  // The app's module URLs would then be its symlinked paths, not the files found here.
  if (preservesSymlinks(env)) return { targets: [], hookReason: 'symlinks are preserved' };
  const scan = scanApp(entry);
  const entryFile = entry ? sourceFile(resolve(entry)) : undefined;
  const fromDirs = [...new Set([...(entryFile ? [dirname(entryFile)] : []), cwd])];
  const named = scan.complete && scan.mentioned.size > 0;
  const wanted = (name: string) => !named || scan.mentioned.has(name);
  const targets: PreloadTarget[] = [];
  let found = 0;
  const missing: string[] = [];
  for (const name of [V1, ...V2_PACKAGES]) {
    const dir = packageDir(name, fromDirs);
    if (!dir) {
      if (named && scan.mentioned.has(name)) missing.push(`@modelcontextprotocol/${name}`);
      continue;
    }
    found++;
    if (!wanted(name)) continue;
    const pkg = readPackage(dir);
    const version = typeof pkg?.version === 'string' ? pkg.version : undefined;
    // Outside the supported range the hook would not patch it either.
    if (!pkg || !version || !inRange(version, name === V1)) continue;
    const files: [string | undefined, PreloadTarget['holds']][] =
      name === V1
        ? [
            ['dist/esm/shared/protocol.js', 'protocol'],
            ...V1_HTTP_ENTRIES.filter((sub) => wanted(`${V1}/${sub}`)).map(
              (sub) => [`dist/esm/${sub}.js`, sub] as [string, PreloadTarget['holds']],
            ),
          ]
        : [[esmEntry(pkg), 'protocol']];
    for (const [relative, holds] of files) {
      const file = relative ? join(dir, relative) : undefined;
      if (!file || !isFile(file)) {
        missing.push(`@modelcontextprotocol/${name} (${relative ?? 'no ESM entry'})`);
        continue;
      }
      targets.push({ file: realpathSync(file), holds, version });
    }
  }
  const hookReason =
    missing.length > 0
      ? `not found from the entry point: ${missing.join(', ')}`
      : found === 0
        ? 'no @modelcontextprotocol package found from the entry point or the working directory'
        : undefined;
  return { targets, hookReason };
}
