import type { ReportRequest } from '../../db/reports';
import { storeResults } from '../../db/results';
import { backfillSeriesSums } from '../../migrations/013_series_sums';
import { evaluateThreshold, type ThresholdModel } from '../../results/thresholds';
import { jsonReport } from '../harness/reports';
import { Stack } from '../harness/stack';

/**
 * Thresholds over long windows are judged from running sums (db/series-sums.ts) instead of the
 * window's points. These tests hold the sums to a from-scratch computation: the sums themselves,
 * after in-order and backdated reports and after the migration's backfill, and the boundaries
 * judged from them against evaluateThreshold over the history's values.
 */
describe('running sums of metric series', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.start();
  });
  afterAll(() => stack?.stop());

  const MEASURES = ['latency', 'throughput', 'instructions', 'cycles'] as const;
  const BENCHMARKS = ['a', 'b'] as const;
  /** Windows longer than the detector's 99 points, so every one is judged from the sums. */
  const MODELS: Record<(typeof MEASURES)[number], ThresholdModel & { window?: number }> = {
    latency: { test: 't_test', lower_boundary: 0.9, upper_boundary: 0.99 },
    throughput: { test: 'log_normal', upper_boundary: 0.95, max_sample_size: 110 },
    // The newest 100 minutes of a 130-minute history.
    instructions: { test: 'z_score', upper_boundary: 0.95, min_sample_size: 3, window: 6000 },
    // Order statistics: judged from the newest points, which a series keeps on its row.
    cycles: { test: 'iqr', lower_boundary: 1.5, upper_boundary: 1.5, max_sample_size: 40 },
  };
  const T0 = Date.now() - 24 * 3600_000;
  const at = (minute: number) => new Date(T0 + minute * 60_000);
  /** A value per (series, minute): a few levels, noise, and a zero (no logarithm) early in b's throughput. */
  const value = (benchmark: string, measure: string, minute: number) =>
    benchmark === 'b' && measure === 'throughput' && minute === 5
      ? 0
      : (benchmark === 'a' ? 100 : 3e6) * (MEASURES.indexOf(measure as never) + 1) * (1 + 0.01 * Math.sin(minute * 1.7) + (minute > 70 ? 0.05 : 0));

  interface Stored {
    branch: string;
    minute: number;
    start: Date;
    reportId: string;
  }
  const stored: Stored[] = [];

  async function store(branch: string, minute: number, extra: Partial<ReportRequest> = {}): Promise<Stored> {
    return stack.db.transaction(async (trx) => {
      const report = await jsonReport(trx, stack.project.id, branch, { startTime: at(minute), ...extra });
      const results = Object.fromEntries(BENCHMARKS.map((b) => [b, Object.fromEntries(MEASURES.map((m) => [m, { value: value(b, m, minute) }]))]));
      await storeResults(trx, report, results);
      const s = { branch, minute, start: report.start_time, reportId: report.id };
      stored.push(s);
      return s;
    });
  }

  /** The boundaries written for a report, by "benchmark/measure". */
  async function boundariesOf(reportId: string): Promise<Map<string, { baseline: number | null; lower_limit: number | null; upper_limit: number | null; skipped: string | null }>> {
    const rows = await stack.db('boundary')
      .join('metric', 'metric.id', 'boundary.metric_id')
      .join('benchmark', 'benchmark.id', 'metric.benchmark_id')
      .join('measure', 'measure.id', 'metric.measure_id')
      .where('metric.report_id', reportId)
      .select('benchmark.name', 'measure.slug', 'boundary.baseline', 'boundary.lower_limit', 'boundary.upper_limit', 'boundary.skipped');
    return new Map(rows.map((r) => [`${r.name}/${r.slug}`, r]));
  }

  /** What evaluateThreshold makes of `history` (minutes, any order), newest last by time. */
  function expected(history: readonly Stored[], judged: Stored, benchmark: string, measure: (typeof MEASURES)[number]) {
    const model = MODELS[measure];
    const since = model.window ? judged.start.getTime() - model.window * 1000 : -Infinity;
    const values = [...history]
      .filter((h) => h.start.getTime() >= since)
      .sort((x, y) => x.start.getTime() - y.start.getTime())
      .map((h) => value(benchmark, measure, h.minute));
    return evaluateThreshold(values, model, value(benchmark, measure, judged.minute));
  }

  function expectClose(actual: number | null | undefined, wanted: number | undefined) {
    if (wanted === undefined) return expect(actual ?? undefined).toBeUndefined();
    expect(Math.abs(actual! - wanted)).toBeLessThanOrEqual(1e-9 * Math.abs(wanted));
  }

  async function expectJudgedAsPoints(judged: Stored, history: readonly Stored[]) {
    const written = await boundariesOf(judged.reportId);
    for (const b of BENCHMARKS) {
      for (const m of MEASURES) {
        const want = expected(history, judged, b, m);
        const got = written.get(`${b}/${m}`)!;
        expect({ series: `${b}/${m}`, skipped: got.skipped }).toEqual({ series: `${b}/${m}`, skipped: want.skipped ?? null });
        expectClose(got.baseline, want.baseline);
        expectClose(got.lower_limit, want.lower_limit);
        expectClose(got.upper_limit, want.upper_limit);
      }
    }
  }

  /** Every series_sum row of the project's series, as Postgres prints it, by metric id. */
  async function sumRows(): Promise<Map<string, Record<string, string>>> {
    const { rows } = await stack.db.raw(
      `select ss.metric_id, ss.rank::text, ss.value_sum::text, ss.square_sum::text, ss.log_sum::text, ss.log_square_sum::text, ss.nonpositive::text
       from series_sum ss join series s on s.id = ss.series_id join branch on branch.id = s.branch_id where branch.project_id = ?`,
      [stack.project.id],
    );
    return new Map(rows.map((r: Record<string, string>) => [r.metric_id, r]));
  }

  it('judges whole-history, long and time windows from the sums as evaluateThreshold judges the points, in and out of order', async () => {
    await store('main', 0, { thresholds: MEASURES.map((measure) => ({ measure, ...MODELS[measure] })) });
    // 130 reports a minute apart, minutes 60 and 90 stored last: backdated, they shift the sums of
    // newer ones and drop the points the series keep on their rows; 131 rebuilds those, 132 reads them.
    const order = [...Array.from({ length: 130 }, (_, i) => i + 1).filter((i) => i !== 60 && i !== 90), 60, 90, 131, 132];
    for (const minute of order) await store('main', minute);

    // Each report was judged on the reports stored before it that started before it.
    for (const [k, judged] of stored.entries()) {
      if (k % 7 !== 0 && k < stored.length - 4) continue; // a sample, and the last ones (the backdated two among them)
      await expectJudgedAsPoints(
        judged,
        stored.slice(0, k).filter((h) => h.start < judged.start),
      );
    }
  });

  it('keeps sums equal to a from-scratch computation, and the backfill makes the same rows', async () => {
    const rows: { metric_id: string; series_id: string; value: number }[] = await stack.db('series_sum')
      .join('metric', 'metric.id', 'series_sum.metric_id')
      .join('report', 'report.id', 'metric.report_id')
      .join('series', 'series.id', 'series_sum.series_id')
      .join('branch', 'branch.id', 'series.branch_id')
      .where('branch.project_id', stack.project.id)
      .orderBy(['series_sum.series_id', 'report.start_time', 'report.created_at', 'report.id'])
      .select('series_sum.metric_id', 'series_sum.series_id', 'metric.value');
    const sums = await sumRows();
    expect(sums.size).toBe(stored.length * BENCHMARKS.length * MEASURES.length);
    let previous: string | undefined;
    let running = { rank: 0, value: 0, square: 0, log: 0, logSquare: 0, nonpositive: 0 };
    for (const row of rows) {
      if (row.series_id !== previous) running = { rank: 0, value: 0, square: 0, log: 0, logSquare: 0, nonpositive: 0 };
      previous = row.series_id;
      const x = row.value;
      const l = x > 0 ? Math.log(x) : 0;
      running = { rank: running.rank + 1, value: running.value + x, square: running.square + x * x, log: running.log + l, logSquare: running.logSquare + l * l, nonpositive: running.nonpositive + (x > 0 ? 0 : 1) };
      const s = sums.get(row.metric_id)!;
      expect(Number(s.rank)).toBe(running.rank);
      expect(Number(s.nonpositive)).toBe(running.nonpositive);
      for (const [column, want] of [['value_sum', running.value], ['square_sum', running.square], ['log_sum', running.log], ['log_square_sum', running.logSquare]] as const) {
        expect(Math.abs(Number(s[column]) - want)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(want)));
      }
    }

    // The newest points each series keeps on its row: the last 99 of it.
    const kept = async (): Promise<{ id: string; key: string; recent_ids: string[]; recent_values: number[] }[]> =>
      (
        await stack.db('series')
          .join('branch', 'branch.id', 'series.branch_id')
          .where('branch.project_id', stack.project.id)
          .select('series.id', stack.db.raw("concat_ws('/', series.branch_id, series.benchmark_id, series.measure_id) as key"), 'series.recent_ids', 'series.recent_values')
      ).sort((x, y) => (x.key < y.key ? -1 : 1));
    const keptNow = await kept();
    for (const series of keptNow) {
      const newest = rows.filter((r) => r.series_id === series.id).slice(-99);
      expect(series.recent_ids).toEqual(newest.map((r) => r.metric_id));
      expect(series.recent_values).toEqual(newest.map((r) => r.value));
    }

    // The migration's backfill, from the metrics alone: the very same numbers, digit for digit.
    const branches: { id: string }[] = await stack.db('branch').where({ project_id: stack.project.id }).select('id');
    await stack.db('series').whereIn('branch_id', branches.map((b) => b.id)).delete();
    for (const branch of branches) await backfillSeriesSums(stack.db, branch.id);
    expect(await sumRows()).toEqual(sums);
    expect((await kept()).map((k) => [k.key, k.recent_ids, k.recent_values])).toEqual(keptNow.map((k) => [k.key, k.recent_ids, k.recent_values]));
  });

  it('judges a forked branch from its start point\'s sums, and point by point once a backdated report makes the segments overlap', async () => {
    const parent = stored.filter((s) => s.branch === 'main');
    // Forked now: main's reports all started before the fork.
    const first = await store('feature', 200, { start_point: 'main', start_point_clone_thresholds: true });
    await expectJudgedAsPoints(first, parent);

    // Backdated to before main's newest reports: time order is no longer the segments' order.
    const backdated = await store('feature', 100.5);
    await expectJudgedAsPoints(backdated, parent.filter((h) => h.start < backdated.start));
    const next = await store('feature', 201);
    await expectJudgedAsPoints(next, [...parent, first, backdated]);
  });
});
