// Generates the MCP dashboards into dashboards/mcp-audit/*.json (the files Grafana loads).
//   node --import tsx dashboards/src/generate.ts          write the JSON
//   node --import tsx dashboards/src/generate.ts --check  exit 1 if the committed JSON differs
// test/unit/dashboards.test.ts runs the same comparison.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { overview } from './overview.js';
import { session } from './session.js';
import { tool } from './tool.js';

export const OUTPUT_DIR = fileURLToPath(new URL('../mcp-audit/', import.meta.url));

/** File name → dashboard, in the order the README lists them. */
export function dashboards(): Record<string, Dashboard> {
  return { 'mcp-overview.json': overview(), 'mcp-session.json': session(), 'mcp-tool.json': tool() };
}

/** The exact text written to disk: stable key order from the builders, two-space indent. */
export function render(d: Dashboard): string {
  return JSON.stringify(d, null, 2) + '\n';
}

function main(argv: string[]): number {
  const check = argv.includes('--check');
  let stale = 0;
  for (const [name, d] of Object.entries(dashboards())) {
    const path = OUTPUT_DIR + name;
    const text = render(d);
    if (check) {
      let current = '';
      try {
        current = readFileSync(path, 'utf8');
      } catch {
        // missing counts as stale
      }
      if (current !== text) {
        console.error(
          `stale: dashboards/mcp-audit/${name} (run node --import tsx dashboards/src/generate.ts)`,
        );
        stale++;
      }
    } else {
      writeFileSync(path, text);
      console.error(`wrote dashboards/mcp-audit/${name}`);
    }
  }
  return stale > 0 ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1])
  process.exitCode = main(process.argv.slice(2));
