/** Descriptive statistics shared by folding, thresholds and change-point detection. */

export function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/** Arithmetic mean; NaN for no values. */
export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : sum(values) / values.length;
}

/**
 * Standard deviation about `centre`. `ddof` 1 is the sample estimate (Bencher's thresholds),
 * 0 the population one (numpy's default, which Hunter/Otava's t-test feeds to scipy).
 */
export function stdDev(values: readonly number[], ddof: 0 | 1, centre = mean(values)): number {
  if (values.length - ddof <= 0) return Number.NaN;
  let squares = 0;
  for (const v of values) squares += (v - centre) ** 2;
  return Math.sqrt(squares / (values.length - ddof));
}

export function sortedCopy(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/**
 * Quantile of sorted data by linear interpolation between closest ranks (Hyndman & Fan type 7,
 * numpy's default, and what Bencher's IQR thresholds use).
 */
export function quantileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0 || !(p >= 0 && p <= 1)) return Number.NaN;
  const rank = p * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

export function median(values: readonly number[]): number {
  return quantileSorted(sortedCopy(values), 0.5);
}

export interface Quartiles {
  q1: number;
  q2: number;
  q3: number;
}

export function quartiles(values: readonly number[]): Quartiles {
  const sorted = sortedCopy(values);
  return { q1: quantileSorted(sorted, 0.25), q2: quantileSorted(sorted, 0.5), q3: quantileSorted(sorted, 0.75) };
}
