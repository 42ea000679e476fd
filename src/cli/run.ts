// Runs the CLI from source (`node --import tsx src/cli/run.ts ...`), as tests and development do;
// installed copies go through bin/mcp-audit.cjs and the build.

import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`mcp-audit: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
