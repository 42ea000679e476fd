// The performance targets, checked against the figures of this run.
import type { PairedRow } from './lib/stats.js';
import type { Section } from './lib/types.js';

function row(ok: boolean | undefined, target: string, measured: string): string {
  const verdict = ok === undefined ? 'not measured' : ok ? 'met' : '**not met**';
  return `| ${target} | ${measured} | ${verdict} |`;
}

export function targetsTable(sections: Record<string, Section | undefined>): string {
  const lines = ['| target | this run | verdict |', '|---|---|---|'];
  const inproc = sections.inproc?.summary as Record<string, PairedRow> | undefined;
  if (inproc?.['mcp-audit'] && inproc['bare-2']) {
    const audit = inproc['mcp-audit'];
    const floor = inproc['bare-2'].cpu.median;
    lines.push(
      row(
        audit.cpu.median <= 2 * floor,
        'in-process, both sides, default: added CPU per call ≤ 2× the two-bare-spans floor',
        `${audit.cpu.median.toFixed(1)} µs vs floor ${floor.toFixed(1)} µs = ${(audit.cpu.median / floor).toFixed(2)}×`,
      ),
    );
    const traceloop = inproc.traceloop;
    lines.push(
      row(
        traceloop ? audit.p50.median <= traceloop.p50.median : undefined,
        "in-process: added median latency ≤ Traceloop's",
        traceloop
          ? `${audit.p50.median.toFixed(1)} µs vs ${traceloop.p50.median.toFixed(1)} µs`
          : 'Traceloop not measured',
      ),
    );
  } else {
    lines.push(row(undefined, 'in-process CPU and latency', '—'));
  }
  const stdio = (
    sections.remote?.summary as Record<string, { baseP50: number; addedP50: number; relative: number }>
  )?.stdio;
  lines.push(
    row(
      stdio ? stdio.relative < 0.15 : undefined,
      'stdio: added median latency < 15 % of the uninstrumented round trip',
      stdio
        ? `${stdio.addedP50.toFixed(1)} µs on ${stdio.baseP50.toFixed(1)} µs = ${(stdio.relative * 100).toFixed(1)} %`
        : '—',
    ),
  );
  const startup = sections.startup?.summary as { addedMs: number; addedCpuMs: number } | undefined;
  lines.push(
    row(
      startup ? startup.addedMs < 100 : undefined,
      'start-up with `--import mcp-audit/register`: < +100 ms',
      startup
        ? `${startup.addedMs.toFixed(0)} ms to the first response (${startup.addedCpuMs.toFixed(0)} ms of CPU)`
        : '—',
    ),
  );
  const sizes = sections.sizes?.summary as Record<string, number> | undefined;
  lines.push(
    row(
      sizes?.['1 MB'] !== undefined && sizes['4 KB'] !== undefined
        ? sizes['1 MB'] <= 2 * sizes['4 KB']
        : undefined,
      'a 1 MB argument/result costs ≤ 2× a 4 KB one (added CPU)',
      sizes?.['1 MB'] !== undefined && sizes['4 KB'] !== undefined
        ? `${sizes['1 MB'].toFixed(0)} µs vs ${sizes['4 KB'].toFixed(0)} µs`
        : '—',
    ),
  );
  const collector = sections.collector?.summary as { sustained?: number; lossless?: boolean } | undefined;
  lines.push(
    row(
      collector?.sustained !== undefined ? collector.sustained >= 20_000 : undefined,
      'collector: ≥ 20,000 spans/s, full pipeline, 2 cores, zero loss',
      collector?.sustained !== undefined
        ? `${collector.sustained.toFixed(0)} spans/s sustained with zero loss`
        : '—',
    ),
  );
  return lines.join('\n');
}
