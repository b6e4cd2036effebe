import { NUMBER_PATTERN, TIME_UNIT_PATTERN, outputLines, parseNumber, siPrefixFactor, toNanoseconds } from '../units';
import type { AdapterInput, AdapterOptions, BenchmarkResults } from '../types';
import { ResultsBuilder, resolveAverage, sourcesOf, withBounds } from './support';

const ADAPTER = 'rust_criterion';

const TIME = `(${NUMBER_PATTERN})\\s+(${TIME_UNIT_PATTERN})`;
// `name   time:   [low est high]`; a name too long for its column is printed alone on the line before.
const TIME_LINE = new RegExp(`^(.*?)\\s*time:\\s+\\[${TIME}\\s+${TIME}\\s+${TIME}\\]\\s*$`);
const RATE = `(${NUMBER_PATTERN})\\s+([KMGT]?)(elem|B|KiB|MiB|GiB|TiB)/s`;
const THROUGHPUT_LINE = new RegExp(`^\\s*thrpt:\\s+\\[${RATE}\\s+${RATE}\\s+${RATE}\\]\\s*$`);

// Bytes per unit for criterion's byte throughput: binary with `Throughput::Bytes`, decimal with `BytesDecimal`.
const BINARY_BYTES: Record<string, number> = { KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 };

/** Converts one criterion rate to [measure, value]: elements → ops/s, bytes → MB/s. */
function rate(value: string, prefix: string, unit: string): [string, number] {
  const number = parseNumber(value);
  if (unit === 'elem') return ['throughput', number * (siPrefixFactor(prefix) ?? Number.NaN)];
  const bytes = unit === 'B' ? (siPrefixFactor(prefix) ?? Number.NaN) : BINARY_BYTES[unit];
  return ['data-throughput', (number * bytes) / 1e6];
}

/** criterion.rs stdout: the point estimate of the mean time with its confidence interval. */
export function rustCriterionAdapter(input: AdapterInput, options?: AdapterOptions): BenchmarkResults {
  resolveAverage(ADAPTER, options, ['mean']);
  const builder = new ResultsBuilder(ADAPTER);
  for (const source of sourcesOf(input)) {
    let previous = '';
    let current: string | undefined;
    for (const line of outputLines(source.text)) {
      const time = TIME_LINE.exec(line);
      if (time) {
        const [, inline, low, lowUnit, estimate, estimateUnit, high, highUnit] = time;
        current = inline.trim() || previous.trim();
        const ns = (value: string, unit: string) => toNanoseconds(parseNumber(value), unit);
        builder.add(current, 'latency', withBounds(ns(estimate, estimateUnit), ns(low, lowUnit), ns(high, highUnit)));
      } else {
        const throughput = THROUGHPUT_LINE.exec(line);
        if (throughput && current !== undefined) {
          const [, lo, loPrefix, loUnit, est, estPrefix, estUnit, hi, hiPrefix, hiUnit] = throughput;
          const [measure, value] = rate(est, estPrefix, estUnit);
          // criterion prints the rate interval low → high, like the time interval.
          builder.add(current, measure, withBounds(value, rate(lo, loPrefix, loUnit)[1], rate(hi, hiPrefix, hiUnit)[1]));
        } else if (line.trim() !== '') {
          current = undefined;
        }
      }
      if (line.trim() !== '') previous = line;
    }
  }
  return builder.finish('criterion `time: [low estimate high]` lines');
}
