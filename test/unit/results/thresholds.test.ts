import { evaluateThreshold, type ThresholdModel, ThresholdModelError, validateThresholdModel } from '../../../results/thresholds';
import { seededNormal } from './helpers';

/** Limits to 1e-9, the precision the hand computations below are carried to. */
function expectLimits(history: number[], model: ThresholdModel, lower: number | undefined, upper: number | undefined): void {
  const result = evaluateThreshold(history, model, 0);
  expect(result.skipped).toBeUndefined();
  for (const [got, want] of [
    [result.lower_limit, lower],
    [result.upper_limit, upper],
  ]) {
    if (want === undefined) expect(got).toBeUndefined();
    else expect(got).toBeCloseTo(want, 9);
  }
}

const both = (test: ThresholdModel['test'], boundary: number): ThresholdModel => ({ test, lower_boundary: boundary, upper_boundary: boundary });

describe('Bencher`s documented examples', () => {
  // 12 × 110, 12 × 90 and one 100: mean 100, sample variance 24·10²/24 = 100, so s = 10, n = 25.
  const mean100sd10 = [...Array(12).fill(110), ...Array(12).fill(90), 100];

  test('static: upper 100 → alert above 100', () => {
    const model: ThresholdModel = { test: 'static', upper_boundary: 100 };
    expect(evaluateThreshold([], model, 100)).toEqual({ upper_limit: 100, alert: undefined });
    expect(evaluateThreshold([], model, 100.5).alert).toBe('upper');
  });

  test('percentage: mean 100, 0.10 → 90 / 110', () => {
    expectLimits([90, 100, 110], both('percentage', 0.1), 90, 110);
  });

  test('z_score: 0.977, μ 100, σ 10 → 80.05 / 119.95', () => {
    // Φ⁻¹(0.977) = 1.99539331…, so 100 ± 19.9539331
    expectLimits(mean100sd10, both('z_score', 0.977), 80.04606689832175, 119.95393310167825);
  });

  test('t_test: 0.977, n 25, mean 100, s 10 → 78.54 / 121.46', () => {
    // t(0.977, 24) = 2.10441472…, scale 10·√(1 + 1/25) = 10.19803903: 100 ± 21.46090347
    expectLimits(mean100sd10, both('t_test', 0.977), 78.5390965284724, 121.4609034715276);
  });

  test('log_normal: 25 metrics around 100 and one at 200, 0.977 → 71.20 / 134.18', () => {
    const history = [...Array(5).fill([98, 99, 100, 101, 102]).flat(), 200];
    // ln-mean 4.63173 (centre e^μ = 102.6919), ln population sd 0.133690: upper e^(μ + 1.995393·σ),
    // lower mirrored about the centre: 2 · 102.6919 − 134.1809
    expectLimits(history, both('log_normal', 0.977), 71.20299914980993, 134.18085823622886);
  });

  test('iqr: median 100, IQR 10, 2.0 → 80 / 120', () => {
    // [90, 100, 110]: Q1 95, median 100, Q3 105
    expectLimits([90, 100, 110], both('iqr', 2), 80, 120);
  });

  test('delta_iqr: median 100, Δ-IQR 0.2, 2.0 → 60 / 140', () => {
    // 100 → 100 → 90 → 108 → 75.6 → 105.84: relative changes 0, 0.1, 0.2, 0.3, 0.4, so Q1 0.1 and
    // Q3 0.3 (Δ-IQR 0.2). Sorted history 75.6, 90, 100, 100, 105.84, 108: median 100. 100 ∓ 100 · 0.2 · 2.
    expectLimits([100, 100, 90, 108, 75.6, 105.84], both('delta_iqr', 2), 60, 140);
  });
});

describe('every model on one fixed history', () => {
  // History (oldest first) 10, 12, 11, 13, 14: n 5, mean 12, squared deviations 4+0+1+1+4 = 10,
  // sample sd s = √(10/4) = 1.58113883, population sd √(10/5) = 1.41421356.
  const history = [10, 12, 11, 13, 14];

  test('static ignores the history', () => {
    expectLimits(history, { test: 'static', lower_boundary: 9, upper_boundary: 15 }, 9, 15);
  });

  test('percentage 0.1 / 0.2: 12 − 1.2, 12 + 2.4', () => {
    expectLimits(history, { test: 'percentage', lower_boundary: 0.1, upper_boundary: 0.2 }, 10.8, 14.4);
  });

  test('z_score 0.9: 12 ∓ s · Φ⁻¹(0.9) = 12 ∓ 1.58113883 · 1.28155157 = 12 ∓ 2.02631094', () => {
    expectLimits(history, both('z_score', 0.9), 9.973689056962249, 14.026310943037751);
  });

  test('t_test 0.9: 12 ∓ s·√1.2 · t(0.9, 4) = 12 ∓ √3 · 1.53320627 = 12 ∓ 2.65559117', () => {
    expectLimits(history, both('t_test', 0.9), 9.344408834846536, 14.655591165153464);
  });

  test('log_normal 0.9: centre e^2.47787874 = 11.9159607, upper e^(2.47787874 + 0.11894069 · 1.28155157)', () => {
    // ln 10, ln 12, ln 11, ln 13, ln 14 have mean 2.47787874 and population sd 0.11894069;
    // upper = 13.87803492, lower = 2 · 11.91596074 − 13.87803492 = 9.95388657
    expectLimits(history, both('log_normal', 0.9), 9.953886568721027, 13.878034921183742);
  });

  test('iqr 1.5: sorted 10 11 12 13 14 → Q1 11, median 12, Q3 13; 12 ∓ 1.5 · 2', () => {
    expectLimits(history, both('iqr', 1.5), 9, 15);
  });

  test('delta_iqr 1.0: changes 2/10, 1/12, 2/11, 1/13 → Q1 0.0817308, Q3 0.1863636; 12 ∓ 12 · 0.1046329', () => {
    // sorted changes 0.0769231 0.0833333 0.1818182 0.2; Q1 at rank 0.75, Q3 at rank 2.25
    expectLimits(history, both('delta_iqr', 1), 10.744405594405594, 13.255594405594406);
  });

  test('only the side with a boundary gets a limit', () => {
    expectLimits(history, { test: 'iqr', upper_boundary: 1.5 }, undefined, 15);
    expectLimits(history, { test: 'z_score', lower_boundary: 0.9 }, 9.973689056962249, undefined);
  });
});

describe('alerts', () => {
  const history = [10, 12, 11, 13, 14];
  const model = both('iqr', 1.5); // limits 9 / 15

  test('outside a limit alerts on that side; on the limit does not', () => {
    expect(evaluateThreshold(history, model, 15.01)).toMatchObject({ alert: 'upper', baseline: 12 });
    expect(evaluateThreshold(history, model, 8.99).alert).toBe('lower');
    expect(evaluateThreshold(history, model, 15).alert).toBeUndefined();
    expect(evaluateThreshold(history, model, 9).alert).toBeUndefined();
  });

  test('an injected regression in a noisy series alerts; in-distribution noise does not', () => {
    const noise = seededNormal(20261122);
    const history = Array.from({ length: 60 }, () => noise(1000, 20)); // 2% noise on a 1000 ns benchmark
    const upperOnly = (test: ThresholdModel['test'], boundary: number): ThresholdModel => ({ test, upper_boundary: boundary });
    const models = [upperOnly('z_score', 0.999), upperOnly('t_test', 0.999), upperOnly('log_normal', 0.999), upperOnly('iqr', 3), upperOnly('percentage', 0.1)];
    for (const m of models) {
      expect({ test: m.test, alert: evaluateThreshold(history, m, 1150).alert }).toEqual({ test: m.test, alert: 'upper' }); // +15%
      const falseAlarms = Array.from({ length: 50 }, () => noise(1000, 20)).filter((v) => evaluateThreshold(history, m, v).alert !== undefined);
      expect({ test: m.test, falseAlarms: falseAlarms.length }).toEqual({ test: m.test, falseAlarms: 0 });
    }
  });

  test('a faster result only alerts with a lower boundary', () => {
    expect(evaluateThreshold(history, { test: 'percentage', upper_boundary: 0.1 }, 5).alert).toBeUndefined();
    expect(evaluateThreshold(history, { test: 'percentage', lower_boundary: 0.1 }, 5).alert).toBe('lower');
  });
});

describe('sample sizes', () => {
  test('below the minimum sample size the test is skipped', () => {
    expect(evaluateThreshold([10, 12, 11], { ...both('z_score', 0.9), min_sample_size: 5 }, 1000)).toEqual({
      alert: undefined,
      skipped: 'only 3 samples, z_score needs 5',
    });
    // the defaults: percentage needs 1 sample, the others 2
    expect(evaluateThreshold([], both('percentage', 0.1), 5).skipped).toBe('only 0 samples, percentage needs 1');
    expect(evaluateThreshold([10], both('percentage', 0.1), 12).alert).toBe('upper');
    expect(evaluateThreshold([10], both('t_test', 0.9), 12).skipped).toBe('only 1 samples, t_test needs 2');
  });

  test('static ignores sample sizes', () => {
    expect(evaluateThreshold([], { test: 'static', upper_boundary: 1, min_sample_size: 30 }, 2).alert).toBe('upper');
  });

  test('max sample size keeps the newest metrics', () => {
    // newest three of [1000, 1000, 10, 12, 14] are 10, 12, 14: mean 12
    const result = evaluateThreshold([1000, 1000, 10, 12, 14], { test: 'percentage', upper_boundary: 0.5, max_sample_size: 3 }, 17);
    expect(result).toMatchObject({ baseline: 12, upper_limit: 18, alert: undefined });
  });

  test('statistics that need spread or positive data say why they skip', () => {
    expect(evaluateThreshold([5, 5, 5], both('z_score', 0.9), 6).skipped).toBe('the history has no variance');
    expect(evaluateThreshold([5, -1, 5], both('log_normal', 0.9), 6).skipped).toBe('log_normal needs a history of positive values');
    expect(evaluateThreshold([5, 0, 5], both('delta_iqr', 1), 6).skipped).toBe('delta_iqr needs a history without zeros');
  });
});

describe('validation', () => {
  test.each<[ThresholdModel, RegExp]>([
    [{ test: 'z_score' }, /needs a lower boundary, an upper boundary or both/],
    [{ test: 'z_score', upper_boundary: 0.4 }, /upper boundary must be a probability in \[0.5, 1\)/],
    [{ test: 't_test', lower_boundary: 1 }, /lower boundary must be a probability/],
    [{ test: 'percentage', upper_boundary: -0.1 }, /must be a number ≥ 0/],
    [{ test: 'iqr', lower_boundary: Number.NaN }, /must be a number ≥ 0/],
    [{ test: 'static', lower_boundary: 10, upper_boundary: 5 }, /lower boundary 10 is above the upper boundary 5/],
    [{ test: 'z_score', upper_boundary: 0.9, min_sample_size: 1 }, /min sample size must be an integer ≥ 2/],
    [{ test: 'percentage', upper_boundary: 0.1, min_sample_size: 2, max_sample_size: 1 }, /max sample size must be an integer ≥ 2/],
    [{ test: 'nope' as ThresholdModel['test'], upper_boundary: 1 }, /unknown threshold test "nope"/],
  ])('%j is refused', (model, message) => {
    expect(() => validateThresholdModel(model)).toThrow(ThresholdModelError);
    expect(() => evaluateThreshold([1, 2, 3], model, 2)).toThrow(message);
  });

  test('a percentage test may use a single sample; nulls mean unset', () => {
    expect(() => validateThresholdModel({ test: 'percentage', upper_boundary: 0, min_sample_size: 1, lower_boundary: null })).not.toThrow();
  });
});
