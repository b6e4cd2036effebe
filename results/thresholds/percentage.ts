import { mean } from '../stats/descriptive';
import { NON_NEGATIVE_BOUNDARY } from './boundaries';
import type { TestDefinition } from './types';

/** `percentage`: mean × (1 ∓ boundary), e.g. 0.10 around a mean of 100 → 90 / 110. */
export const percentageTest: TestDefinition = {
  boundary: NON_NEGATIVE_BOUNDARY,
  min_samples: 1,
  limits(history, lower, upper) {
    const centre = mean(history);
    return {
      baseline: centre,
      ...(lower !== undefined && { lower_limit: centre - centre * lower }),
      ...(upper !== undefined && { upper_limit: centre + centre * upper }),
    };
  },
};
