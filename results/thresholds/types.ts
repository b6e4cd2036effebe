/** Bencher's threshold Tests (`--threshold-test`). */
export type ThresholdTest = 'static' | 'percentage' | 'z_score' | 't_test' | 'log_normal' | 'iqr' | 'delta_iqr';
export const THRESHOLD_TESTS = ['static', 'percentage', 'z_score', 't_test', 'log_normal', 'iqr', 'delta_iqr'] as const satisfies readonly ThresholdTest[];

/** A Test with its parameters. At least one boundary; what a boundary means depends on the Test. */
export interface ThresholdModel {
  test: ThresholdTest;
  lower_boundary?: number | null;
  upper_boundary?: number | null;
  /** Below this many historical metrics the Test is skipped (not applied to `static`). */
  min_sample_size?: number | null;
  /** Only the newest this many historical metrics are used (not applied to `static`). */
  max_sample_size?: number | null;
}

export interface ThresholdResult {
  /** The centre the limits are measured from (mean, median, log-normal centre); absent for `static`. */
  baseline?: number;
  lower_limit?: number;
  upper_limit?: number;
  /** Which limit the new value fell outside of, if any. */
  alert: 'lower' | 'upper' | undefined;
  /** Why no limits could be computed; no alert is raised then. */
  skipped?: string;
}

/** Limits one Test computes from the history, or the reason it cannot. */
export type LimitsOrSkip = { baseline?: number; lower_limit?: number; upper_limit?: number } | { skipped: string };

/**
 * All a moment-based Test reads of its history: what running sums give for a window of any length
 * without reading it (db/series-sums.ts).
 */
export interface Moments {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); NaN below two values. */
  sd: number;
  /** Mean and population standard deviation of ln x; undefined when a value is ≤ 0. */
  log: { mean: number; sd: number } | undefined;
}

/** How a Test turns history and boundaries into limits. */
export interface TestDefinition {
  /** Range a boundary must lie in, for validation and its error message. */
  boundary: { check: (b: number) => boolean; describe: string };
  /** Smallest history the Test can use, which is also its default minimum sample size. */
  min_samples: number;
  limits(history: readonly number[], lower: number | undefined, upper: number | undefined): LimitsOrSkip;
  /** The same limits from the history's moments alone, for the Tests that need no more. */
  fromMoments?(moments: Moments, lower: number | undefined, upper: number | undefined): LimitsOrSkip;
}

export class ThresholdModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ThresholdModelError';
  }
}
