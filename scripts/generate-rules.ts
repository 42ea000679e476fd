#!/usr/bin/env node
// Generates collector/rules/mcp-audit-alerts.yml (Prometheus alerting rules) from
// collector/rules/thresholds.json, the one definition of every detection threshold.
//
//   npx tsx scripts/generate-rules.ts                 write the rules file
//   npx tsx scripts/generate-rules.ts --check         exit 1 if the committed file is stale
//   npx tsx scripts/generate-rules.ts --stdout        print instead of writing
//   options: --thresholds FILE  --out FILE  --jaeger-url URL (env MCP_AUDIT_JAEGER_URL)
//            --runbook-base URL (env MCP_AUDIT_RUNBOOK_BASE)
//
// The rules themselves are built in src/detection/rules/ (one function per alert); this entry point
// reads the files and the flags. test/unit/rules.test.ts asserts the committed file is a fresh generation.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateAlerts } from '../src/detection/rules/build.js';
import { DEFAULT_OPTIONS, type GenerateOptions } from '../src/detection/rules/rule.js';
import type { Thresholds } from '../src/detection/thresholds.js';
import { ENV_JAEGER_URL, ENV_RUNBOOK_BASE, envString } from '../src/env.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const THRESHOLDS_PATH = join(ROOT, 'collector/rules/thresholds.json');
export const ALERTS_PATH = join(ROOT, 'collector/rules/mcp-audit-alerts.yml');

export function loadThresholds(path = THRESHOLDS_PATH): Thresholds {
  return JSON.parse(readFileSync(path, 'utf8')) as Thresholds;
}

function main(argv: string[]): number {
  const opt = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const opts: GenerateOptions = {
    jaegerUrl: opt('--jaeger-url') ?? envString(ENV_JAEGER_URL) ?? DEFAULT_OPTIONS.jaegerUrl,
    runbookBase: opt('--runbook-base') ?? envString(ENV_RUNBOOK_BASE) ?? DEFAULT_OPTIONS.runbookBase,
  };
  const out = opt('--out') ?? ALERTS_PATH;
  const yaml = generateAlerts(loadThresholds(opt('--thresholds') ?? THRESHOLDS_PATH), opts);
  if (argv.includes('--stdout')) {
    process.stdout.write(yaml);
    return 0;
  }
  if (argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(out, 'utf8');
    } catch {
      /* missing counts as stale */
    }
    if (current !== yaml) {
      console.error(`${out} is stale: run npm run rules:generate`);
      return 1;
    }
    console.error(`${out} is up to date`);
    return 0;
  }
  writeFileSync(out, yaml);
  console.error(`wrote ${out}`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exit(main(process.argv.slice(2)));
}
