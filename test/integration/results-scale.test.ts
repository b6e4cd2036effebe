import { storeResults, type StoredResults } from '../../db/results';
import type { BenchmarkResults } from '../../results/types';
import { jsonReport } from '../harness/reports';
import { Stack } from '../harness/stack';

/**
 * Judging a report costs a bounded number of SQL statements however many metrics it has: the
 * history of every series is read at once and boundaries, alerts and change points are written in
 * multi-row statements (issue 9: a 1,000-benchmark report used to send one statement or more per
 * metric). Counts, not times: counts are deterministic.
 */
describe('results at scale: statements per report', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.start();
  });
  afterAll(() => stack?.stop());

  /** `benchmarks` benchmarks × 2 measures, every value `value(measure)`. */
  const results = (benchmarks: number, value: (measure: number) => number): BenchmarkResults =>
    Object.fromEntries(Array.from({ length: benchmarks }, (_, b) => [`b${b}`, { latency: { value: value(0) + (b % 3) }, throughput: { value: value(1) + (b % 3) } }]));

  /** Stores one report on `branch` through storeResults, counting the statements it sends. */
  async function store(branch: string, body: BenchmarkResults, thresholds = false): Promise<StoredResults & { statements: number }> {
    return stack.db.transaction(async (trx) => {
      const report = await jsonReport(trx, stack.project.id, branch, {
        thresholds: thresholds ? ['latency', 'throughput'].map((measure) => ({ measure, test: 't_test' as const, upper_boundary: 0.99 })) : undefined,
      });
      let statements = 0;
      const count = () => statements++;
      stack.db.on('query', count);
      try {
        return { ...(await storeResults(trx, report, body)), statements };
      } finally {
        stack.db.off('query', count);
      }
    });
  }

  /** A history that steps from 100 to 130 halfway, then a report far above it: every path writes. */
  async function judgedReport(branch: string, benchmarks: number) {
    const noise = [0, 0.8, -0.6, 0.3, -0.9, 0.5, -0.2, 0.7, -0.4, 0.1];
    for (let i = 0; i < noise.length; i++) {
      const level = i < 5 ? 100 : 130;
      await store(branch, results(benchmarks, (m) => level * (m + 1) + noise[i]), i === 0);
    }
    return store(branch, results(benchmarks, (m) => 400 * (m + 1)));
  }

  it('sends as many statements for 100 benchmarks as for 5, and a handful in all', async () => {
    const few = await judgedReport('few', 5);
    const many = await judgedReport('many', 100);

    // Every kind of write happened, for every metric.
    expect(few).toMatchObject({ metrics: 10, boundaries: 10, alerts: 10 });
    expect(many).toMatchObject({ metrics: 200, boundaries: 200, alerts: 200 });
    expect(few.change_points).toBeGreaterThanOrEqual(10);
    expect(many.change_points).toBeGreaterThanOrEqual(200);

    // JIT off: 1, upserts of benchmarks and measures: 2, their ids: 2, branch history: 1,
    // thresholds: 2, the points series keep on their rows: 1 (and history from the metrics for
    // series whose rows cannot give it: 1), window sums: 1, metrics: 1, series lock and sums: 2,
    // boundaries: 1, alerts: 1, change points: an upsert and a read (and a delete when one goes).
    expect(many.statements).toBe(few.statements);
    expect(many.statements).toBeLessThanOrEqual(18);
  });

  it('reads a series missing from the newest reports from older ones: its history is its own newest metrics, not the newest reports\'', async () => {
    // 5 reports with "sparse", then 120 without it (more than any threshold here reads), then one with it.
    const sparse = [10, 11, 12, 13, 14];
    for (const [i, v] of sparse.entries()) await store('sparse', { sparse: { latency: { value: v } }, dense: { latency: { value: 50 } } }, i === 0);
    for (let i = 0; i < 120; i++) await store('sparse', { dense: { latency: { value: 50 + (i % 2) } } });
    let judged: { name: string; previous_value: number | null; baseline: number | null }[] = [];
    await stack.db.transaction(async (trx) => {
      const report = await jsonReport(trx, stack.project.id, 'sparse');
      await storeResults(trx, report, { sparse: { latency: { value: 15 } }, dense: { latency: { value: 50 } } });
      judged = await trx('metric')
        .join('benchmark', 'benchmark.id', 'metric.benchmark_id')
        .leftJoin('boundary', 'boundary.metric_id', 'metric.id')
        .where('metric.report_id', report.id)
        .select('benchmark.name', 'metric.previous_value', 'boundary.baseline');
    });
    const byName = Object.fromEntries(judged.map((m) => [m.name, m]));
    expect(byName.sparse).toMatchObject({ previous_value: 14, baseline: 12 });
    // All 125 of its metrics: 5 × 50, then 50 and 51 in turn.
    expect(byName.dense.previous_value).toBe(51);
    expect(byName.dense.baseline).toBeCloseTo((5 * 50 + 60 * 50 + 60 * 51) / 125, 10);
  });

  it('keeps the statements bounded past 1,000 rows, where a multi-row VALUES would need more than one statement', async () => {
    const big = await store('big', results(1200, (m) => 100 * (m + 1)), true);
    const small = await store('small', results(10, (m) => 100 * (m + 1)), true);
    expect(big).toMatchObject({ metrics: 2400, boundaries: 2400 });
    // 2,400 metrics and boundaries: still one statement each (rows travel as one JSON parameter).
    expect(big.statements).toBe(small.statements);
  });
});
