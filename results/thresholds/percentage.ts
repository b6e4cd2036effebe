import { NON_NEGATIVE_BOUNDARY } from './boundaries';
import { momentTest } from './moments';

/** `percentage`: mean × (1 ∓ boundary), e.g. 0.10 around a mean of 100 → 90 / 110. */
export const percentageTest = momentTest({
  boundary: NON_NEGATIVE_BOUNDARY,
  min_samples: 1,
  fromMoments({ mean: centre }, lower, upper) {
    return {
      baseline: centre,
      ...(lower !== undefined && { lower_limit: centre - centre * lower }),
      ...(upper !== undefined && { upper_limit: centre + centre * upper }),
    };
  },
});
