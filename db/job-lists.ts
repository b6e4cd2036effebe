import type { Knex } from 'knex';
import type { JobStatus } from '../common/contracts';
import { MAX_JOB_CURSOR } from '../common/schemas';
import type { JobRow } from './rows';

/** A job as lists show it: with its project's and runner's slugs. */
export type JobSummaryRow = JobRow & { project_slug: string; runner_slug: string | null };

export interface JobFilter {
  projectId?: string;
  pipelineId?: string;
  specId?: string;
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
  if (filter.specId) query.where('job.spec_id', filter.specId);
  if (filter.statuses) query.whereIn('job.status', filter.statuses);
  if (filter.since) query.where('job.created_at', '>=', filter.since);
  if (filter.until) query.where('job.created_at', '<', filter.until);
  return query;
}

/**
 * A project's jobs created or changed since `since` (a cursor from an earlier call: the snapshot it
 * read under, migration 016), at most `limit`, and the cursor to pass next time. Without `since`,
 * only the cursor. Rows and cursor come from one snapshot (a read-only repeatable-read transaction),
 * so the rows are exactly those whose last write the earlier snapshot could not see.
 */
export function jobChangesSince(db: Knex, projectId: string, since: string | undefined, limit: number): Promise<{ cursor: string; rows: JobSummaryRow[] }> {
  return db.transaction(
    async (trx) => {
      const { rows: [{ snapshot, xmin }] } = await trx.raw<{ rows: [{ snapshot: string; xmin: string }] }>(
        'SELECT pg_current_snapshot()::text AS snapshot, pg_snapshot_xmin(pg_current_snapshot())::text AS xmin',
      );
      // A snapshot with very many transactions in progress is longer than a cursor may be: the
      // snapshot that sees nothing from xmin on stands in for it (a job may then come twice, none is lost).
      const cursor = snapshot.length <= MAX_JOB_CURSOR ? snapshot : `${xmin}:${xmin}:`;
      if (since === undefined) return { cursor, rows: [] };
      const rows = await jobSummariesQuery(trx, { projectId })
        // The range bound lets the (project_id, change_xid) index skip every row older than the earlier snapshot.
        .whereRaw('job.change_xid >= pg_snapshot_xmin(?::pg_snapshot) AND NOT pg_visible_in_snapshot(job.change_xid, ?::pg_snapshot)', [since, since])
        .orderBy('job.change_xid')
        .orderBy('job.id')
        .limit(limit);
      return { cursor, rows };
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}
