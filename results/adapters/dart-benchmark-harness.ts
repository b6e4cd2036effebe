import { NUMBER_PATTERN, outputLines, parseNumber, toNanoseconds } from '../units';
import type { AdapterInput, AdapterOptions, BenchmarkResults } from '../types';
import { ResultsBuilder, resolveAverage, sourcesOf } from './support';

const ADAPTER = 'dart_benchmark_harness';

// BenchmarkBase.report(): `Name(RunTime): 123.45 us.` — the mean time of one run of `exercise()`.
const REPORT_LINE = new RegExp(`^(.+?)\\(RunTime\\):\\s*(${NUMBER_PATTERN})\\s+us\\.\\s*$`);

/** Dart's benchmark_harness (`BenchmarkBase` / `AsyncBenchmarkBase`). */
export function dartBenchmarkHarnessAdapter(input: AdapterInput, options?: AdapterOptions): BenchmarkResults {
  resolveAverage(ADAPTER, options, ['mean']);
  const builder = new ResultsBuilder(ADAPTER);
  for (const source of sourcesOf(input)) {
    for (const line of outputLines(source.text)) {
      const report = REPORT_LINE.exec(line);
      if (report) builder.add(report[1], 'latency', { value: toNanoseconds(parseNumber(report[2]), 'us') });
    }
  }
  return builder.finish('benchmark_harness `Name(RunTime): N us.` lines');
}
