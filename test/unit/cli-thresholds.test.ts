import { thresholdsFromFlags, UsageError } from '../../cli/thresholds';

describe('--threshold-* flags', () => {
  it('none given: no thresholds', () => {
    expect(thresholdsFromFlags({})).toBeUndefined();
  });

  it('the n-th of each flag makes the n-th threshold; _ leaves a value unset', () => {
    expect(
      thresholdsFromFlags({
        thresholdMeasure: ['latency', 'throughput'],
        thresholdTest: ['t_test', 'percentage'],
        thresholdUpperBoundary: ['0.99', '_'],
        thresholdLowerBoundary: ['_', '0.1'],
        thresholdMaxSampleSize: ['64', '_'],
        thresholdWindow: ['_', '86400'],
      }),
    ).toEqual([
      { measure: 'latency', test: 't_test', upper_boundary: 0.99, max_sample_size: 64 },
      { measure: 'throughput', test: 'percentage', lower_boundary: 0.1, window: 86400 },
    ]);
  });

  it('a flag given once applies to every measure', () => {
    expect(thresholdsFromFlags({ thresholdMeasure: ['a', 'b'], thresholdTest: ['iqr'], thresholdUpperBoundary: ['2'], thresholdMinSampleSize: ['5'] })).toEqual([
      { measure: 'a', test: 'iqr', upper_boundary: 2, min_sample_size: 5 },
      { measure: 'b', test: 'iqr', upper_boundary: 2, min_sample_size: 5 },
    ]);
  });

  it.each([
    [{ thresholdTest: ['t_test'] }, '--threshold-* flags need --threshold-measure'],
    [{ thresholdMeasure: ['latency'] }, '--threshold-test is required for --threshold-measure latency'],
    [{ thresholdMeasure: ['latency'], thresholdTest: ['bogus'] }, '--threshold-test must be one of static, percentage, z_score, t_test, log_normal, iqr, delta_iqr, got "bogus"'],
    [{ thresholdMeasure: ['a', 'b', 'c'], thresholdTest: ['static', 'static'] }, '--threshold-test is given 2 times for 3 --threshold-measure'],
    [{ thresholdMeasure: ['a'], thresholdTest: ['static'], thresholdUpperBoundary: ['ten'] }, '--threshold-upper-boundary expects a number (or _), got "ten"'],
    [{ thresholdMeasure: ['a'], thresholdTest: ['t_test'], thresholdMaxSampleSize: ['2.5'] }, '--threshold-max-sample-size expects an integer (or _), got "2.5"'],
  ])('refuses %j', (flags, message) => {
    expect(() => thresholdsFromFlags(flags)).toThrow(UsageError);
    expect(() => thresholdsFromFlags(flags)).toThrow(message);
  });
});
