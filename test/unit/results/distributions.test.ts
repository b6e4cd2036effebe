import { mean, median, quantileSorted, quartiles, stdDev } from '../../../results/stats/descriptive';
import { lnGamma, normalQuantile, regularizedBeta, studentTCdf, studentTQuantile, studentTUpperTail } from '../../../results/stats/distributions';

// Reference values from SciPy 1.17.1 (scipy.stats.norm.ppf, scipy.stats.t.ppf / .sf,
// scipy.special.gammaln / betainc), printed to full double precision.

/** Relative closeness, for values spanning many orders of magnitude. */
function expectRelative(actual: number, expected: number, tolerance = 1e-12): void {
  if (Math.abs(actual - expected) > tolerance * Math.abs(expected)) expect(actual).toBe(expected);
}

describe('normalQuantile (AS 241)', () => {
  test.each([
    [1e-10, -6.361340902404056],
    [0.001, -3.090232306167813],
    [0.023, -1.9953933101678247],
    [0.3, -0.5244005127080409],
    [0.8, 0.8416212335729143],
    [0.977, 1.9953933101678245],
    [0.999, 3.090232306167813],
    [1 - 1e-12, 7.0344869100478356],
  ])('Φ⁻¹(%d)', (p, z) => expectRelative(normalQuantile(p), z, 1e-14));

  test('edges', () => {
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(normalQuantile(1.5)).toBeNaN();
  });
});

describe("Student's t", () => {
  test.each([
    [0.977, 24, 2.104414722704815],
    [0.95, 1, 6.313751514675037],
    [0.975, 2, 4.302652729749462],
    [0.99, 5, 3.3649299989072174],
    [0.9999, 3, 22.203742273205],
    [0.6, 100, 0.25402218245822766],
    [0.977, 1000, 1.9978814071161255],
  ])('quantile(%d, df %d)', (p, df, t) => {
    expectRelative(studentTQuantile(p, df), t, 1e-12);
    expectRelative(studentTQuantile(1 - p, df), -t, 1e-11);
  });

  test.each([
    [2, 10, 0.03669401738537018],
    [10, 40, 9.656558502057753e-13],
    [50, 98, 7.330408212951237e-72],
    [0.5, 3, 0.3257239824240755],
  ])('upper tail P(T > %d) with df %d keeps tiny p-values precise', (t, df, p) => expectRelative(studentTUpperTail(t, df), p, 1e-11));

  test('quantiles are cached by p and df together: asked again, or with a neighbouring df, each is its own', () => {
    const reference: [number, number, number][] = [
      [0.977, 24, 2.104414722704815],
      [0.977, 1000, 1.9978814071161255],
      [0.99, 5, 3.3649299989072174],
    ];
    for (const round of [1, 2]) {
      for (const [p, df, t] of round === 1 ? reference : [...reference].reverse()) {
        expectRelative(studentTQuantile(p, df), t, 1e-12);
        expectRelative(studentTQuantile(1 - p, df), -t, 1e-11);
      }
    }
    expect(studentTQuantile(0.977, 25)).toBeLessThan(studentTQuantile(0.977, 24));
  });

  test('CDF is symmetric and the quantile inverts it', () => {
    expect(studentTCdf(0, 7)).toBe(0.5);
    expect(studentTCdf(-1.3, 7) + studentTCdf(1.3, 7)).toBeCloseTo(1, 14);
    expect(studentTCdf(studentTQuantile(0.9, 7), 7)).toBeCloseTo(0.9, 12);
  });
});

test('lnGamma and the regularised incomplete beta', () => {
  expectRelative(lnGamma(0.5), 0.5723649429247, 1e-13); // ln √π
  expectRelative(lnGamma(10), 12.801827480081469, 1e-14); // ln 9!
  expectRelative(lnGamma(100.5), 361.43554046777757, 1e-14);
  expect(regularizedBeta(0.5, 2, 2)).toBeCloseTo(0.5, 14); // symmetric
  expect(regularizedBeta(0.3, 1, 1)).toBeCloseTo(0.3, 14); // uniform
  expect(regularizedBeta(0.2, 2, 3)).toBeCloseTo(0.1808, 14); // 6x²−8x³+3x⁴ at 0.2
});

describe('descriptive statistics', () => {
  test('mean, sample and population standard deviation', () => {
    // [10, 12, 11, 13, 14]: mean 12, squared deviations 4+0+1+1+4 = 10
    expect(mean([10, 12, 11, 13, 14])).toBe(12);
    expect(stdDev([10, 12, 11, 13, 14], 1)).toBeCloseTo(Math.sqrt(10 / 4), 14);
    expect(stdDev([10, 12, 11, 13, 14], 0)).toBeCloseTo(Math.sqrt(10 / 5), 14);
    expect(stdDev([3], 1)).toBeNaN();
  });

  test('quantiles interpolate linearly between ranks (numpy`s default)', () => {
    // numpy.percentile([1, 2, 3, 4], [25, 50, 75]) = 1.75, 2.5, 3.25
    expect(quartiles([4, 1, 3, 2])).toEqual({ q1: 1.75, q2: 2.5, q3: 3.25 });
    expect(median([5, 1, 3])).toBe(3);
    expect(quantileSorted([7], 0.75)).toBe(7);
    expect(quantileSorted([], 0.5)).toBeNaN();
  });
});
