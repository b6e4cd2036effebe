import { mean, stdDev } from './descriptive';
import { studentTUpperTail } from './distributions';

export interface TwoSampleStats {
  mean_before: number;
  mean_after: number;
  stddev_before: number;
  stddev_after: number;
  /** Two-sided p-value that both samples share a mean; 1 when there is too little data to test. */
  pvalue: number;
}

/**
 * Student's two-sample t-test with pooled variance, as Hunter/Otava run it: scipy's
 * `ttest_ind_from_stats` fed numpy's population standard deviations. Deterministic, unlike the
 * permutation test E-divisive originally used, which is why Hunter switched to it.
 */
export function twoSampleTTest(before: readonly number[], after: readonly number[]): TwoSampleStats {
  const n1 = before.length;
  const n2 = after.length;
  const m1 = mean(before);
  const m2 = mean(after);
  const s1 = n1 >= 2 ? stdDev(before, 0, m1) : 0;
  const s2 = n2 >= 2 ? stdDev(after, 0, m2) : 0;
  const stats = { mean_before: m1, mean_after: m2, stddev_before: s1, stddev_after: s2 };
  const df = n1 + n2 - 2;
  if (n1 === 0 || n2 === 0 || df < 1) return { ...stats, pvalue: 1 };
  const pooledVariance = ((n1 - 1) * s1 * s1 + (n2 - 1) * s2 * s2) / df;
  const standardError = Math.sqrt(pooledVariance * (1 / n1 + 1 / n2));
  if (standardError === 0) return { ...stats, pvalue: m1 === m2 ? 1 : 0 };
  const t = (m1 - m2) / standardError;
  return { ...stats, pvalue: Math.min(1, 2 * studentTUpperTail(Math.abs(t), df)) };
}
