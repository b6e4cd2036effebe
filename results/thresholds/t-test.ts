import { studentTQuantile } from '../stats/distributions';
import { CDF_BOUNDARY, mirroredQuantileLimits } from './boundaries';
import { momentTest } from './moments';

/**
 * `t_test`: a prediction interval for one new value, Student's t with n − 1 degrees of freedom
 * scaled by s·√(1 + 1/n); e.g. 0.977 with n 25, mean 100, s 10 → 78.54 / 121.46.
 */
export const tTest = momentTest({
  boundary: CDF_BOUNDARY,
  min_samples: 2,
  fromMoments({ n, mean: centre, sd: s }, lower, upper) {
    if (!(s > 0)) return { skipped: 'the history has no variance' };
    const scale = s * Math.sqrt(1 + 1 / n);
    return mirroredQuantileLimits(centre, (p) => centre + scale * studentTQuantile(p, n - 1), lower, upper);
  },
});
