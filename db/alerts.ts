import type { Knex } from 'knex';
import type { AlertRow, AlertStatus } from './result-rows';
import { bySeriesRefs, type SeriesRefs } from './refs';

/** An alert with what a reader needs to know which series, report and model it belongs to. */
export type AlertListRow = AlertRow & {
  benchmark: string;
  measure: string;
  units: string;
  branch: string;
  testbed: string;
  report_id: string;
  baseline: number | null;
};

export interface AlertFilter extends SeriesRefs {
  statuses?: AlertStatus[];
  reportId?: string;
}

/** A project's alerts, joined for views and narrowed by `filter`; sort and paginate it. */
export function alertsQuery(db: Knex, projectId: string, filter: AlertFilter = {}): Knex.QueryBuilder {
  const query = db('alert')
    .join('metric', 'metric.id', 'alert.metric_id')
    .join('report', 'report.id', 'metric.report_id')
    .join('benchmark', 'benchmark.id', 'metric.benchmark_id')
    .join('measure', 'measure.id', 'metric.measure_id')
    .join('branch', 'branch.id', 'report.branch_id')
    .join('testbed', 'testbed.id', 'report.testbed_id')
    .join('boundary', 'boundary.id', 'alert.boundary_id')
    .where('alert.project_id', projectId)
    .select(
      'alert.*',
      'benchmark.name as benchmark',
      'measure.slug as measure',
      'measure.units',
      'branch.slug as branch',
      'testbed.slug as testbed',
      'report.id as report_id',
      'boundary.baseline',
    );
  if (filter.statuses) query.whereIn('alert.status', filter.statuses);
  if (filter.reportId) query.where('report.id', filter.reportId);
  return bySeriesRefs(query, filter);
}

export function findAlert(db: Knex, projectId: string, alertId: string): Promise<AlertListRow | undefined> {
  return alertsQuery(db, projectId).where('alert.id', alertId).first();
}

/** Sets an alert's status; undefined when the project has no such alert. */
export async function setAlertStatus(db: Knex, projectId: string, alertId: string, status: AlertStatus): Promise<AlertRow | undefined> {
  const [row] = await db<AlertRow>('alert')
    .where({ id: alertId, project_id: projectId })
    .update({ status, modified_at: db.fn.now() as unknown as Date })
    .returning('*');
  return row;
}
