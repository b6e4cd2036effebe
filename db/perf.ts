import type { Knex } from 'knex';
import type { BenchmarkTableQuery } from '../common/schemas/perf';
import { isUuid } from './refs';

/** Reads behind the console's benchmarks table and plots: a fixed number of statements, whatever the number of series. */

export interface BenchmarkTableRowDb {
  benchmark: string;
  measure: string;
  units: string;
  value: number;
  report_id: string;
  start_time: Date;
  baseline: number | null;
  change_percent: number | null;
  lower_limit: number | null;
  upper_limit: number | null;
  sparkline: number[];
  alert_side: 'lower' | 'upper' | null;
  alert_status: 'active' | 'dismissed' | 'silenced' | null;
  active_alerts: number;
  change_point_report: string | null;
  change_point_percent: number | null;
}

const ORDER: Record<BenchmarkTableQuery['sort'], string> = {
  benchmark: 'benchmark',
  measure: 'measure',
  value: 'value',
  change: 'change_percent',
  alerts: 'active_alerts',
  updated: 'start_time',
};

/** `text` as a LIKE pattern matching itself anywhere: its wildcards escaped. */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * One page of the benchmarks table of a branch + testbed, and how many series it has, in one
 * statement. The table covers the newest `reports` reports (found on report's branch + testbed +
 * time index): their metrics (by metric's report index) give each series' newest value, sparkline,
 * alerts and change points, so the work grows with reports × series per report, not with history.
 */
export async function benchmarkTable(
  db: Knex,
  s: { branchId: string; testbedId: string; reports: number; q?: string; sort: BenchmarkTableQuery['sort']; order: 'asc' | 'desc'; limit: number; offset: number },
): Promise<{ rows: BenchmarkTableRowDb[]; total: number }> {
  const direction = s.order === 'desc' ? 'DESC' : 'ASC';
  const { rows } = await db.raw(
    `WITH recent AS (
       SELECT id, start_time, created_at FROM report
       WHERE branch_id = :branch AND testbed_id = :testbed
       ORDER BY start_time DESC, created_at DESC
       LIMIT :reports
     ), points AS (
       SELECT m.id, m.benchmark_id, m.measure_id, m.value, m.previous_value, r.id AS report_id, r.start_time,
              row_number() OVER (PARTITION BY m.benchmark_id, m.measure_id ORDER BY r.start_time DESC, r.created_at DESC) AS age
       FROM recent r JOIN metric m ON m.report_id = r.id
     ), series AS (
       SELECT p.benchmark_id, p.measure_id,
              array_agg(p.value ORDER BY p.age DESC) AS sparkline,
              count(a.id) FILTER (WHERE a.status = 'active')::int AS active_alerts,
              (array_agg(p.report_id ORDER BY p.age) FILTER (WHERE cp.id IS NOT NULL))[1] AS change_point_report,
              (array_agg(cp.percent_change ORDER BY p.age) FILTER (WHERE cp.id IS NOT NULL))[1] AS change_point_percent
       FROM points p
       LEFT JOIN alert a ON a.metric_id = p.id
       LEFT JOIN change_point cp ON cp.metric_id = p.id AND cp.branch_id = :branch AND cp.testbed_id = :testbed
       GROUP BY p.benchmark_id, p.measure_id
     ), listed AS (
       SELECT b.name AS benchmark, ms.slug AS measure, ms.units, l.value, l.report_id, l.start_time,
              coalesce(bd.baseline, l.previous_value) AS baseline,
              (l.value / NULLIF(coalesce(bd.baseline, l.previous_value), 0) - 1) * 100 AS change_percent,
              bd.lower_limit, bd.upper_limit, s.sparkline, la.side AS alert_side, la.status AS alert_status,
              s.active_alerts, s.change_point_report, s.change_point_percent
       FROM series s
       JOIN points l ON l.benchmark_id = s.benchmark_id AND l.measure_id = s.measure_id AND l.age = 1
       JOIN benchmark b ON b.id = s.benchmark_id
       JOIN measure ms ON ms.id = s.measure_id
       LEFT JOIN boundary bd ON bd.metric_id = l.id
       LEFT JOIN alert la ON la.metric_id = l.id
       ${s.q ? "WHERE b.name ILIKE :q ESCAPE '\\'" : ''}
     )
     SELECT listed.*, count(*) OVER () AS total FROM listed
     ORDER BY ${ORDER[s.sort]} ${direction} NULLS LAST, benchmark, measure
     LIMIT :limit OFFSET :offset`,
    { branch: s.branchId, testbed: s.testbedId, reports: s.reports, limit: s.limit, offset: s.offset, ...(s.q ? { q: containing(s.q) } : {}) },
  );
  const total = rows.length ? Number(rows[0].total) : await benchmarkTableCount(db, s);
  return { rows, total };
}

/** The count alone, for a page past the end (the window count above comes with rows only). */
async function benchmarkTableCount(db: Knex, s: { branchId: string; testbedId: string; reports: number; q?: string }): Promise<number> {
  const { rows } = await db.raw(
    `SELECT count(DISTINCT (m.benchmark_id, m.measure_id))::int AS total
     FROM (SELECT id FROM report WHERE branch_id = :branch AND testbed_id = :testbed ORDER BY start_time DESC, created_at DESC LIMIT :reports) r
     JOIN metric m ON m.report_id = r.id
     JOIN benchmark b ON b.id = m.benchmark_id
     ${s.q ? "WHERE b.name ILIKE :q ESCAPE '\\'" : ''}`,
    { branch: s.branchId, testbed: s.testbedId, reports: s.reports, ...(s.q ? { q: containing(s.q) } : {}) },
  );
  return rows[0].total;
}

export interface PlotPointRow {
  branch_id: string;
  testbed_id: string;
  benchmark_id: string;
  measure_id: string;
  start_time: Date;
  value: number;
  report_id: string;
  job_id: string | null;
  image_digest: string | null;
  lower_limit: number | null;
  upper_limit: number | null;
  alert_id: string | null;
  alert_side: 'lower' | 'upper' | null;
  alert_status: 'active' | 'dismissed' | 'silenced' | null;
  alert_limit: number | null;
  change_point_id: string | null;
  percent_change: number | null;
}

/**
 * Every point of the chosen series (each branch's own reports, in time order) in one statement:
 * the cross product of the given branches, testbeds, benchmarks and measures, with each point's
 * boundary, alert and change point.
 */
export function plotPoints(
  db: Knex,
  s: { branchIds: string[]; testbedIds: string[]; benchmarkIds: string[]; measureIds: string[]; startTime?: Date; endTime?: Date },
): Promise<PlotPointRow[]> {
  return db('metric')
    .join('report', 'report.id', 'metric.report_id')
    .leftJoin('job', 'job.report_id', 'report.id')
    .leftJoin('boundary', 'boundary.metric_id', 'metric.id')
    .leftJoin('alert', 'alert.metric_id', 'metric.id')
    .leftJoin('change_point', (j) =>
      j.on('change_point.metric_id', 'metric.id').andOn('change_point.branch_id', 'report.branch_id').andOn('change_point.testbed_id', 'report.testbed_id'),
    )
    .whereIn('metric.benchmark_id', s.benchmarkIds)
    .whereIn('metric.measure_id', s.measureIds)
    .whereIn('report.branch_id', s.branchIds)
    .whereIn('report.testbed_id', s.testbedIds)
    .modify((qb) => (s.startTime ? qb.where('report.start_time', '>=', s.startTime) : qb))
    .modify((qb) => (s.endTime ? qb.where('report.start_time', '<', s.endTime) : qb))
    .orderBy(['report.branch_id', 'report.testbed_id', 'metric.benchmark_id', 'metric.measure_id', 'report.start_time', 'report.created_at', 'metric.id'])
    .select(
      'report.branch_id',
      'report.testbed_id',
      'metric.benchmark_id',
      'metric.measure_id',
      'report.start_time',
      'metric.value',
      'report.id as report_id',
      'job.id as job_id',
      'report.image_digest',
      'boundary.lower_limit',
      'boundary.upper_limit',
      'alert.id as alert_id',
      'alert.side as alert_side',
      'alert.status as alert_status',
      'alert.limit as alert_limit',
      'change_point.id as change_point_id',
      'change_point.percent_change',
    );
}

/** A project's branches, testbeds, benchmarks or measures by reference (UUID, or slug / benchmark name), in one query. */
export function seriesParts(db: Knex, table: 'branch' | 'testbed' | 'benchmark' | 'measure', projectId: string, refs: string[]): Promise<Array<{ id: string; name: string; units?: string }>> {
  const label = table === 'benchmark' ? 'name' : 'slug';
  return db(table)
    .where({ project_id: projectId })
    .where((q) => q.whereIn(label, refs).orWhereIn('id', refs.filter(isUuid)))
    .select('id', `${label} as name`, ...(table === 'measure' ? ['units'] : []));
}
