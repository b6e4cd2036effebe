import { z } from 'zod';
import { toNanoseconds } from '../units';
import type { AdapterInput, AdapterOptions, BenchmarkResults } from '../types';
import { ResultsBuilder, parseJsonAs, resolveAverage, sourcesOf, withBounds, withSpread } from './support';

const ADAPTER = 'shell_hyperfine';

const result = z.object({
  command: z.string(),
  mean: z.number(),
  stddev: z.number().nullish(),
  median: z.number(),
  min: z.number(),
  max: z.number(),
  exit_codes: z.array(z.number().nullable()).optional(),
});
const report = z.object({ results: z.array(result) });

/** Every run exited non-zero (kept only under `--ignore-failure`): what was timed is the failure. */
function failed(entry: z.infer<typeof result>): boolean {
  const codes = entry.exit_codes ?? [];
  return codes.length > 0 && codes.every((code) => code !== 0);
}

/** hyperfine `--export-json FILE`, in seconds: mean ± standard deviation, or median within min–max. */
export function shellHyperfineAdapter(input: AdapterInput, options?: AdapterOptions): BenchmarkResults {
  const average = resolveAverage(ADAPTER, options, ['mean', 'median']) ?? 'mean';
  const builder = new ResultsBuilder(ADAPTER);
  const ns = (seconds: number) => toNanoseconds(seconds, 's');
  for (const source of sourcesOf(input)) {
    for (const entry of parseJsonAs(report, source, ADAPTER, 'hyperfine JSON').results) {
      if (failed(entry)) continue;
      const measurement =
        average === 'mean'
          ? withSpread(ns(entry.mean), entry.stddev == null ? undefined : ns(entry.stddev))
          : withBounds(ns(entry.median), ns(entry.min), ns(entry.max));
      builder.add(entry.command, 'latency', measurement);
    }
  }
  return builder.finish('hyperfine commands that succeeded', average);
}
