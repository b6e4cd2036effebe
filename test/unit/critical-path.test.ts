import { criticalPath, type TimedJob } from '../../common/critical-path';

describe('critical path', () => {
  // build(10) → smoke(2) → { x86(30), arm(45), small(5) } → compare(3); lint(1) alone.
  const names = ['build', 'smoke', 'x86', 'arm', 'small', 'compare', 'lint'];
  const job = (duration: number, needs: string[] = [], earliest = 0): TimedJob => ({ duration, earliest, needs: needs.map((n) => names.indexOf(n)) });
  const dag = [job(10), job(2, ['build']), job(30, ['smoke']), job(45, ['smoke']), job(5, ['smoke']), job(3, ['x86', 'arm', 'small']), job(1)];

  it('follows the chain that ends last, through the need that held each job back', () => {
    const { path, start, end } = criticalPath(dag);
    expect(path.map((i) => names[i])).toEqual(['build', 'smoke', 'arm', 'compare']);
    expect(end[names.indexOf('compare')]).toBe(10 + 2 + 45 + 3);
    expect(start[names.indexOf('compare')]).toBe(57);
    expect(end[names.indexOf('lint')]).toBe(1);
  });

  it('gives the same answer whatever order the jobs are listed in', () => {
    const order = [5, 3, 6, 0, 4, 2, 1];
    const shuffled = order.map((i) => ({ ...dag[i], needs: dag[i].needs.map((n) => order.indexOf(n)) }));
    expect(criticalPath(shuffled).path.map((i) => names[order[i]])).toEqual(['build', 'smoke', 'arm', 'compare']);
  });

  it("starts the chain at a job held by its own start time rather than by a need's end", () => {
    // compare may only start at 100: the jobs before it did not set the wall time.
    const delayed = dag.map((j, i) => (names[i] === 'compare' ? { ...j, earliest: 100 } : j));
    const { path, end } = criticalPath(delayed);
    expect(path.map((i) => names[i])).toEqual(['compare']);
    expect(end[names.indexOf('compare')]).toBe(103);
  });

  it('a lone job, ties broken by the lower index, and a 500-job chain', () => {
    expect(criticalPath([job(4)]).path).toEqual([0]);
    expect(criticalPath([job(5), job(5), { duration: 1, earliest: 0, needs: [1, 0] }]).path).toEqual([0, 2]);
    const chain = Array.from({ length: 500 }, (_, i): TimedJob => ({ duration: 1, earliest: 0, needs: i ? [i - 1] : [] }));
    const { path, end } = criticalPath(chain);
    expect(path).toHaveLength(500);
    expect(end[499]).toBe(500);
  });
});
