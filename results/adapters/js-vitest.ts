import { z } from 'zod';
import { toNanoseconds } from '../units';
import type { AdapterInput, AdapterOptions, BenchmarkResults } from '../types';
import { ResultsBuilder, parseJsonAs, resolveAverage, sourcesOf, withSpread } from './support';

const ADAPTER = 'js_vitest';

// A benchmark that threw is written with its name and rank but no statistics.
const benchmark = z.object({
  name: z.string(),
  hz: z.number().optional(),
  mean: z.number().optional(),
  median: z.number().optional(),
  moe: z.number().optional(),
  rme: z.number().optional(),
});
const report = z.object({
  files: z.array(z.object({ groups: z.array(z.object({ fullName: z.string(), benchmarks: z.array(benchmark) })) })),
});

/**
 * `vitest bench --outputJson FILE`. Times are in milliseconds: the mean ± its margin of error, or
 * the median. `hz` becomes throughput ± the same relative margin (`rme`). The margin rather than the
 * standard deviation: per-sample deviation of sub-microsecond benches exceeds the mean (timer
 * resolution, GC pauses) and would give negative lower bounds.
 */
export function jsVitestAdapter(input: AdapterInput, options?: AdapterOptions): BenchmarkResults {
  const average = resolveAverage(ADAPTER, options, ['mean', 'median']) ?? 'mean';
  const builder = new ResultsBuilder(ADAPTER);
  for (const source of sourcesOf(input)) {
    for (const file of parseJsonAs(report, source, ADAPTER, 'vitest bench JSON').files) {
      for (const group of file.groups) {
        for (const bench of group.benchmarks) {
          const name = group.fullName ? `${group.fullName} > ${bench.name}` : bench.name;
          const ms = average === 'mean' ? bench.mean : bench.median;
          if (ms === undefined) continue;
          const spread = average === 'mean' && bench.moe !== undefined ? toNanoseconds(bench.moe, 'ms') : undefined;
          builder.add(name, 'latency', withSpread(toNanoseconds(ms, 'ms'), spread));
          if (bench.hz !== undefined) builder.add(name, 'throughput', withSpread(bench.hz, bench.rme === undefined ? undefined : (bench.hz * bench.rme) / 100));
        }
      }
    }
  }
  return builder.finish('vitest benchmarks with statistics', average);
}
