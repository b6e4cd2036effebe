import { minMaxBuckets } from '../../common/downsample';

describe('minMaxBuckets', () => {
  const xs = Array.from({ length: 10000 }, (_, i) => i * 1000);
  // A noisy flat line: every bucket's extremes differ from its neighbours'.
  const ys = xs.map((_, i) => 100 + Math.sin(i * 12.9898) * 5);

  it('returns every index when the series fits', () => {
    expect(minMaxBuckets([1, 2, 3], [5, 6, 7], 3)).toEqual([0, 1, 2]);
  });

  it('thins to about maxPoints, in order, keeping the first and last points', () => {
    const kept = minMaxBuckets(xs, ys, 500);
    expect(kept.length).toBeLessThanOrEqual(500);
    expect(kept.length).toBeGreaterThan(400);
    expect(kept[0]).toBe(0);
    expect(kept[kept.length - 1]).toBe(xs.length - 1);
    expect(kept).toEqual([...kept].sort((a, b) => a - b));
    expect(new Set(kept).size).toBe(kept.length);
  });

  it('keeps the global extremes, a lone spike and a lone dip', () => {
    const spiky = [...ys];
    spiky[4321] = 1000;
    spiky[8765] = -50;
    const kept = minMaxBuckets(xs, spiky, 200);
    expect(kept).toContain(4321);
    expect(kept).toContain(8765);
    // Each bucket's own extremes survive too: the thinned line spans the same range per pixel column.
    const bucketOf = (i: number) => Math.min(98, Math.floor((xs[i] / xs[xs.length - 1]) * 99));
    const maxOfBucket = new Map<number, number>();
    for (let i = 1; i < xs.length - 1; i++) {
      const b = bucketOf(i);
      if (!maxOfBucket.has(b) || spiky[i] > spiky[maxOfBucket.get(b)!]) maxOfBucket.set(b, i);
    }
    for (const i of maxOfBucket.values()) expect(kept).toContain(i);
  });

  it('keeps forced points (alerts, change points) that are no extreme', () => {
    const forced = new Set([17, 5000, 9998]);
    const kept = minMaxBuckets(xs, ys.map(() => 1), 100, (i) => forced.has(i));
    for (const i of forced) expect(kept).toContain(i);
  });

  it('handles series whose points share one time', () => {
    const kept = minMaxBuckets([5, 5, 5, 5, 5], [3, 9, 1, 4, 2], 4);
    expect(kept).toEqual(expect.arrayContaining([0, 1, 2, 4]));
  });
});
