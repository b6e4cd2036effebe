import type { Knex } from 'knex';
import type { BenchmarkTableQuery } from '../common/schemas/perf';
import { isUuid } from './refs';
import type { HistorySegment } from './reports';

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
 * One page of the benchmarks table of a branch + testbed, and how many series it has, in two
 * statements: the newest `reports` reports (report's branch + testbed + time index), then their
 * metrics (by metric's report index, the ids given as an array so the planner sees how few they
 * are) grouped into series with each one's newest value, sparkline, alerts and change points. The
 * work grows with reports × series per report, not with the length of the history.
 */
export async function benchmarkTable(
  db: Knex,
  s: { branchId: string; testbedId: string; reports: number; q?: string; sort: BenchmarkTableQuery['sort']; order: 'asc' | 'desc'; limit: number; offset: number },
): Promise<{ rows: BenchmarkTableRowDb[]; total: number }> {
  const recent: { id: string }[] = await db('report')
    .where({ branch_id: s.branchId, testbed_id: s.testbedId })
    .orderBy([{ column: 'start_time', order: 'desc' }, { column: 'created_at', order: 'desc' }])
    .limit(s.reports)
    .select('id');
  if (!recent.length) return { rows: [], total: 0 };
  const direction = s.order === 'desc' ? 'DESC' : 'ASC';
  // A metric's age is its report's place in `recent` (newest first, from 1): no join to report, and
  // one ordered aggregate (the sparkline); the newest metric and the newest change point are found
  // again by their report (recent[age]) through metric's unique report + benchmark + measure index.
  const { rows } = await db.raw(
    `WITH series AS (
       SELECT m.benchmark_id, m.measure_id,
              array_agg(m.value ORDER BY array_position(CAST(:ids AS uuid[]), m.report_id) DESC) AS sparkline,
              min(array_position(CAST(:ids AS uuid[]), m.report_id)) AS latest_age,
              min(array_position(CAST(:ids AS uuid[]), m.report_id)) FILTER (WHERE cp.id IS NOT NULL) AS change_point_age,
              count(*) FILTER (WHERE a.status = 'active')::int AS active_alerts
       FROM metric m
       ${s.q ? "JOIN benchmark fb ON fb.id = m.benchmark_id AND fb.name ILIKE :q ESCAPE '\\'" : ''}
       LEFT JOIN alert a ON a.metric_id = m.id
       LEFT JOIN change_point cp ON cp.metric_id = m.id AND cp.branch_id = :branch AND cp.testbed_id = :testbed
       WHERE m.report_id = ANY(CAST(:ids AS uuid[]))
       GROUP BY m.benchmark_id, m.measure_id
     ), listed AS (
       SELECT b.name AS benchmark, ms.slug AS measure, ms.units, l.value, l.report_id, lr.start_time,
              coalesce(bd.baseline, l.previous_value) AS baseline,
              (l.value / NULLIF(coalesce(bd.baseline, l.previous_value), 0) - 1) * 100 AS change_percent,
              bd.lower_limit, bd.upper_limit, s.sparkline, la.side AS alert_side, la.status AS alert_status,
              s.active_alerts, cm.report_id AS change_point_report, cp.percent_change AS change_point_percent
       FROM series s
       JOIN metric l ON l.report_id = (CAST(:ids AS uuid[]))[s.latest_age] AND l.benchmark_id = s.benchmark_id AND l.measure_id = s.measure_id
       JOIN report lr ON lr.id = l.report_id
       JOIN benchmark b ON b.id = s.benchmark_id
       JOIN measure ms ON ms.id = s.measure_id
       LEFT JOIN boundary bd ON bd.metric_id = l.id
       LEFT JOIN alert la ON la.metric_id = l.id
       LEFT JOIN metric cm ON cm.report_id = (CAST(:ids AS uuid[]))[s.change_point_age] AND cm.benchmark_id = s.benchmark_id AND cm.measure_id = s.measure_id
       LEFT JOIN change_point cp ON cp.metric_id = cm.id AND cp.branch_id = :branch AND cp.testbed_id = :testbed
     )
     SELECT listed.*, count(*) OVER () AS total FROM listed
     ORDER BY ${ORDER[s.sort]} ${direction} NULLS LAST, benchmark, measure
     LIMIT :limit OFFSET :offset`,
    { branch: s.branchId, testbed: s.testbedId, ids: recent.map((r) => r.id), limit: s.limit, offset: s.offset, ...(s.q ? { q: containing(s.q) } : {}) },
  );
  // The window count comes with rows only: a page past the end counts on its own.
  const total = rows.length ? Number(rows[0].total) : s.offset ? await benchmarkTableCount(db, recent, s.q) : 0;
  return { rows, total };
}

async function benchmarkTableCount(db: Knex, recent: { id: string }[], q: string | undefined): Promise<number> {
  const { rows } = await db.raw(
    `SELECT count(DISTINCT (m.benchmark_id, m.measure_id))::int AS total
     FROM metric m JOIN benchmark b ON b.id = m.benchmark_id
     WHERE m.report_id = ANY(CAST(:ids AS uuid[])) ${q ? "AND b.name ILIKE :q ESCAPE '\\'" : ''}`,
    { ids: recent.map((r) => r.id), ...(q ? { q: containing(q) } : {}) },
  );
  return rows[0].total;
}

export interface PlotPointRow {
  /** The plotted branch (a start point's report is a point of each branch whose history it is). */
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
 * Every point of the chosen series in one statement: the cross product of the given branches,
 * testbeds, benchmarks and measures, with each point's boundary, alert and change point. A branch's
 * points are those of its history segments (its own reports, and with its start point the start
 * point's before the fork): the segments join as a VALUES list naming the plotted branch, so one
 * report can belong to two plotted branches (a branch and the branch it started from). Change
 * points are the plotted branch's, as its series detected them.
 */
export function plotPoints(
  db: Knex,
  s: { branches: Array<{ id: string; segments: readonly HistorySegment[] }>; testbedIds: string[]; benchmarkIds: string[]; measureIds: string[]; startTime?: Date; endTime?: Date },
): Promise<PlotPointRow[]> {
  const segments = s.branches.flatMap((b) => b.segments.map((g) => [b.id, g.branchId, g.since, g.until]));
  return db('metric')
    .join('report', 'report.id', 'metric.report_id')
    .joinRaw(
      `JOIN (VALUES ${segments.map(() => '(CAST(? AS uuid), CAST(? AS uuid), CAST(? AS timestamptz), CAST(? AS timestamptz))').join(', ')}) AS segment(plot_branch_id, branch_id, since, until)
         ON report.branch_id = segment.branch_id AND report.start_time < segment.until AND (segment.since IS NULL OR report.start_time >= segment.since)`,
      segments.flat(),
    )
    .leftJoin('job', 'job.report_id', 'report.id')
    .leftJoin('boundary', 'boundary.metric_id', 'metric.id')
    .leftJoin('alert', 'alert.metric_id', 'metric.id')
    .leftJoin('change_point', (j) =>
      j.on('change_point.metric_id', 'metric.id').andOn('change_point.branch_id', 'segment.plot_branch_id').andOn('change_point.testbed_id', 'report.testbed_id'),
    )
    .whereIn('metric.benchmark_id', s.benchmarkIds)
    .whereIn('metric.measure_id', s.measureIds)
    .whereIn('report.testbed_id', s.testbedIds)
    .modify((qb) => (s.startTime ? qb.where('report.start_time', '>=', s.startTime) : qb))
    .modify((qb) => (s.endTime ? qb.where('report.start_time', '<', s.endTime) : qb))
    .orderBy(['segment.plot_branch_id', 'report.testbed_id', 'metric.benchmark_id', 'metric.measure_id', 'report.start_time', 'report.created_at', 'metric.id'])
    .select(
      'segment.plot_branch_id as branch_id',
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
