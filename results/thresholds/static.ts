import { ANY_BOUNDARY } from './boundaries';
import type { TestDefinition } from './types';

/** `static`: the boundaries are the limits; history is not consulted. */
export const staticTest: TestDefinition = {
  boundary: ANY_BOUNDARY,
  min_samples: 0,
  limits: (_history, lower, upper) => ({
    ...(lower !== undefined && { lower_limit: lower }),
    ...(upper !== undefined && { upper_limit: upper }),
  }),
};
