import { normalQuantile } from '../stats/distributions';
import { CDF_BOUNDARY, mirroredQuantileLimits } from './boundaries';
import { momentTest } from './moments';

/** `z_score`: the normal quantile of the boundary around the mean, e.g. 0.977, μ 100, σ 10 → 80.05 / 119.95. */
export const zScoreTest = momentTest({
  boundary: CDF_BOUNDARY,
  min_samples: 2,
  fromMoments({ mean: centre, sd: sigma }, lower, upper) {
    // Bencher declines zero spread: every differing value would be infinitely many σ away.
    if (!(sigma > 0)) return { skipped: 'the history has no variance' };
    return mirroredQuantileLimits(centre, (p) => centre + sigma * normalQuantile(p), lower, upper);
  },
});
