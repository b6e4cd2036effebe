import { mean, stdDev } from '../stats/descriptive';
import { normalQuantile } from '../stats/distributions';
import { CDF_BOUNDARY, mirroredQuantileLimits } from './boundaries';
import type { TestDefinition } from './types';

/** `z_score`: the normal quantile of the boundary around the mean, e.g. 0.977, μ 100, σ 10 → 80.05 / 119.95. */
export const zScoreTest: TestDefinition = {
  boundary: CDF_BOUNDARY,
  min_samples: 2,
  limits(history, lower, upper) {
    const centre = mean(history);
    const sigma = stdDev(history, 1, centre);
    // Bencher declines zero spread: every differing value would be infinitely many σ away.
    if (!(sigma > 0)) return { skipped: 'the history has no variance' };
    return mirroredQuantileLimits(centre, (p) => centre + sigma * normalQuantile(p), lower, upper);
  },
};
