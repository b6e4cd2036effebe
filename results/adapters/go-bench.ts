import { NUMBER_PATTERN, isTimeUnit, outputLines, parseNumber, toNanoseconds } from '../units';
import type { AdapterInput, AdapterOptions, BenchmarkResults } from '../types';
import { ResultsBuilder, measureSlug, resolveAverage, sourcesOf } from './support';

const ADAPTER = 'go_bench';

// `BenchmarkName-8   1000   1234 ns/op   56.7 MB/s   64 B/op   2 allocs/op   3.0 custom/op`
const RESULT_LINE = /^(Benchmark\S*)\s+(\d+)\s+(.+)$/;
const METRIC = new RegExp(`(${NUMBER_PATTERN})\\s+(\\S+)`, 'g');

/** Measure for each of `testing.B`'s built-in units; `b.ReportMetric` units become their own measure. */
const BUILT_IN: Record<string, string> = { 'MB/s': 'data-throughput', 'B/op': 'allocated', 'allocs/op': 'allocations' };

/**
 * `go test -bench`. The name is kept as printed, GOMAXPROCS suffix included, as Bencher does. A
 * benchmark that fails prints `--- FAIL:` and no result line, so it is skipped. Repeated lines
 * (`-count N`) are averaged.
 */
export function goBenchAdapter(input: AdapterInput, options?: AdapterOptions): BenchmarkResults {
  resolveAverage(ADAPTER, options, ['mean']);
  const builder = new ResultsBuilder(ADAPTER);
  for (const source of sourcesOf(input)) {
    for (const line of outputLines(source.text)) {
      const result = RESULT_LINE.exec(line.trim());
      if (!result) continue;
      const metrics = [...result[3].matchAll(METRIC)];
      const [first] = metrics;
      // The time per op always comes first; its absence means this is not a result line.
      if (!first || !first[2].endsWith('/op') || !isTimeUnit(first[2].slice(0, -3))) continue;
      for (const [, value, unit] of metrics) {
        const time = unit.endsWith('/op') && isTimeUnit(unit.slice(0, -3));
        const measure = time ? 'latency' : (BUILT_IN[unit] ?? measureSlug(unit));
        builder.add(result[1], measure, { value: time ? toNanoseconds(parseNumber(value), unit.slice(0, -3)) : parseNumber(value) });
      }
    }
  }
  return builder.finish('`go test -bench` result lines');
}
