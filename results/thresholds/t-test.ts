import { mean, stdDev } from '../stats/descriptive';
import { studentTQuantile } from '../stats/distributions';
import { CDF_BOUNDARY, mirroredQuantileLimits } from './boundaries';
import type { TestDefinition } from './types';

/**
 * `t_test`: a prediction interval for one new value, Student's t with n − 1 degrees of freedom
 * scaled by s·√(1 + 1/n); e.g. 0.977 with n 25, mean 100, s 10 → 78.54 / 121.46.
 */
export const tTest: TestDefinition = {
  boundary: CDF_BOUNDARY,
  min_samples: 2,
  limits(history, lower, upper) {
    const n = history.length;
    const centre = mean(history);
    const s = stdDev(history, 1, centre);
    if (!(s > 0)) return { skipped: 'the history has no variance' };
    const scale = s * Math.sqrt(1 + 1 / n);
    return mirroredQuantileLimits(centre, (p) => centre + scale * studentTQuantile(p, n - 1), lower, upper);
  },
};
