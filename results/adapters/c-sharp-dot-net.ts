import { z } from 'zod';
import type { AdapterInput, AdapterOptions, BenchmarkResults } from '../types';
import { ResultsBuilder, parseJsonAs, resolveAverage, sourcesOf, withBounds, withSpread } from './support';

const ADAPTER = 'c_sharp_dot_net';

const statistics = z.object({
  Mean: z.number(),
  Median: z.number(),
  StandardDeviation: z.number().optional(),
  Q1: z.number().optional(),
  Q3: z.number().optional(),
});
const memory = z.object({
  Gen0Collections: z.number(),
  Gen1Collections: z.number(),
  Gen2Collections: z.number(),
  TotalOperations: z.number(),
  BytesAllocatedPerOperation: z.number(),
});
const benchmark = z.object({
  FullName: z.string().optional(),
  Namespace: z.string().nullish(),
  Type: z.string().optional(),
  Method: z.string(),
  Parameters: z.string().optional(),
  // A benchmark that failed to build or run has no statistics.
  Statistics: statistics.nullish(),
  Memory: memory.nullish(),
});
const report = z.object({ HostEnvironmentInfo: z.looseObject({}), Benchmarks: z.array(benchmark) });

function benchmarkName(entry: z.infer<typeof benchmark>): string {
  if (entry.FullName) return entry.FullName;
  const name = [entry.Namespace, entry.Type, entry.Method].filter(Boolean).join('.');
  return entry.Parameters ? `${name}(${entry.Parameters})` : name;
}

/**
 * BenchmarkDotNet full JSON report (`--exporters json`, `*-report-full.json`). Statistics are in
 * nanoseconds: mean ± standard deviation, or median within Q1–Q3. With `[MemoryDiagnoser]` the
 * allocations per operation and GC collections per 1000 operations (BenchmarkDotNet's own scale).
 */
export function cSharpDotNetAdapter(input: AdapterInput, options?: AdapterOptions): BenchmarkResults {
  const average = resolveAverage(ADAPTER, options, ['mean', 'median']) ?? 'mean';
  const builder = new ResultsBuilder(ADAPTER);
  for (const source of sourcesOf(input)) {
    for (const entry of parseJsonAs(report, source, ADAPTER, 'BenchmarkDotNet JSON').Benchmarks) {
      const stats = entry.Statistics;
      if (!stats) continue;
      const name = benchmarkName(entry);
      builder.add(
        name,
        'latency',
        average === 'mean' ? withSpread(stats.Mean, stats.StandardDeviation) : withBounds(stats.Median, stats.Q1, stats.Q3),
      );
      const mem = entry.Memory;
      if (!mem) continue;
      builder.add(name, 'allocated', { value: mem.BytesAllocatedPerOperation });
      if (mem.TotalOperations > 0) {
        const perThousand = (collections: number) => ({ value: (collections / mem.TotalOperations) * 1000 });
        builder.add(name, 'gen0-collects', perThousand(mem.Gen0Collections));
        builder.add(name, 'gen1-collects', perThousand(mem.Gen1Collections));
        builder.add(name, 'gen2-collects', perThousand(mem.Gen2Collections));
      }
    }
  }
  return builder.finish('BenchmarkDotNet benchmarks with statistics', average);
}
