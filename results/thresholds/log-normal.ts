import { normalQuantile } from '../stats/distributions';
import { CDF_BOUNDARY, mirroredQuantileLimits } from './boundaries';
import { momentTest } from './moments';

/**
 * `log_normal`: a log-normal fitted by maximum likelihood (mean and population standard deviation
 * of ln x), centred on its median e^μ. The population estimate is the one that reproduces Bencher's
 * documented example (25 metrics around 100 and one at 200, 0.977 → 71.20 / 134.18).
 */
export const logNormalTest = momentTest({
  boundary: CDF_BOUNDARY,
  min_samples: 2,
  fromMoments({ log }, lower, upper) {
    if (!log) return { skipped: 'log_normal needs a history of positive values' };
    const { mean: location, sd: scale } = log;
    if (!(scale > 0)) return { skipped: 'the history has no variance' };
    return mirroredQuantileLimits(Math.exp(location), (p) => Math.exp(location + scale * normalQuantile(p)), lower, upper);
  },
});
