// `node --import tsx bench/profile.ts [config] [calls]`: runs one in-process configuration under
// `node --cpu-prof` and prints where the time goes — self time by function and by package, and the
// share of garbage collection — so design changes follow the profile, not a guess.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWorker } from './lib/spawn.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const config = process.argv[2] ?? 'mcp-audit';
const calls = process.argv[3] ?? '20000';
const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-prof-'));
try {
  await runWorker('inproc.mjs', [config, calls, '1000'], {
    cpu: 1,
    nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '100'],
  });
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no profile written');
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const [id, t] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '');
    const pkg =
      url === ''
        ? functionName.startsWith('(')
          ? functionName
          : '(native)'
        : url.includes('/node_modules/')
          ? where
              .split('/')
              .slice(0, where.startsWith('@') ? 2 : 1)
              .join('/')
          : url.startsWith('node:')
            ? 'node core'
            : where.replace(/^.*\/work\/main\//, '');
    const key = `${functionName || '(anonymous)'} ${where.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + t);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + t);
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, t]) => `  ${((t / total) * 100).toFixed(1).padStart(5)} %  ${k}`)
      .join('\n');
  process.stdout.write(
    `profile of "${config}", ${calls} calls, ${(total / 1000).toFixed(0)} ms sampled\n` +
      `by package or file (self time):\n${top(byPackage, 15)}\nby function (self time):\n${top(byFunction, 30)}\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
