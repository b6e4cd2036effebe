/**
 * Min/max bucket downsampling (the M4 family's value extremes) with forced points: a plot never
 * needs more points than it has pixels across, but a thinned line must still reach every spike and
 * dip and show every point that carries a marker. The x range is cut into equal buckets (pixel
 * columns); each keeps its lowest and highest point; the first and last points and every forced
 * point (an alert, a change point) are kept whatever their bucket. Pure: indices in, indices out.
 */
export function minMaxBuckets(xs: readonly number[], ys: readonly number[], maxPoints: number, forced: (index: number) => boolean = () => false): number[] {
  const n = xs.length;
  if (n <= maxPoints) return xs.map((_, i) => i);
  const buckets = Math.max(1, Math.floor((maxPoints - 2) / 2));
  const x0 = xs[0];
  const span = xs[n - 1] - x0 || 1;
  const low = new Array<number>(buckets).fill(-1);
  const high = new Array<number>(buckets).fill(-1);
  const kept = new Set<number>([0, n - 1]);
  for (let i = 1; i < n - 1; i++) {
    if (forced(i)) kept.add(i);
    const b = Math.min(buckets - 1, Math.floor(((xs[i] - x0) / span) * buckets));
    if (low[b] < 0 || ys[i] < ys[low[b]]) low[b] = i;
    if (high[b] < 0 || ys[i] > ys[high[b]]) high[b] = i;
  }
  for (const i of [...low, ...high]) if (i >= 0) kept.add(i);
  return [...kept].sort((a, b) => a - b);
}
