import { quartiles } from '../stats/descriptive';
import { NON_NEGATIVE_BOUNDARY } from './boundaries';
import type { TestDefinition } from './types';

/** |x[i+1] − x[i]| / x[i]: each metric's relative change from the one before it. */
function relativeChanges(history: readonly number[]): number[] {
  const changes: number[] = [];
  for (let i = 1; i < history.length; i++) changes.push(Math.abs((history[i] - history[i - 1]) / history[i - 1]));
  return changes;
}

/**
 * `delta_iqr`: median ∓ median × boundary × IQR of the relative changes between consecutive
 * metrics, e.g. median 100, Δ-IQR 0.2, 2.0 → 60 / 140. Scaling by the median makes the spread
 * follow the level of the metric rather than its absolute noise.
 */
export const deltaIqrTest: TestDefinition = {
  boundary: NON_NEGATIVE_BOUNDARY,
  min_samples: 2,
  limits(history, lower, upper) {
    const changes = relativeChanges(history);
    if (changes.some((c) => !Number.isFinite(c))) return { skipped: 'delta_iqr needs a history without zeros' };
    const { q2: centre } = quartiles(history);
    const delta = quartiles(changes);
    const spread = centre * (delta.q3 - delta.q1);
    return {
      baseline: centre,
      ...(lower !== undefined && { lower_limit: centre - spread * lower }),
      ...(upper !== undefined && { upper_limit: centre + spread * upper }),
    };
  },
};
