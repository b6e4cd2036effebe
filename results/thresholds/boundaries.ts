import type { TestDefinition } from './types';

/** Boundary domains from Bencher's threshold docs (bencher_valid's `is_valid_*_boundary`). */
export const ANY_BOUNDARY: TestDefinition['boundary'] = { check: Number.isFinite, describe: 'any finite number' };
export const NON_NEGATIVE_BOUNDARY: TestDefinition['boundary'] = { check: (b) => Number.isFinite(b) && b >= 0, describe: 'a number ≥ 0' };
/** A cumulative probability: 0.5 is the centre itself, 1.0 would be an infinite limit. */
export const CDF_BOUNDARY: TestDefinition['boundary'] = { check: (b) => b >= 0.5 && b < 1, describe: 'a probability in [0.5, 1)' };

/**
 * Limits from a distribution's upper quantile. The lower limit mirrors the upper one about the
 * centre rather than using the lower quantile: that is how Bencher computes it for every
 * quantile-based Test, and what its documented examples (e.g. log-normal 71.20 / 134.18) show.
 */
export function mirroredQuantileLimits(
  centre: number,
  upperQuantile: (p: number) => number,
  lower: number | undefined,
  upper: number | undefined,
): { baseline: number; lower_limit?: number; upper_limit?: number } {
  return {
    baseline: centre,
    ...(lower !== undefined && { lower_limit: 2 * centre - upperQuantile(lower) }),
    ...(upper !== undefined && { upper_limit: upperQuantile(upper) }),
  };
}
