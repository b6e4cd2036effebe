import { maxOverlap } from '../harness/benchmarks';

describe('maxOverlap (test helper)', () => {
  it('counts windows open at once; touching windows do not overlap', () => {
    expect(maxOverlap([{ start: 0, end: 10 }, { start: 10, end: 20 }, { start: 20, end: 30 }])).toBe(1);
    expect(maxOverlap([{ start: 0, end: 10 }, { start: 5, end: 20 }, { start: 6, end: 7 }])).toBe(3);
    expect(maxOverlap([])).toBe(0);
  });
});
