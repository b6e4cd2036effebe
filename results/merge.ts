import type { BenchmarkResults } from './types';

/** Combines results of different sources (adapter output, file sizes, build time); later ones win per measure. */
export function mergeResults(...sources: readonly BenchmarkResults[]): BenchmarkResults {
  const merged: BenchmarkResults = {};
  for (const results of sources) {
    for (const [benchmark, measures] of Object.entries(results)) {
      merged[benchmark] = { ...merged[benchmark], ...measures };
    }
  }
  return merged;
}
