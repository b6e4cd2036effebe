import { NUMBER_PATTERN, outputLines, parseNumber, toNanoseconds } from '../units';
import type { AdapterInput, AdapterOptions, BenchmarkResults } from '../types';
import { ResultsBuilder, resolveAverage, sourcesOf } from './support';

const ADAPTER = 'js_time';

// Node's console.timeEnd: `label: 1.234ms`, `label: 1.234s`, `label: 1:02.345 (m:ss.mmm)`,
// `label: 1:02:03.456 (h:mm:ss.mmm)`; Deno appends ` - timer ended` to the millisecond form.
const TIMER_LINE = new RegExp(
  `^(.+?): (?:(${NUMBER_PATTERN})(ms|s)|(\\d+):(\\d{2})\\.(\\d{3}) \\(m:ss\\.mmm\\)|(\\d+):(\\d{2}):(\\d{2})\\.(\\d{3}) \\(h:mm:ss\\.mmm\\))(?: - timer ended)?\\s*$`,
);

function nanoseconds(match: RegExpExecArray): number {
  const [, , value, unit, minutes, seconds, millis, hours, hMinutes, hSeconds, hMillis] = match;
  if (value !== undefined) return toNanoseconds(parseNumber(value), unit);
  const clock =
    hours !== undefined
      ? Number(hours) * 3600 + Number(hMinutes) * 60 + Number(hSeconds) + Number(hMillis) / 1000
      : Number(minutes) * 60 + Number(seconds) + Number(millis) / 1000;
  return toNanoseconds(clock, 's');
}

/** `console.time` / `console.timeEnd` output: one timing per label. */
export function jsTimeAdapter(input: AdapterInput, options?: AdapterOptions): BenchmarkResults {
  resolveAverage(ADAPTER, options, []);
  const builder = new ResultsBuilder(ADAPTER);
  for (const source of sourcesOf(input)) {
    for (const line of outputLines(source.text)) {
      const timer = TIMER_LINE.exec(line);
      if (timer) builder.add(timer[1], 'latency', { value: nanoseconds(timer) });
    }
  }
  return builder.finish('console.timeEnd `label: N ms` lines');
}
