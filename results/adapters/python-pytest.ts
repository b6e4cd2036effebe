import { z } from 'zod';
import { toNanoseconds } from '../units';
import type { AdapterInput, AdapterOptions, BenchmarkResults } from '../types';
import { ResultsBuilder, parseJsonAs, resolveAverage, sourcesOf, withBounds, withSpread } from './support';

const ADAPTER = 'python_pytest';

const stats = z.object({
  mean: z.number(),
  median: z.number(),
  stddev: z.number().optional(),
  q1: z.number().optional(),
  q3: z.number().optional(),
  ops: z.number().optional(),
});
const report = z.object({
  machine_info: z.looseObject({}),
  benchmarks: z.array(z.object({ fullname: z.string(), stats: stats.nullish() })),
});

/**
 * pytest-benchmark `--benchmark-json FILE`. Stats are in seconds: mean ± standard deviation, or
 * median within Q1–Q3. `ops` (1 / mean) is throughput, so it is reported with the mean only. A
 * test that raised is not written to the file at all.
 */
export function pythonPytestAdapter(input: AdapterInput, options?: AdapterOptions): BenchmarkResults {
  const average = resolveAverage(ADAPTER, options, ['mean', 'median']) ?? 'mean';
  const builder = new ResultsBuilder(ADAPTER);
  for (const source of sourcesOf(input)) {
    for (const bench of parseJsonAs(report, source, ADAPTER, 'pytest-benchmark JSON').benchmarks) {
      const s = bench.stats;
      if (!s) continue;
      const ns = (seconds: number | undefined) => (seconds === undefined ? undefined : toNanoseconds(seconds, 's'));
      if (average === 'mean') {
        builder.add(bench.fullname, 'latency', withSpread(toNanoseconds(s.mean, 's'), ns(s.stddev)));
        if (s.ops !== undefined) builder.add(bench.fullname, 'throughput', { value: s.ops });
      } else {
        builder.add(bench.fullname, 'latency', withBounds(toNanoseconds(s.median, 's'), ns(s.q1), ns(s.q3)));
      }
    }
  }
  return builder.finish('pytest-benchmark results', average);
}
