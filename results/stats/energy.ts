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

/**
 * Scratch for the distance prefix sums, grown to the largest window seen: detection calls this
 * thousands of times per report, and a fresh array each call cost more in allocation and GC than in
 * arithmetic.
 */
let scratch = new Float64Array(0);

export function bestSplit(values: readonly number[], start: number, end: number): CandidateSplit | undefined {
  const w = end - start;
  if (w < 2) return undefined;
  // prefix[k·(w+1) + i] = Σ_{i' < i} |x[i'] − x[k]|: the distances from x[k] to everything before index i.
  const stride = w + 1;
  if (scratch.length < w * stride) scratch = new Float64Array(w * stride);
  const prefix = scratch;
  for (let k = 0; k < w; k++) {
    const xk = values[start + k];
    const row = k * stride;
    prefix[row] = 0;
    for (let i = 0; i < w; i++) prefix[row + i + 1] = prefix[row + i] + Math.abs(values[start + i] - xk);
  }
  let bestQ = -Infinity;
  let bestTau = 0;
  let bestKappa = 0;
  let withinX = 0;
  for (let tau = 1; tau < w; tau++) {
    if (tau > 1) withinX += prefix[(tau - 1) * stride + tau - 1];
    const n = tau;
    const xTerm = n > 1 ? (2 * withinX) / (n - 1) : 0;
    let cross = 0;
    let withinY = 0;
    for (let kappa = tau + 1; kappa <= w; kappa++) {
      const row = (kappa - 1) * stride; // the value that joined Y
      cross += prefix[row + tau];
      withinY += prefix[row + kappa - 1] - prefix[row + tau];
      const m = kappa - tau;
      // Q(τ, κ) as in the module comment, with 1/(m+n) factored out.
      const q = (2 * cross - m * xTerm - (m > 1 ? (2 * n * withinY) / (m - 1) : 0)) / (m + n);
      if (q > bestQ) {
        bestQ = q;
        bestTau = tau;
        bestKappa = kappa;
      }
    }
  }
  return { index: start + bestTau, end: start + bestKappa, qhat: bestQ };
}
