import type { Knex } from 'knex';
import { JOB_STATUSES, isTerminal, sourcesOf, type PipelineOutcome, type PipelineStatus, type UnstartedJob } from '../common/contracts';
import { jobSummariesQuery, type JobSummaryRow } from './job-lists';
import { holdJobUntilCommit, waitForSubmission } from './jobs';
import type { JobRow, PipelineEdgeRow, PipelineRow, ProjectRow } from './rows';
import { insertJobs, type Submission } from './submissions';

export interface PipelineSubmission {
  project: ProjectRow;
  idempotencyKey: string | null;
  /** Null for a scheduled pipeline whose schedule's creator was deleted. */
  submittedBy: string | null;
  maxParallel: number | null;
  /** Each job checked as a single run's would be; `key` is unique in the pipeline. */
  jobs: (Omit<Submission, 'project' | 'gateScope'> & { key: string })[];
  /** `job` needs `needs` (indices into `jobs`). */
  edges: { job: number; needs: number; requiresSuccess: boolean }[];
}

/** Another submission with the same idempotency key wrote its pipeline first: return that one. */
export class DuplicatePipeline extends Error {
  constructor() {
    super('another pipeline with this idempotency key was written first');
  }
}

export async function getPipeline(db: Knex, id: string): Promise<PipelineRow | undefined> {
  return db<PipelineRow>('pipeline').where({ id }).first();
}

/** The pipeline's jobs, as written, with their keys. */
export async function pipelineJobRows(db: Knex, pipelineId: string): Promise<JobRow[]> {
  return db<JobRow>('job').where({ pipeline_id: pipelineId });
}

export async function pipelineByIdempotencyKey(db: Knex, projectId: string, key: string | undefined): Promise<PipelineRow | undefined> {
  return key ? db<PipelineRow>('pipeline').where({ project_id: projectId, idempotency_key: key }).first() : undefined;
}

/**
 * Writes a checked pipeline in one transaction: the pipeline, each job with its report (as a single
 * run writes it), and the edges. `beforeCommit` runs last, inside the transaction (the api starts the
 * pipeline's workflow there, whose first activity waits for this commit: pipelineCommitted).
 */
export async function writePipeline(db: Knex, p: PipelineSubmission, beforeCommit: (pipeline: PipelineRow, jobs: JobRow[]) => Promise<void>): Promise<{ pipeline: PipelineRow; jobs: JobRow[] }> {
  return db.transaction(async (trx) => {
    const [pipeline] = await trx<PipelineRow>('pipeline')
      .insert({ project_id: p.project.id, organization_id: p.project.organization_id, idempotency_key: p.idempotencyKey, submitted_by: p.submittedBy, max_parallel: p.maxParallel })
      .onConflict(['project_id', 'idempotency_key'])
      .ignore()
      .returning('*');
    if (!pipeline) throw new DuplicatePipeline();
    await holdJobUntilCommit(trx, pipeline.id);
    // Pipeline jobs carry no idempotency key of their own: none is refused.
    const jobs = (await insertJobs(trx, p.project, p.jobs.map(({ key, ...s }) => ({ s, extra: { pipeline_id: pipeline.id, pipeline_key: key } })))) as JobRow[];
    if (p.edges.length) {
      await trx<PipelineEdgeRow>('pipeline_edge').insert(
        p.edges.map((e) => ({ pipeline_id: pipeline.id, job_id: jobs[e.job].id, needs_job_id: jobs[e.needs].id, requires_success: e.requiresSuccess })),
      );
    }
    await beforeCommit(pipeline, jobs);
    return { pipeline, jobs };
  });
}

/** True once the submission that wrote the pipeline committed; false when it rolled back. */
export async function committedPipeline(db: Knex, id: string): Promise<boolean> {
  if (await getPipeline(db, id)) return true;
  await waitForSubmission(db, id);
  return Boolean(await getPipeline(db, id));
}

/**
 * Moves jobs that never started from pending to `to` (skipped or canceled), each with its reason, in
 * one statement. Conditional on the status: a job that ended meanwhile keeps how it ended.
 */
export async function settleUnstartedJobs(db: Knex, jobs: UnstartedJob[], to: 'skipped' | 'canceled'): Promise<void> {
  await db.raw(
    `UPDATE job SET status = ?, error = u.reason, finished_at = now()
       FROM unnest(?::uuid[], ?::text[]) AS u(id, reason)
      WHERE job.id = u.id AND job.status = ANY(?::text[])`,
    [to, jobs.map((j) => j.jobId), jobs.map((j) => j.reason), sourcesOf(to)],
  );
}

/** The pipeline's outcome, written once: a repeat (an activity retry) changes nothing. */
export async function finishPipeline(db: Knex, id: string, outcome: PipelineOutcome): Promise<void> {
  await db<PipelineRow>('pipeline')
    .where({ id, status: 'running' })
    .update({ status: outcome.status, counts: outcome.counts, finished_at: db.fn.now() as unknown as Date, paused_at: null });
}

/** Running pipelines created before `before`, oldest first: the reconciler's candidates. */
export async function runningPipelinesBefore(db: Knex, before: Date, limit: number): Promise<string[]> {
  const rows = await db<PipelineRow>('pipeline').where({ status: 'running' }).where('created_at', '<', before).orderBy('created_at').limit(limit).select('id');
  return rows.map((r) => r.id);
}

const OPEN_JOB_STATUSES = JOB_STATUSES.filter((s) => !isTerminal(s));

/** The pipeline's jobs that have not ended. */
export async function openPipelineJobs(db: Knex, pipelineId: string): Promise<string[]> {
  const rows = await db<JobRow>('job').where({ pipeline_id: pipelineId }).whereIn('status', OPEN_JOB_STATUSES).select('id');
  return rows.map((r) => r.id);
}

/**
 * Ends a pipeline whose workflow ended without doing so, with the counts its job rows hold:
 * `succeeded` when every job processed, else `canceled` if an operator stopped it, else `failed`.
 * One statement, conditional on the pipeline still running and on none of its jobs being open (a
 * job settled meanwhile cannot be missed from the counts). True when it ended the pipeline.
 */
export async function finishOrphanedPipeline(db: Knex, id: string, stoppedByOperator: boolean): Promise<boolean> {
  const { rowCount } = await db.raw(
    `UPDATE pipeline SET
        status = CASE WHEN c.processed = c.total THEN 'succeeded' WHEN ?::boolean THEN 'canceled' ELSE 'failed' END,
        counts = jsonb_build_object('processed', c.processed, 'failed', c.failed, 'canceled', c.canceled, 'skipped', c.skipped),
        finished_at = now()
       FROM (SELECT count(*) AS total,
                    count(*) FILTER (WHERE status = 'processed') AS processed,
                    count(*) FILTER (WHERE status = 'failed') AS failed,
                    count(*) FILTER (WHERE status = 'canceled') AS canceled,
                    count(*) FILTER (WHERE status = 'skipped') AS skipped
               FROM job WHERE pipeline_id = ?) AS c
      WHERE pipeline.id = ? AND pipeline.status = 'running'
        AND NOT EXISTS (SELECT 1 FROM job WHERE pipeline_id = ? AND status = ANY(?::text[]))`,
    [stoppedByOperator, id, id, id, OPEN_JOB_STATUSES],
  );
  return rowCount === 1;
}

/** The pipeline's jobs as lists show them, by key. */
export async function pipelineJobs(db: Knex, pipelineId: string): Promise<JobSummaryRow[]> {
  return jobSummariesQuery(db, { pipelineId }).orderBy('job.pipeline_key');
}

export async function pipelineEdges(db: Knex, pipelineId: string): Promise<PipelineEdgeRow[]> {
  return db<PipelineEdgeRow>('pipeline_edge').where({ pipeline_id: pipelineId });
}

/** How many of the pipeline's jobs are in each status. */
export async function pipelineJobCounts(db: Knex, pipelineId: string): Promise<Record<string, number>> {
  const rows = await db('job').where({ pipeline_id: pipelineId }).groupBy('status').select('status').count<{ status: string; count: string }[]>({ count: '*' });
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.count)]));
}

export interface PipelineFilter {
  projectId: string;
  statuses?: PipelineStatus[];
  since?: Date;
  until?: Date;
}

/** A pipeline as lists show it: with its project's slug and how many jobs it has. */
export type PipelineListRow = PipelineRow & { project_slug: string; job_count: string };

/** Pipelines narrowed by `filter`, in one query; sort and paginate it. */
export function pipelinesQuery(db: Knex, filter: PipelineFilter): Knex.QueryBuilder {
  const query = db('pipeline')
    .join('project', 'project.id', 'pipeline.project_id')
    .where('pipeline.project_id', filter.projectId)
    .select('pipeline.*', 'project.slug as project_slug', db('job').count('*').whereRaw('job.pipeline_id = pipeline.id').as('job_count'));
  if (filter.statuses) query.whereIn('pipeline.status', filter.statuses);
  if (filter.since) query.where('pipeline.created_at', '>=', filter.since);
  if (filter.until) query.where('pipeline.created_at', '<', filter.until);
  return query;
}

/**
 * Records a pause or resume the pipeline's workflow was just signalled (its workflow is the truth;
 * this row is what views show), if the pipeline still runs; the row as it now is.
 */
export async function setPipelinePaused(db: Knex, id: string, paused: boolean): Promise<PipelineRow | undefined> {
  const [row] = await db<PipelineRow>('pipeline')
    .where({ id, status: 'running' })
    .update({ paused_at: paused ? db.raw('coalesce(paused_at, now())') : null })
    .returning('*');
  return row;
}
