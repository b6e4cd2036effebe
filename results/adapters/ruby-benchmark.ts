import { NUMBER_PATTERN, outputLines, parseNumber, toNanoseconds } from '../units';
import type { AdapterInput, AdapterOptions, BenchmarkResults } from '../types';
import { ResultsBuilder, resolveAverage, sourcesOf } from './support';

const ADAPTER = 'ruby_benchmark';

const HEADER = /^\s*user\s+system\s+total\s+real\s*$/;
// `label   0.014662   0.000000   0.014662 (  0.014747)`: user, system, total, (real) seconds.
const ROW = new RegExp(`^(.*?)\\s+(?:${NUMBER_PATTERN})\\s+(?:${NUMBER_PATTERN})\\s+(?:${NUMBER_PATTERN})\\s+\\(\\s*(${NUMBER_PATTERN})\\)\\s*$`);

/**
 * Ruby's Benchmark module (`Benchmark.bm`, `Benchmark.bmbm`): the wall-clock `real` column. Only
 * rows under a `user system total real` header count, which leaves out `bmbm`'s rehearsal.
 */
export function rubyBenchmarkAdapter(input: AdapterInput, options?: AdapterOptions): BenchmarkResults {
  resolveAverage(ADAPTER, options, []);
  const builder = new ResultsBuilder(ADAPTER);
  for (const source of sourcesOf(input)) {
    let inReport = false;
    for (const line of outputLines(source.text)) {
      if (HEADER.test(line)) {
        inReport = true;
        continue;
      }
      const row = inReport ? ROW.exec(line) : null;
      if (row) builder.add(row[1], 'latency', { value: toNanoseconds(parseNumber(row[2]), 's') });
      else inReport = false;
    }
  }
  return builder.finish('Ruby Benchmark reports (`user system total real`)');
}
