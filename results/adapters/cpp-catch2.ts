import { NUMBER_PATTERN, TIME_UNIT_PATTERN, outputLines, parseNumber, toNanoseconds } from '../units';
import type { AdapterInput, AdapterOptions, BenchmarkResults } from '../types';
import { ResultsBuilder, resolveAverage, sourcesOf, withBounds } from './support';

const ADAPTER = 'cpp_catch2';

/** The console reporter's rule above and below a test case name: 79 dashes at the default width. */
const RULE = /^-{20,}$/;
const MAX_NAME_LINES = 4;
// `name   samples  iterations  estimated` (`est run time` in v3); a long name wraps onto the next lines.
const PRELUDE = new RegExp(`^(.*?)\\s+(\\d+)\\s+(\\d+)\\s+(?:${NUMBER_PATTERN})\\s+${TIME_UNIT_PATTERN}\\s*$`);
const TIME = `(${NUMBER_PATTERN})\\s+(${TIME_UNIT_PATTERN})`;
// `[name continued]  mean  low-mean  high-mean`, then the same layout for the standard deviation.
const TRIPLE = new RegExp(`^(.*?)\\s*${TIME}\\s+${TIME}\\s+${TIME}\\s*$`);

/** The test case (and section) name between two rules, if `lines[i]` opens one. */
function testCaseAt(lines: readonly string[], i: number): { name: string; end: number } | undefined {
  if (!RULE.test(lines[i])) return undefined;
  for (let j = i + 1; j <= i + MAX_NAME_LINES + 1 && j < lines.length; j++) {
    if (RULE.test(lines[j])) return j > i + 1 ? { name: lines.slice(i + 1, j).map((l) => l.trim()).join(' '), end: j } : undefined;
    if (lines[j].trim() === '') return undefined;
  }
  return undefined;
}

/**
 * Catch2 v2/v3 console reporter benchmark tables. The value is the mean, bounded by Catch2's
 * bootstrapped low/high mean. A benchmark that threw prints `Benchmark failed (…)` and is skipped.
 */
export function cppCatch2Adapter(input: AdapterInput, options?: AdapterOptions): BenchmarkResults {
  resolveAverage(ADAPTER, options, ['mean']);
  const builder = new ResultsBuilder(ADAPTER);
  for (const source of sourcesOf(input)) {
    const lines = outputLines(source.text).map((l) => l.trimEnd());
    let testCase = '';
    for (let i = 0; i < lines.length; i++) {
      const header = testCaseAt(lines, i);
      if (header) {
        testCase = header.name;
        i = header.end;
        continue;
      }
      const prelude = PRELUDE.exec(lines[i]);
      const mean = prelude && i + 2 < lines.length ? TRIPLE.exec(lines[i + 1]) : null;
      const stdDev = mean ? TRIPLE.exec(lines[i + 2]) : null;
      if (!prelude || !mean || !stdDev) continue;
      const benchmark = [prelude[1], mean[1], stdDev[1]].map((part) => part.trim()).filter(Boolean).join(' ');
      const ns = (value: string, unit: string) => toNanoseconds(parseNumber(value), unit);
      const measurement = withBounds(ns(mean[2], mean[3]), ns(mean[4], mean[5]), ns(mean[6], mean[7]));
      builder.add(testCase ? `${testCase}: ${benchmark}` : benchmark, 'latency', measurement);
      i += 2;
    }
  }
  return builder.finish('Catch2 benchmark tables');
}
