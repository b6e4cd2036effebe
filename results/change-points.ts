import { bestSplit } from './stats/energy';
import { type TwoSampleStats, twoSampleTTest } from './stats/two-sample-t-test';

/**
 * Change-point detection as Hunter (Fleming et al., ICPE'23, arXiv 2301.03034), now Apache Otava,
 * does it: E-divisive means over sliding windows with a Student's t-test deciding significance, so
 * the same series always gives the same answer.
 *
 * 1. Split: in each window of `window_len` points (advancing by half a window, or to the last change
 *    found), repeatedly take the split that maximises the energy statistic within the current
 *    segments and keep it while its t-test p-value is at most a relaxed first-pass threshold. The
 *    relaxation finds "weak" change points that close neighbours would otherwise mask.
 * 2. Merge: re-test every weak point against its neighbours and drop the weakest (highest p-value,
 *    or smallest change once all are significant) until all pass `max_pvalue` and `min_magnitude`.
 */

export interface ChangePointOptions {
  /** Points per sliding window (Otava: 50). Smaller windows find close changes, larger ones small changes. */
  window_len?: number;
  /** Significance a change point must reach (Otava: 0.001). */
  max_pvalue?: number;
  /** Minimum relative change, e.g. 0.05 for 5% (Otava: 0, any significant change). */
  min_magnitude?: number;
}

export interface ChangePoint extends TwoSampleStats {
  /** Index of the first value after the change. */
  index: number;
  /** (mean_after / mean_before − 1) × 100. */
  percent_change: number;
  /** The larger relative change of forward and backward, |after/before − 1| or |before/after − 1|. */
  magnitude: number;
}

const DEFAULTS = { window_len: 50, max_pvalue: 0.001, min_magnitude: 0 } satisfies Required<ChangePointOptions>;

function relativeChange(from: number, to: number): number {
  return from === 0 ? 0 : to / from - 1;
}

/** Tests the split at `index` between the change points either side of it (or the series' ends). */
function testSplit(series: readonly number[], from: number, index: number, to: number): ChangePoint {
  const stats = twoSampleTTest(series.slice(from, index), series.slice(index, to));
  const forward = relativeChange(stats.mean_before, stats.mean_after);
  const backward = relativeChange(stats.mean_after, stats.mean_before);
  const pvalue = Number.isNaN(stats.pvalue) ? 1 : stats.pvalue;
  return { index, ...stats, pvalue, percent_change: forward * 100, magnitude: Math.max(Math.abs(forward), Math.abs(backward)) };
}

/** Re-tests each index against its neighbours in the sorted list. */
function retest(series: readonly number[], indices: readonly number[]): ChangePoint[] {
  return indices.map((index, k) => testSplit(series, k === 0 ? 0 : indices[k - 1], index, k + 1 < indices.length ? indices[k + 1] : series.length));
}

/** E-divisive within one window: keep splitting the best segment while the split is significant. */
function divisive(series: readonly number[], start: number, end: number, maxPvalue: number): number[] {
  const found: number[] = [];
  for (;;) {
    const bounds = [start, ...found, end];
    let best: { index: number; qhat: number; from: number; to: number } | undefined;
    for (let k = 0; k + 1 < bounds.length; k++) {
      const candidate = bestSplit(series, bounds[k], bounds[k + 1]);
      if (candidate && (best === undefined || candidate.qhat > best.qhat)) best = { ...candidate, from: bounds[k], to: bounds[k + 1] };
    }
    if (!best || testSplit(series, best.from, best.index, best.to).pvalue > maxPvalue) return found;
    found.push(best.index);
    found.sort((a, b) => a - b);
  }
}

/** Otava's relaxed first-pass p-value: 10× below 0.05, 2× below 0.5. */
function firstPassPvalue(maxPvalue: number): number {
  if (maxPvalue < 0.05) return maxPvalue * 10;
  return maxPvalue < 0.5 ? maxPvalue * 2 : maxPvalue;
}

function split(series: readonly number[], windowLen: number, maxPvalue: number): number[] {
  const step = Math.floor(windowLen / 2);
  const found = new Set<number>();
  for (let start = 0; start < series.length; ) {
    const inWindow = divisive(series, start, Math.min(start + windowLen, series.length), maxPvalue);
    for (const index of inWindow) found.add(index);
    start = Math.max(inWindow.length > 0 ? inWindow[inWindow.length - 1] : 0, start + step);
  }
  return [...found].sort((a, b) => a - b);
}

function merge(series: readonly number[], weak: readonly number[], maxPvalue: number, minMagnitude: number): ChangePoint[] {
  let points = retest(series, weak);
  while (points.length > 0) {
    let weakest = points.reduce((w, p) => (p.pvalue > w.pvalue ? p : w));
    if (weakest.pvalue < maxPvalue) {
      weakest = points.reduce((w, p) => (p.magnitude < w.magnitude ? p : w));
      if (weakest.magnitude > minMagnitude) return points;
    }
    // Removing a point widens both neighbours' segments, so both are re-tested (all are, for simplicity).
    points = retest(
      series,
      points.filter((p) => p !== weakest).map((p) => p.index),
    );
  }
  return points;
}

/** Change points in `series` (oldest first), in index order. */
export function detectChangePoints(series: readonly number[], options: ChangePointOptions = {}): ChangePoint[] {
  const { window_len, max_pvalue, min_magnitude } = { ...DEFAULTS, ...options };
  if (!(Number.isInteger(window_len) && window_len >= 2)) throw new RangeError(`window_len must be an integer ≥ 2, got ${window_len}`);
  if (!(max_pvalue > 0 && max_pvalue <= 1)) throw new RangeError(`max_pvalue must be in (0, 1], got ${max_pvalue}`);
  if (!(min_magnitude >= 0)) throw new RangeError(`min_magnitude must be ≥ 0, got ${min_magnitude}`);
  if (series.some((x) => !Number.isFinite(x))) throw new RangeError('series must hold finite numbers only');
  return merge(series, split(series, window_len, firstPassPvalue(max_pvalue)), max_pvalue, min_magnitude);
}
