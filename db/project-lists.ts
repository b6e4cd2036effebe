import type { Knex } from 'knex';

/** Lists the console's project pages read: the projects a caller may see, and a project's recent reports. */

/** Public projects and those of the user's organizations, with their organization's slug; sort and paginate it. */
export function readableProjectsQuery(db: Knex, userId: string | undefined): Knex.QueryBuilder {
  return db('project')
    .join('organization', 'organization.id', 'project.organization_id')
    .where((q) => {
      q.where('project.visibility', 'public');
      if (userId) q.orWhereIn('project.organization_id', db('organization_member').where({ user_id: userId }).select('organization_id'));
    })
    .select('project.*', 'organization.slug as organization');
}

export interface ReportListRow {
  id: string;
  branch: string;
  testbed: string;
  adapter: string;
  start_time: Date;
  job_id: string | null;
  job_status: string | null;
  metrics: number;
  active_alerts: number;
  alerts: number;
}

/** A project's reports with their branch, testbed, job, and metric and alert counts (counted per listed report); sort and paginate it. */
export function reportListQuery(db: Knex, projectId: string, filter: { branch?: string; testbed?: string }): Knex.QueryBuilder {
  return db('report')
    .join('branch', 'branch.id', 'report.branch_id')
    .join('testbed', 'testbed.id', 'report.testbed_id')
    .leftJoin('job', 'job.report_id', 'report.id')
    .where('report.project_id', projectId)
    .modify((q) => (filter.branch ? q.where('branch.slug', filter.branch) : q))
    .modify((q) => (filter.testbed ? q.where('testbed.slug', filter.testbed) : q))
    .select(
      'report.id',
      'branch.slug as branch',
      'testbed.slug as testbed',
      'report.adapter',
      'report.start_time',
      'report.created_at',
      'job.id as job_id',
      'job.status as job_status',
      db.raw('(SELECT count(*)::int FROM metric WHERE metric.report_id = report.id) AS metrics'),
      db.raw("(SELECT count(*) FILTER (WHERE alert.status = 'active')::int FROM metric JOIN alert ON alert.metric_id = metric.id WHERE metric.report_id = report.id) AS active_alerts"),
      db.raw('(SELECT count(*)::int FROM metric JOIN alert ON alert.metric_id = metric.id WHERE metric.report_id = report.id) AS alerts'),
    );
}
