import type { Knex } from 'knex';
import { MAX_HISTORY } from '../common/schemas/results';
import { detectChangePoints } from '../results/change-points';
import { isIgnoredBenchmark } from '../results/iterations';
import { evaluateThreshold } from '../results/thresholds';
import type { BenchmarkResults } from '../results/types';
import { resolveSeries, writeMetrics, type WrittenMetric } from './metrics';
import { historySegments, inSegments, type HistorySegment } from './reports';
import type { ResultsReportRow } from './result-rows';
import { currentThresholds, modelOf } from './thresholds';

/**
 * Judging a report's results: metrics, then for each the boundaries its threshold's model computes
 * from the metric's history, an alert when the value falls outside them, and the change points of
 * the metric's series. Runs in the caller's transaction — for a job, the one that moves it to
 * `processed` — so a report is never seen half-judged.
 *
 * History of a metric: the metrics of the same benchmark and measure on the same testbed, of
 * reports on the same branch that started before this one (and since the branch's last reset), then
 * of the branch's start point before the fork, up the start-point chain; newest MAX_HISTORY only.
 * A threshold's window and max sample size narrow it further.
 */

export interface StoredResults {
  metrics: number;
  boundaries: number;
  alerts: number;
  change_points: number;
}

export interface SeriesPoint {
  metric_id: string;
  report_id: string;
  branch_id: string;
  start_time: Date;
  value: number;
}

/** A change point needs this many metrics after it: a single odd value is an outlier, for thresholds to judge. */
const MIN_POINTS_AFTER_CHANGE = 2;
/** Shortest series the change-point detector runs on. */
const MIN_CHANGE_POINT_SERIES = 4;

const seriesKey = (benchmarkId: string, measureId: string) => `${benchmarkId}:${measureId}`;

/** The newest MAX_HISTORY metrics of each (benchmark, measure) series, oldest first. */
async function seriesHistory(
  db: Knex,
  o: { testbedId: string; segments: readonly HistorySegment[]; excludeReportId?: string; pairs: readonly { benchmark_id: string; measure_id: string }[] },
): Promise<Map<string, SeriesPoint[]>> {
  const series = new Map<string, SeriesPoint[]>();
  if (o.pairs.length === 0 || o.segments.length === 0) return series;
  const wanted = new Set(o.pairs.map((p) => seriesKey(p.benchmark_id, p.measure_id)));
  const inner = db('metric')
    .join('report', 'report.id', 'metric.report_id')
    .where('report.testbed_id', o.testbedId)
    .whereIn('metric.benchmark_id', [...new Set(o.pairs.map((p) => p.benchmark_id))])
    .whereIn('metric.measure_id', [...new Set(o.pairs.map((p) => p.measure_id))])
    .modify((q) => (o.excludeReportId ? q.whereNot('report.id', o.excludeReportId) : q))
    .modify((q) => inSegments(q, o.segments))
    .select(
      'metric.id as metric_id',
      'metric.benchmark_id',
      'metric.measure_id',
      'metric.value',
      'report.id as report_id',
      'report.branch_id',
      'report.start_time',
      'report.created_at',
      db.raw('row_number() over (partition by metric.benchmark_id, metric.measure_id order by report.start_time desc, report.created_at desc, metric.id desc) as rn'),
    );
  const rows = await db
    .from(inner.as('h'))
    .where('rn', '<=', MAX_HISTORY)
    .orderBy([{ column: 'start_time' }, { column: 'created_at' }, { column: 'metric_id' }]);
  for (const row of rows) {
    const key = seriesKey(row.benchmark_id, row.measure_id);
    if (!wanted.has(key)) continue;
    const list = series.get(key) ?? [];
    list.push({ metric_id: row.metric_id, report_id: row.report_id, branch_id: row.branch_id, start_time: row.start_time, value: row.value });
    series.set(key, list);
  }
  return series;
}

/** Writes the report's metrics and judges them; see the module comment. */
export async function storeResults(trx: Knex.Transaction, report: ResultsReportRow, results: BenchmarkResults): Promise<StoredResults> {
  const series = await resolveSeries(trx, report.project_id, results);
  const segments = await historySegments(trx, report.branch_id, report.start_time);
  const history = await seriesHistory(trx, { testbedId: report.testbed_id, segments, excludeReportId: report.id, pairs: series });
  const previousValue = (r: { benchmark_id: string; measure_id: string }) => history.get(seriesKey(r.benchmark_id, r.measure_id))?.at(-1)?.value ?? null;
  const written = await writeMetrics(trx, report.id, series, previousValue);
  const thresholds = await currentThresholds(trx, report.branch_id, report.testbed_id);
  const stored: StoredResults = { metrics: written.length, boundaries: 0, alerts: 0, change_points: 0 };

  for (const metric of written) {
    const points = history.get(seriesKey(metric.benchmark_id, metric.measure_id)) ?? [];

    const threshold = thresholds.get(metric.measure_id);
    if (threshold) {
      const since = threshold.model.window_seconds ? report.start_time.getTime() - threshold.model.window_seconds * 1000 : -Infinity;
      const samples = points.filter((p) => p.start_time.getTime() >= since).map((p) => p.value);
      const judged = evaluateThreshold(samples, modelOf(threshold.model), metric.value);
      const [boundary] = await trx('boundary')
        .insert({
          metric_id: metric.id,
          threshold_id: threshold.threshold.id,
          model_id: threshold.model.id,
          baseline: judged.baseline ?? null,
          lower_limit: judged.lower_limit ?? null,
          upper_limit: judged.upper_limit ?? null,
          skipped: judged.skipped ?? null,
        })
        .returning('id');
      stored.boundaries++;
      if (judged.alert && !isIgnoredBenchmark(metric.benchmark)) {
        await trx('alert').insert({
          project_id: report.project_id,
          boundary_id: boundary.id,
          metric_id: metric.id,
          threshold_id: threshold.threshold.id,
          model_id: threshold.model.id,
          side: judged.alert,
          limit: judged.alert === 'lower' ? judged.lower_limit : judged.upper_limit,
          value: metric.value,
        });
        stored.alerts++;
      }
    }

    stored.change_points += await updateChangePoints(trx, report, metric, [
      ...points,
      { metric_id: metric.id, report_id: report.id, branch_id: report.branch_id, start_time: report.start_time, value: metric.value },
    ]);
  }
  return stored;
}

/**
 * Runs the detector over the series ending with `metric` and makes the stored change points of the
 * series' metrics what it finds now: new ones inserted, existing ones' statistics refreshed, ones it
 * no longer finds removed. Change points outside this stretch of the series are left alone.
 */
async function updateChangePoints(trx: Knex.Transaction, report: ResultsReportRow, metric: WrittenMetric, series: readonly SeriesPoint[]): Promise<number> {
  if (series.length < MIN_CHANGE_POINT_SERIES) return 0;
  const found = detectChangePoints(series.map((p) => p.value)).filter((cp) => series.length - cp.index >= MIN_POINTS_AFTER_CHANGE);
  const key = { branch_id: report.branch_id, testbed_id: report.testbed_id, benchmark_id: metric.benchmark_id, measure_id: metric.measure_id };
  const now = new Date();
  for (const cp of found) {
    const stats = {
      series_index: cp.index,
      mean_before: cp.mean_before,
      mean_after: cp.mean_after,
      stddev_before: cp.stddev_before,
      stddev_after: cp.stddev_after,
      percent_change: cp.percent_change,
      pvalue: cp.pvalue,
    };
    await trx('change_point')
      .insert({ project_id: report.project_id, ...key, metric_id: series[cp.index].metric_id, ...stats })
      .onConflict(['branch_id', 'testbed_id', 'benchmark_id', 'measure_id', 'metric_id'])
      .merge({ ...stats, modified_at: now });
  }
  const keep = found.map((cp) => series[cp.index].metric_id);
  await trx('change_point')
    .where(key)
    .whereIn('metric_id', series.map((p) => p.metric_id))
    .whereNotIn('metric_id', keep)
    .delete();
  return found.length;
}
