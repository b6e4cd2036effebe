import type { Knex } from 'knex';
import type { JobStatus } from '../common/contracts';
import type { JobRow } from './rows';

/** A job as lists show it: with its project's and runner's slugs. */
export type JobSummaryRow = JobRow & { project_slug: string; runner_slug: string | null };

export interface JobFilter {
  projectId?: string;
  pipelineId?: string;
  statuses?: JobStatus[];
  /** Created at or after. */
  since?: Date;
  /** Created before. */
  until?: Date;
}

/** Jobs with their project and runner slugs, in one query, narrowed by `filter`; sort and paginate it. */
export function jobSummariesQuery(db: Knex, filter: JobFilter): Knex.QueryBuilder {
  const query = db('job')
    .join('project', 'project.id', 'job.project_id')
    .leftJoin('runner', 'runner.id', 'job.runner_id')
    .select('job.*', 'project.slug as project_slug', 'runner.slug as runner_slug');
  if (filter.projectId) query.where('job.project_id', filter.projectId);
  if (filter.pipelineId) query.where('job.pipeline_id', filter.pipelineId);
  if (filter.statuses) query.whereIn('job.status', filter.statuses);
  if (filter.since) query.where('job.created_at', '>=', filter.since);
  if (filter.until) query.where('job.created_at', '<', filter.until);
  return query;
}
