// Where the built package's files are, whether this code runs from dist/ (npm start, an installed
// package) or from src/ under tsx (tests): found from the package.json named mcp-audit above us.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'mcp-audit')
          return dir;
      } catch {
        // not ours, keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the mcp-audit package root');
    dir = parent;
  }
}

/** `mcp-audit/register` as the package exports it for `import` (dist/register.js). */
export function registerEntry(root = packageRoot()): string {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    exports?: Record<string, { import?: string } | string>;
  };
  const entry = manifest.exports?.['./register'];
  const rel = typeof entry === 'string' ? entry : entry?.import;
  if (!rel) throw new Error('package.json has no "./register" import export');
  return join(root, rel);
}

/** The compiled scripted agent. */
export function agentEntry(root = packageRoot()): string {
  return join(root, 'dist', 'demo', 'agent.js');
}
