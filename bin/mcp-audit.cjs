#!/usr/bin/env node
'use strict';
// The CJS build runs everywhere a `bin` runs, whatever the caller's module type.
require('../dist/cli/main.cjs').main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`mcp-audit: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
