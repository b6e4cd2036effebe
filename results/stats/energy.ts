/**
 * The E-divisive candidate split (Matteson & James, 2014) with α = 1: over sub-series
 * x[start:κ), the τ maximising the energy statistic
 *
 *   Q(τ, κ) = 2/(m+n) Σ|Xi − Yj| − 2m/((m+n)(n−1)) Σ_{i<k}|Xi − Xk| − 2n/((m+n)(m−1)) Σ_{j<k}|Yj − Yk|
 *
 * with X = x[start:τ) (n values) and Y = x[τ:κ) (m values), start < τ < κ ≤ end; a within-sum term
 * is 0 when its side has one value. The three sums are grown incrementally from column prefix
 * sums of |xi − xj|, so one interval costs O(w²) instead of O(w⁴).
 */
export interface CandidateSplit {
  /** First index of the second part. */
  index: number;
  /** End (exclusive) of the second part: κ of the maximum. */
  end: number;
  qhat: number;
}

export function bestSplit(values: readonly number[], start: number, end: number): CandidateSplit | undefined {
  const w = end - start;
  if (w < 2) return undefined;
  const x = values.slice(start, end);
  // prefix[k·(w+1) + i] = Σ_{i' < i} |x[i'] − x[k]|: the distances from x[k] to everything before
  // index i. One flat array: a row per value cost more in allocation and GC than in arithmetic.
  const stride = w + 1;
  const prefix = new Float64Array(w * stride);
  for (let k = 0; k < w; k++) {
    for (let i = 0; i < w; i++) prefix[k * stride + i + 1] = prefix[k * stride + i] + Math.abs(x[i] - x[k]);
  }
  let best: CandidateSplit | undefined;
  let withinX = 0;
  for (let tau = 1; tau < w; tau++) {
    if (tau > 1) withinX += prefix[(tau - 1) * stride + tau - 1];
    const n = tau;
    let cross = 0;
    let withinY = 0;
    for (let kappa = tau + 1; kappa <= w; kappa++) {
      const last = kappa - 1; // the value that joined Y
      cross += prefix[last * stride + tau];
      withinY += prefix[last * stride + last] - prefix[last * stride + tau];
      const m = kappa - tau;
      const q =
        (2 / (m + n)) * cross -
        (n > 1 ? ((2 * m) / ((m + n) * (n - 1))) * withinX : 0) -
        (m > 1 ? ((2 * n) / ((m + n) * (m - 1))) * withinY : 0);
      if (best === undefined || q > best.qhat) best = { index: start + tau, end: start + kappa, qhat: q };
    }
  }
  return best;
}
