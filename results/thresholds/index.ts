import { deltaIqrTest } from './delta-iqr';
import { iqrTest } from './iqr';
import { logNormalTest } from './log-normal';
import { percentageTest } from './percentage';
import { staticTest } from './static';
import { tTest } from './t-test';
import { type LimitsOrSkip, type Moments, type TestDefinition, type ThresholdModel, ThresholdModelError, type ThresholdResult, type ThresholdTest } from './types';
import { zScoreTest } from './z-score';

export * from './types';

const TESTS: Record<ThresholdTest, TestDefinition> = {
  static: staticTest,
  percentage: percentageTest,
  z_score: zScoreTest,
  t_test: tTest,
  log_normal: logNormalTest,
  iqr: iqrTest,
  delta_iqr: deltaIqrTest,
};

function definitionOf(model: ThresholdModel): TestDefinition {
  const definition = TESTS[model.test];
  if (!definition) throw new ThresholdModelError(`unknown threshold test "${model.test}"`);
  return definition;
}

/** Throws a ThresholdModelError naming the first parameter outside the domain Bencher allows. */
export function validateThresholdModel(model: ThresholdModel): void {
  const definition = definitionOf(model);
  const lower = model.lower_boundary ?? undefined;
  const upper = model.upper_boundary ?? undefined;
  if (lower === undefined && upper === undefined) throw new ThresholdModelError(`${model.test} needs a lower boundary, an upper boundary or both`);
  for (const [side, boundary] of [['lower', lower], ['upper', upper]] as const) {
    if (boundary !== undefined && !definition.boundary.check(boundary)) {
      throw new ThresholdModelError(`${model.test} ${side} boundary must be ${definition.boundary.describe}, got ${boundary}`);
    }
  }
  if (model.test === 'static' && lower !== undefined && upper !== undefined && lower > upper) {
    throw new ThresholdModelError(`static lower boundary ${lower} is above the upper boundary ${upper}`);
  }
  if (model.test === 'static') return; // sample sizes do not apply: static never reads history
  const min = model.min_sample_size ?? undefined;
  const max = model.max_sample_size ?? undefined;
  const floor = Math.max(1, definition.min_samples);
  if (min !== undefined && !(Number.isInteger(min) && min >= floor)) {
    throw new ThresholdModelError(`${model.test} min sample size must be an integer ≥ ${floor}, got ${min}`);
  }
  if (max !== undefined && !(Number.isInteger(max) && max >= Math.max(floor, min ?? 0))) {
    throw new ThresholdModelError(`${model.test} max sample size must be an integer ≥ ${Math.max(floor, min ?? 0)}, got ${max}`);
  }
}

/**
 * Applies a threshold model to a new value. `history` is the comparable metrics, oldest first;
 * only the newest `max_sample_size` are used. A value equal to a limit is inside it.
 */
export function evaluateThreshold(history: readonly number[], model: ThresholdModel, value: number): ThresholdResult {
  const samples = model.max_sample_size ? history.slice(-model.max_sample_size) : history;
  return judge(model, samples.length, value, (definition, lower, upper) => definition.limits(samples, lower, upper));
}

/** Whether the model's Test needs only the moments of its window (see evaluateThresholdOnMoments). */
export function usesMoments(model: ThresholdModel): boolean {
  return definitionOf(model).fromMoments !== undefined;
}

/**
 * evaluateThreshold for a Test that usesMoments, given the moments of the window it would read
 * (the newest `max_sample_size` metrics of the history).
 */
export function evaluateThresholdOnMoments(moments: Moments, model: ThresholdModel, value: number): ThresholdResult {
  return judge(model, moments.n, value, (definition, lower, upper) => {
    if (!definition.fromMoments) throw new ThresholdModelError(`${model.test} needs the history's values, not only its moments`);
    return definition.fromMoments(moments, lower, upper);
  });
}

function judge(
  model: ThresholdModel,
  samples: number,
  value: number,
  limitsOf: (definition: TestDefinition, lower: number | undefined, upper: number | undefined) => LimitsOrSkip,
): ThresholdResult {
  validateThresholdModel(model);
  const definition = definitionOf(model);
  if (model.test !== 'static') {
    const needed = model.min_sample_size ?? definition.min_samples;
    if (samples < needed) return { alert: undefined, skipped: `only ${samples} samples, ${model.test} needs ${needed}` };
  }
  const limits = limitsOf(definition, model.lower_boundary ?? undefined, model.upper_boundary ?? undefined);
  if ('skipped' in limits) return { alert: undefined, skipped: limits.skipped };
  let alert: ThresholdResult['alert'];
  if (limits.lower_limit !== undefined && value < limits.lower_limit) alert = 'lower';
  else if (limits.upper_limit !== undefined && value > limits.upper_limit) alert = 'upper';
  return { ...limits, alert };
}
