import { NUMBER_PATTERN, outputLines, parseNumber } from '../units';
import type { AdapterInput, AdapterOptions, BenchmarkResults } from '../types';
import { ResultsBuilder, resolveAverage, sourcesOf, withSpread } from './support';

const ADAPTER = 'js_benchmark';

// `String(benchmark)`: `name x 1,234,567 ops/sec ±1.23% (90 runs sampled)`. An errored benchmark
// prints `name: ` with its error instead, so it does not match.
const CYCLE_LINE = new RegExp(`^(.+?)\\s+x\\s+(${NUMBER_PATTERN})\\s+ops/sec\\s+±\\s*(${NUMBER_PATTERN})%\\s+\\(\\d+\\s+runs?\\s+sampled\\)\\s*$`);

/** benchmark.js cycle lines. Its rate is 1 / mean period, bounded by the relative margin of error. */
export function jsBenchmarkAdapter(input: AdapterInput, options?: AdapterOptions): BenchmarkResults {
  resolveAverage(ADAPTER, options, ['mean']);
  const builder = new ResultsBuilder(ADAPTER);
  for (const source of sourcesOf(input)) {
    for (const line of outputLines(source.text)) {
      const cycle = CYCLE_LINE.exec(line);
      if (!cycle) continue;
      const hz = parseNumber(cycle[2]);
      builder.add(cycle[1], 'throughput', withSpread(hz, (hz * parseNumber(cycle[3])) / 100));
    }
  }
  return builder.finish('benchmark.js `name x N ops/sec ±E% (R runs sampled)` lines');
}
