import { quartiles } from '../stats/descriptive';
import { NON_NEGATIVE_BOUNDARY } from './boundaries';
import type { TestDefinition } from './types';

/** `iqr`: median ∓ boundary × (Q3 − Q1), e.g. median 100, IQR 10, 2.0 → 80 / 120. */
export const iqrTest: TestDefinition = {
  boundary: NON_NEGATIVE_BOUNDARY,
  min_samples: 2,
  limits(history, lower, upper) {
    const { q1, q2, q3 } = quartiles(history);
    return {
      baseline: q2,
      ...(lower !== undefined && { lower_limit: q2 - (q3 - q1) * lower }),
      ...(upper !== undefined && { upper_limit: q2 + (q3 - q1) * upper }),
    };
  },
};
