import type { BenchOptions, Section } from './lib/types.js';

export async function runCollector(_opts: BenchOptions): Promise<Section> {
  return { title: 'Collector throughput', markdown: '_not yet measured_', summary: {} };
}
