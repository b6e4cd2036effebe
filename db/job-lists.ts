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

/**
 * A project's jobs created or changed since `since` (a cursor from an earlier call; migration 016
 * says why it is a transaction id), at most `limit`, and the cursor to pass next time. Without
 * `since`, only the cursor. The cursor is read before the rows, in its own statement: a row its
 * snapshot could not see is stamped at or above it, so it comes in the next call, never lost.
 */
export async function jobChangesSince(db: Knex, projectId: string, since: string | undefined, limit: number): Promise<{ cursor: string; rows: JobSummaryRow[] }> {
  const { rows: [{ cursor }] } = await db.raw<{ rows: [{ cursor: string }] }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS cursor');
  if (since === undefined) return { cursor, rows: [] };
  const rows = await jobSummariesQuery(db, { projectId })
    .where('job.change_xid', '>=', db.raw('?::xid8', [since]))
    .orderBy('job.change_xid')
    .orderBy('job.id')
    .limit(limit);
  return { cursor, rows };
}
