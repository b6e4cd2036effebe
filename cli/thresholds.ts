import { THRESHOLD_TESTS, type ThresholdTest } from '../results/thresholds';
import type { RunThreshold } from '../common/schemas/results';

/**
 * `--threshold-*` flags as Bencher takes them: each repeatable, the n-th of each flag describing the
 * n-th threshold, `_` standing for "not set". A flag given once applies to every measure.
 */
export interface ThresholdFlags {
  thresholdMeasure?: string[];
  thresholdTest?: string[];
  thresholdLowerBoundary?: string[];
  thresholdUpperBoundary?: string[];
  thresholdMinSampleSize?: string[];
  thresholdMaxSampleSize?: string[];
  thresholdWindow?: string[];
}

const THRESHOLD_FLAG_KEYS = [
  'thresholdMeasure', 'thresholdTest', 'thresholdLowerBoundary', 'thresholdUpperBoundary',
  'thresholdMinSampleSize', 'thresholdMaxSampleSize', 'thresholdWindow',
] as const satisfies readonly (keyof ThresholdFlags)[];

export class UsageError extends Error {}

const SKIP = '_';

function nth(flag: string, values: string[] | undefined, count: number, i: number): string | undefined {
  if (!values || values.length === 0) return undefined;
  if (values.length !== 1 && values.length !== count) {
    throw new UsageError(`${flag} is given ${values.length} times for ${count} --threshold-measure; give it once, or once per measure (_ for none)`);
  }
  const value = values.length === 1 ? values[0] : values[i];
  return value === SKIP ? undefined : value;
}

function number(flag: string, text: string | undefined, integer: boolean): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new UsageError(`${flag} expects ${integer ? 'an integer' : 'a number'} (or _), got "${text}"`);
  }
  return value;
}

/** The thresholds the flags describe, in the shape POST /v0/run takes; undefined when none are given. */
export function thresholdsFromFlags(flags: ThresholdFlags): RunThreshold[] | undefined {
  const measures = flags.thresholdMeasure ?? [];
  const others = THRESHOLD_FLAG_KEYS.filter((k) => k !== 'thresholdMeasure' && flags[k]?.length);
  if (measures.length === 0) {
    if (others.length) throw new UsageError('--threshold-* flags need --threshold-measure');
    return undefined;
  }
  return measures.map((measure, i) => {
    const test = nth('--threshold-test', flags.thresholdTest, measures.length, i);
    if (!test) throw new UsageError(`--threshold-test is required for --threshold-measure ${measure}`);
    if (!(THRESHOLD_TESTS as readonly string[]).includes(test)) throw new UsageError(`--threshold-test must be one of ${THRESHOLD_TESTS.join(', ')}, got "${test}"`);
    const threshold: RunThreshold = { measure, test: test as ThresholdTest };
    const set = <K extends keyof RunThreshold>(key: K, value: RunThreshold[K] | undefined) => {
      if (value !== undefined) threshold[key] = value;
    };
    set('lower_boundary', number('--threshold-lower-boundary', nth('--threshold-lower-boundary', flags.thresholdLowerBoundary, measures.length, i), false));
    set('upper_boundary', number('--threshold-upper-boundary', nth('--threshold-upper-boundary', flags.thresholdUpperBoundary, measures.length, i), false));
    set('min_sample_size', number('--threshold-min-sample-size', nth('--threshold-min-sample-size', flags.thresholdMinSampleSize, measures.length, i), true));
    set('max_sample_size', number('--threshold-max-sample-size', nth('--threshold-max-sample-size', flags.thresholdMaxSampleSize, measures.length, i), true));
    set('window', number('--threshold-window', nth('--threshold-window', flags.thresholdWindow, measures.length, i), true));
    return threshold;
  });
}
