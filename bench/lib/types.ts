export interface BenchOptions {
  /** Fewer rounds and calls, for iterating on the bench or the code; figures are noisier. */
  quick: boolean;
  progress(line: string): void;
}

export interface Section {
  title: string;
  markdown: string;
  /** Headline figures the summary and the target checks read. */
  summary: Record<string, unknown>;
}
