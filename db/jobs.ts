import type { Knex } from 'knex';
import { InvalidTransitionError, sourcesOf, type JobStatus } from '../common/contracts';
import type { JobRow } from './rows';

type Patch = Partial<Omit<JobRow, 'id' | 'status'>>;

export async function getJob(db: Knex, jobId: string): Promise<JobRow | undefined> {
  return db<JobRow>('job').where({ id: jobId }).first();
}

/**
 * Moves a job to `to` if, and only if, its current status allows it. The check is the UPDATE's own
 * WHERE clause, so two writers racing on one job cannot both succeed.
 */
export async function transitionJob(db: Knex, jobId: string, to: JobStatus, patch: Patch = {}): Promise<JobRow> {
  const [row] = await db<JobRow>('job')
    .where({ id: jobId })
    .whereIn('status', sourcesOf(to))
    .update({ ...patch, status: to })
    .returning('*');
  if (row) return row;
  const current = await getJob(db, jobId);
  throw new InvalidTransitionError(jobId, current?.status, to);
}

export interface ClaimRequest {
  jobId: string;
  runnerId: string;
  /** Temporal's attempt number of the runJob activity doing the claim. */
  attempt: number;
}

/**
 * A runner claims a job: pending (or claimed by an earlier attempt whose runner vanished) → claimed.
 * Exactly one runner can win, only one that serves the job's spec, and a dedicated runner only
 * for its own organization.
 */
export async function claimJob(db: Knex, { jobId, runnerId, attempt }: ClaimRequest): Promise<JobRow | undefined> {
  const [row] = await db<JobRow>('job')
    .where({ id: jobId })
    .whereIn('status', sourcesOf('claimed'))
    .where('attempt', '<', attempt)
    .whereIn('spec_id', db('runner_spec').select('spec_id').where({ runner_id: runnerId }))
    // A dedicated runner takes only its own organization's jobs.
    .whereExists(
      db('runner').where('runner.id', runnerId).where((q) => q.whereNull('runner.organization_id').orWhereRaw('runner.organization_id = job.organization_id')),
    )
    .update({ status: 'claimed', runner_id: runnerId, attempt, claimed_at: db.fn.now() as unknown as Date })
    .returning('*');
  return row;
}

/**
 * How many jobs run before this one: pending jobs for the same spec that have a better priority,
 * or the same priority and an earlier submission. Null once the job is no longer waiting.
 */
export async function queuePosition(db: Knex, job: Pick<JobRow, 'id' | 'status' | 'spec_id' | 'priority' | 'created_at'>): Promise<number | null> {
  if (job.status !== 'pending' || !job.spec_id) return null;
  const [{ count }] = await db('job')
    .where({ status: 'pending', spec_id: job.spec_id })
    .whereNot({ id: job.id })
    .where((q) => q.where('priority', '<', job.priority).orWhere((q2) => q2.where('priority', job.priority).where('created_at', '<', job.created_at)))
    .count<{ count: string }[]>({ count: '*' });
  return Number(count);
}
