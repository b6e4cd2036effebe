import { bestSplit } from './stats/energy';
import { type TwoSampleStats, twoSampleTTest } from './stats/two-sample-t-test';

/**
 * Change-point detection after Hunter (Fleming et al., ICPE'23, arXiv 2301.03034), now Apache Otava:
 * E-divisive means over sliding windows with a Student's t-test deciding significance, so the same
 * series always gives the same answer.
 *
 * 1. Split: in each window of `window_len` points (advancing by half a window, or to the last change
 *    found), repeatedly take the split that maximises the energy statistic within the current
 *    segments and keep it while its t-test p-value is at most a relaxed first-pass threshold. The
 *    relaxation finds "weak" change points that close neighbours would otherwise mask.
 * 2. Merge: re-test every weak point against its neighbours and drop the weakest (highest p-value,
 *    or smallest change once all are significant) until all pass `max_pvalue` and `min_magnitude`.
 *
 * Otava as published tests each split as if its position had been fixed in advance, but the split
 * is the best of every position in the window, so its p-value is far too small: on stationary noise
 * it reports 12–15 change points per 10,000 points at p ≤ 0.001. The default method, 'corrected',
 * multiplies each p-value by the number of candidates the split was chosen from (Bonferroni):
 * - in the split pass, by the w(w−1)/2 (τ, κ) pairs of its w-point segment, testing x[from:τ)
 *   against the x[τ:κ) the energy statistic chose, so that a short excursion (a spike of a few
 *   points) is tested as itself rather than diluted into the rest of the window;
 * - in the merge pass, by the positions between the point's neighbours;
 * and then 3. refines: each point moves, at most a quarter window, to the least-squares location of
 * the mean shift between its neighbours. The energy statistic's maximum misses a 5 % step in 2 %
 * noise by more than 2 points in 8 of 200 seeded series, least squares in 3.
 * Measured: 0.04–0.12 false points per 10,000 over 500,000 points of each of six noise families
 * (Gaussian and log-normal, CV 0.5–5 %); 98 % of 5 % steps (CV 2 %) within ±2.
 * `method: 'otava'` runs Otava's procedure unchanged (the golden tests and the bench's baseline).
 */

export interface ChangePointOptions {
  /** Points per sliding window (Otava: 50). Smaller windows find close changes, larger ones small changes. */
  window_len?: number;
  /** Significance a change point must reach (Otava: 0.001). */
  max_pvalue?: number;
  /** Minimum relative change, e.g. 0.05 for 5% (Otava: 0, any significant change). */
  min_magnitude?: number;
  /** 'corrected' (default): p-values account for the split being the best of many, and points are refined; 'otava': as published. */
  method?: 'corrected' | 'otava';
}

export interface ChangePoint extends TwoSampleStats {
  /** Index of the first value after the change. */
  index: number;
  /** (mean_after / mean_before − 1) × 100. */
  percent_change: number;
  /** The larger relative change of forward and backward, |after/before − 1| or |before/after − 1|. */
  magnitude: number;
}

/** Apache Otava's defaults and procedure. */
export const OTAVA = { window_len: 50, max_pvalue: 0.001, min_magnitude: 0, method: 'otava' } satisfies Required<ChangePointOptions>;
const DEFAULTS = { ...OTAVA, method: 'corrected' } satisfies Required<ChangePointOptions>;
type Config = Required<ChangePointOptions>;

function relativeChange(from: number, to: number): number {
  return from === 0 ? 0 : to / from - 1;
}

/**
 * Tests x[from:index) against x[index:to); under the corrected method the p-value is multiplied by
 * `candidates`, the number of splits this one was chosen from.
 */
function testSplit(series: readonly number[], from: number, index: number, to: number, config: Config, candidates: number): ChangePoint {
  const stats = twoSampleTTest(series.slice(from, index), series.slice(index, to));
  const forward = relativeChange(stats.mean_before, stats.mean_after);
  const backward = relativeChange(stats.mean_after, stats.mean_before);
  const raw = Number.isNaN(stats.pvalue) ? 1 : stats.pvalue;
  const pvalue = config.method === 'corrected' ? Math.min(1, raw * candidates) : raw;
  return { index, ...stats, pvalue, percent_change: forward * 100, magnitude: Math.max(Math.abs(forward), Math.abs(backward)) };
}

/** Re-tests each index against its neighbours in the sorted list (or the series' ends). */
function retest(series: readonly number[], indices: readonly number[], config: Config): ChangePoint[] {
  return indices.map((index, k) => {
    const from = k === 0 ? 0 : indices[k - 1];
    const to = k + 1 < indices.length ? indices[k + 1] : series.length;
    return testSplit(series, from, index, to, config, to - from - 1);
  });
}

/** E-divisive within one window: keep splitting the best segment while the split is significant. */
function divisive(series: readonly number[], start: number, end: number, maxPvalue: number, config: Config): number[] {
  const found: number[] = [];
  for (;;) {
    const bounds = [start, ...found, end];
    let best: { index: number; end: number; qhat: number; from: number; to: number } | undefined;
    for (let k = 0; k + 1 < bounds.length; k++) {
      const candidate = bestSplit(series, bounds[k], bounds[k + 1]);
      if (candidate && (best === undefined || candidate.qhat > best.qhat)) best = { ...candidate, from: bounds[k], to: bounds[k + 1] };
    }
    if (!best) return found;
    const w = best.to - best.from;
    const tested =
      config.method === 'corrected'
        ? testSplit(series, best.from, best.index, best.end, config, (w * (w - 1)) / 2)
        : testSplit(series, best.from, best.index, best.to, config, 1);
    if (tested.pvalue > maxPvalue) return found;
    found.push(best.index);
    found.sort((a, b) => a - b);
  }
}

/** Otava's relaxed first-pass p-value: 10× below 0.05, 2× below 0.5. */
function firstPassPvalue(maxPvalue: number): number {
  if (maxPvalue < 0.05) return maxPvalue * 10;
  return maxPvalue < 0.5 ? maxPvalue * 2 : maxPvalue;
}

function split(series: readonly number[], config: Config): number[] {
  const step = Math.floor(config.window_len / 2);
  const maxPvalue = firstPassPvalue(config.max_pvalue);
  const found = new Set<number>();
  for (let start = 0; start < series.length; ) {
    const inWindow = divisive(series, start, Math.min(start + config.window_len, series.length), maxPvalue, config);
    for (const index of inWindow) found.add(index);
    start = Math.max(inWindow.length > 0 ? inWindow[inWindow.length - 1] : 0, start + step);
  }
  return [...found].sort((a, b) => a - b);
}

function merge(series: readonly number[], weak: readonly number[], config: Config): ChangePoint[] {
  let points = retest(series, weak, config);
  while (points.length > 0) {
    let weakest = points.reduce((w, p) => (p.pvalue > w.pvalue ? p : w));
    if (weakest.pvalue < config.max_pvalue) {
      weakest = points.reduce((w, p) => (p.magnitude < w.magnitude ? p : w));
      if (weakest.magnitude > config.min_magnitude) return points;
    }
    // Removing a point widens both neighbours' segments, so both are re-tested (all are, for simplicity).
    points = retest(
      series,
      points.filter((p) => p !== weakest).map((p) => p.index),
      config,
    );
  }
  return points;
}

/**
 * Moves each point, left to right, to the split between its neighbours with the largest
 * between-group sum of squares n₁n₂/(n₁+n₂)·(m₁ − m₂)² (the least-squares, Gaussian maximum-
 * likelihood, location of a mean shift), at most `radius` points away. Prefix sums make each
 * candidate O(1).
 */
function refine(series: readonly number[], indices: readonly number[], radius: number): number[] {
  const prefix = new Float64Array(series.length + 1);
  series.forEach((x, i) => (prefix[i + 1] = prefix[i] + x));
  const moved = [...indices];
  for (let k = 0; k < moved.length; k++) {
    const from = k === 0 ? 0 : moved[k - 1];
    const to = k + 1 < moved.length ? moved[k + 1] : series.length;
    let best = { index: moved[k], score: -1 };
    for (let i = Math.max(from + 1, moved[k] - radius); i <= Math.min(to - 1, moved[k] + radius); i++) {
      const [n1, n2] = [i - from, to - i];
      const diff = (prefix[i] - prefix[from]) / n1 - (prefix[to] - prefix[i]) / n2;
      const score = ((n1 * n2) / (n1 + n2)) * diff * diff;
      if (score > best.score) best = { index: i, score };
    }
    moved[k] = best.index;
  }
  return moved;
}

/** Change points in `series` (oldest first), in index order. */
export function detectChangePoints(series: readonly number[], options: ChangePointOptions = {}): ChangePoint[] {
  const config: Config = { ...DEFAULTS, ...options };
  const { window_len, max_pvalue, min_magnitude, method } = config;
  if (!(Number.isInteger(window_len) && window_len >= 2)) throw new RangeError(`window_len must be an integer ≥ 2, got ${window_len}`);
  if (!(max_pvalue > 0 && max_pvalue <= 1)) throw new RangeError(`max_pvalue must be in (0, 1], got ${max_pvalue}`);
  if (!(min_magnitude >= 0)) throw new RangeError(`min_magnitude must be ≥ 0, got ${min_magnitude}`);
  if (method !== 'corrected' && method !== 'otava') throw new RangeError(`method must be 'corrected' or 'otava', got ${method}`);
  if (series.some((x) => !Number.isFinite(x))) throw new RangeError('series must hold finite numbers only');
  const merged = merge(series, split(series, config), config);
  if (method === 'otava') return merged;
  return retest(series, refine(series, merged.map((p) => p.index), Math.floor(window_len / 4)), config);
}
