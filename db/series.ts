import type { Knex } from 'knex';
import { bySeriesRefs, type SeriesRefs } from './refs';
import { inSegments, type HistorySegment } from './reports';

/** Reads over metric series for the API: change points and one series' history. */

export interface ChangePointListRow {
  id: string;
  branch: string;
  testbed: string;
  benchmark: string;
  measure: string;
  metric_id: string;
  report_id: string;
  start_time: Date;
  series_index: number;
  mean_before: number;
  mean_after: number;
  stddev_before: number;
  stddev_after: number;
  percent_change: number;
  pvalue: number;
  created_at: Date;
  modified_at: Date;
}

/** A project's change points with their series' names and report, narrowed by `refs`; sort and paginate it. */
export function changePointsQuery(db: Knex, projectId: string, refs: SeriesRefs): Knex.QueryBuilder {
  const query = db('change_point')
    .join('branch', 'branch.id', 'change_point.branch_id')
    .join('testbed', 'testbed.id', 'change_point.testbed_id')
    .join('benchmark', 'benchmark.id', 'change_point.benchmark_id')
    .join('measure', 'measure.id', 'change_point.measure_id')
    .join('metric', 'metric.id', 'change_point.metric_id')
    .join('report', 'report.id', 'metric.report_id')
    .where('change_point.project_id', projectId)
    .select(
      'change_point.*',
      'branch.slug as branch',
      'testbed.slug as testbed',
      'benchmark.name as benchmark',
      'measure.slug as measure',
      'report.id as report_id',
      'report.start_time',
    );
  return bySeriesRefs(query, refs);
}

export interface SeriesSelection {
  /** The branch whose change points are shown (the series' own branch, even where segments reach into its start point). */
  branchId: string;
  testbedId: string;
  benchmarkId: string;
  measureId: string;
  segments: readonly HistorySegment[];
  /** Reports started at or after. */
  startTime?: Date;
  /** Reports started before. */
  endTime?: Date;
}

/** One series' metrics with their job, boundary, alert and change point, one row per metric; sort and paginate it. */
export function seriesHistoryQuery(db: Knex, s: SeriesSelection): Knex.QueryBuilder {
  return db('metric')
    .join('report', 'report.id', 'metric.report_id')
    .join('branch', 'branch.id', 'report.branch_id')
    .leftJoin('job', 'job.report_id', 'report.id')
    .leftJoin('boundary', 'boundary.metric_id', 'metric.id')
    .leftJoin('alert', 'alert.metric_id', 'metric.id')
    .leftJoin('change_point', (j) =>
      j.on('change_point.metric_id', 'metric.id').andOn('change_point.branch_id', db.raw('?', [s.branchId])).andOn('change_point.testbed_id', 'report.testbed_id'),
    )
    .where({ 'report.testbed_id': s.testbedId, 'metric.benchmark_id': s.benchmarkId, 'metric.measure_id': s.measureId })
    .modify((qb) => inSegments(qb, s.segments))
    .modify((qb) => (s.startTime ? qb.where('report.start_time', '>=', s.startTime) : qb))
    .modify((qb) => (s.endTime ? qb.where('report.start_time', '<', s.endTime) : qb))
    .select(
      'metric.id as metric',
      'report.id as report',
      'job.id as job',
      'branch.slug as branch',
      'report.start_time',
      'report.created_at',
      'metric.value',
      'metric.lower_value',
      'metric.upper_value',
      'boundary.threshold_id',
      'boundary.model_id',
      'boundary.baseline',
      'boundary.lower_limit',
      'boundary.upper_limit',
      'boundary.skipped',
      'alert.id as alert_id',
      'alert.side as alert_side',
      'alert.status as alert_status',
      'alert.limit as alert_limit',
      'alert.value as alert_value',
      'change_point.id as change_point_id',
      'change_point.percent_change',
      'change_point.pvalue',
    );
}
