import { NUMBER_PATTERN, TIME_UNIT_PATTERN, outputLines, parseNumber, toNanoseconds } from '../units';
import type { AdapterInput, AdapterOptions, BenchmarkResults } from '../types';
import { ResultsBuilder, resolveAverage, sourcesOf, withSpread } from './support';

const ADAPTER = 'rust_bench';

// libtest: `test name ... bench:   1,234.56 ns/iter (+/- 78.9)`. Ignored and FAILED benches print
// `... ignored` / `... FAILED` instead and so are skipped.
const BENCH_LINE = new RegExp(
  `^test\\s+(\\S+)\\s+\\.\\.\\.\\s+bench:\\s+(${NUMBER_PATTERN})\\s*(${TIME_UNIT_PATTERN})/iter\\s+\\(\\+/-\\s*(${NUMBER_PATTERN})\\)\\s*$`,
);

/** `cargo bench` with libtest's `#[bench]`. Its figure is the median of the samples; `+/-` is their range. */
export function rustBenchAdapter(input: AdapterInput, options?: AdapterOptions): BenchmarkResults {
  resolveAverage(ADAPTER, options, ['median']);
  const builder = new ResultsBuilder(ADAPTER);
  for (const source of sourcesOf(input)) {
    for (const line of outputLines(source.text)) {
      const match = BENCH_LINE.exec(line);
      if (!match) continue;
      const [, name, value, unit, spread] = match;
      builder.add(name, 'latency', withSpread(toNanoseconds(parseNumber(value), unit), toNanoseconds(parseNumber(spread), unit)));
    }
  }
  return builder.finish('libtest `test … bench: N ns/iter (+/- M)` lines', 'median');
}
