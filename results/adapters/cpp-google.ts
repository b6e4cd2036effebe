import { z } from 'zod';
import { toNanoseconds } from '../units';
import { AdapterError, type AdapterInput, type AdapterOptions, type BenchmarkResults } from '../types';
import { ResultsBuilder, parseJsonAs, resolveAverage, sourcesOf, withSpread } from './support';

const ADAPTER = 'cpp_google';

const run = z.object({
  name: z.string(),
  run_name: z.string().optional(),
  run_type: z.string().optional(),
  aggregate_name: z.string().optional(),
  real_time: z.number().optional(),
  time_unit: z.string().optional(),
  items_per_second: z.number().optional(),
  bytes_per_second: z.number().optional(),
  error_occurred: z.boolean().optional(),
  skipped: z.union([z.boolean(), z.number(), z.string()]).optional(),
});
type Run = z.infer<typeof run>;
const report = z.object({ context: z.looseObject({}), benchmarks: z.array(run) });

/** Releases before 1.5 wrote neither `run_type` nor `run_name`, only `name: "BM_x_mean"`. */
function isAggregate(entry: Run): boolean {
  return entry.run_type === 'aggregate' || (entry.run_type === undefined && entry.aggregate_name !== undefined);
}

function runName(entry: Run): string {
  if (entry.run_name !== undefined) return entry.run_name;
  const suffix = entry.aggregate_name === undefined ? '' : `_${entry.aggregate_name}`;
  return suffix && entry.name.endsWith(suffix) ? entry.name.slice(0, -suffix.length) : entry.name;
}

function failed(entry: Run): boolean {
  return entry.error_occurred === true || (entry.skipped !== undefined && entry.skipped !== false && entry.skipped !== 0);
}

/** Adds one run's (or aggregate's) measures, `spread` being the matching stddev aggregate, if any. */
function addRun(builder: ResultsBuilder, name: string, entry: Run, spread?: Run): void {
  if (entry.real_time === undefined) return; // BigO and RMS aggregates carry coefficients, not times.
  const unit = entry.time_unit ?? 'ns'; // Google Benchmark's default unit, omitted by some writers
  const spreadNs = spread?.real_time === undefined ? undefined : toNanoseconds(spread.real_time, spread.time_unit ?? unit);
  builder.add(name, 'latency', withSpread(toNanoseconds(entry.real_time, unit), spreadNs));
  if (entry.items_per_second !== undefined) builder.add(name, 'throughput', withSpread(entry.items_per_second, spread?.items_per_second));
  if (entry.bytes_per_second !== undefined) {
    const bytesSpread = spread?.bytes_per_second === undefined ? undefined : spread.bytes_per_second / 1e6;
    builder.add(name, 'data-throughput', withSpread(entry.bytes_per_second / 1e6, bytesSpread));
  }
}

/**
 * Google Benchmark `--benchmark_format=json` (or `--benchmark_out`). Wall-clock `real_time` is the
 * latency. With `--benchmark_repetitions` the mean/median aggregates are used (± the stddev
 * aggregate for the mean); without them each run's per-iteration mean is.
 */
export function cppGoogleAdapter(input: AdapterInput, options?: AdapterOptions): BenchmarkResults {
  const average = resolveAverage(ADAPTER, options, ['mean', 'median']) ?? 'mean';
  const builder = new ResultsBuilder(ADAPTER);
  for (const source of sourcesOf(input)) {
    const groups = new Map<string, Run[]>();
    for (const entry of parseJsonAs(report, source, ADAPTER, 'Google Benchmark JSON').benchmarks) {
      if (failed(entry)) continue;
      const name = runName(entry);
      groups.set(name, [...(groups.get(name) ?? []), entry]);
    }
    for (const [name, runs] of groups) {
      const aggregates = runs.filter(isAggregate);
      if (aggregates.length === 0) {
        if (average === 'median') {
          throw new AdapterError(`${name} has no median aggregate: run with --benchmark_repetitions=N`, ADAPTER);
        }
        for (const r of runs) addRun(builder, name, r);
        continue;
      }
      const chosen = aggregates.find((r) => r.aggregate_name === average);
      if (!chosen) throw new AdapterError(`${name} has no ${average} aggregate`, ADAPTER);
      const stddev = average === 'mean' ? aggregates.find((r) => r.aggregate_name === 'stddev') : undefined;
      addRun(builder, name, chosen, stddev);
    }
  }
  return builder.finish('successful benchmark runs', average);
}
