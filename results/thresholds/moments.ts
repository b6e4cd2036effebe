import { mean, stdDev } from '../stats/descriptive';
import type { LimitsOrSkip, Moments, TestDefinition } from './types';

/** The moments of a history, computed from its values (two-pass, as the Tests always have). */
export function momentsOf(history: readonly number[]): Moments {
  const centre = mean(history);
  let log: Moments['log'];
  if (history.every((x) => x > 0)) {
    const logs = history.map(Math.log);
    const location = mean(logs);
    log = { mean: location, sd: stdDev(logs, 0, location) };
  }
  return { n: history.length, mean: centre, sd: stdDev(history, 1, centre), log };
}

/** A Test whose limits depend on the history's moments only: judged from values or from running sums alike. */
export function momentTest(
  definition: Omit<TestDefinition, 'limits' | 'fromMoments'> & { fromMoments(m: Moments, lower: number | undefined, upper: number | undefined): LimitsOrSkip },
): TestDefinition & Required<Pick<TestDefinition, 'fromMoments'>> {
  return { ...definition, limits: (history, lower, upper) => definition.fromMoments(momentsOf(history), lower, upper) };
}
