import type { Knex } from 'knex';
import { InvalidTransitionError, sourcesOf, type JobStatus } from '../common/contracts';
import type { JobRow } from './rows';

type Patch = Partial<Omit<JobRow, 'id' | 'status'>>;

export async function getJob(db: Knex, jobId: string): Promise<JobRow | undefined> {
  return db<JobRow>('job').where({ id: jobId }).first();
}

/**
 * A submission holds this lock on its job from the job row's INSERT until its COMMIT or rollback:
 * the api starts the job's workflow inside that transaction, and the workflow's first activity
 * waits on the lock instead of polling for the row (see committedJob).
 */
export async function holdJobUntilCommit(trx: Knex.Transaction, jobId: string): Promise<void> {
  await trx.raw('select pg_advisory_xact_lock(hashtextextended(?::text, 0))', [jobId]);
}

/**
 * The job once its submission has ended: at once when the row is visible, otherwise after waiting
 * for the submission's transaction (holdJobUntilCommit). Undefined: it rolled back, or no submission
 * wrote this job.
 */
export async function committedJob(db: Knex, jobId: string): Promise<JobRow | undefined> {
  const job = await getJob(db, jobId);
  if (job) return job;
  await waitForSubmission(db, jobId);
  return getJob(db, jobId);
}

/** Returns once the transaction holding holdJobUntilCommit's lock on `id` (a job's, or a pipeline's) has ended. */
export async function waitForSubmission(db: Knex, id: string): Promise<void> {
  await db.transaction((trx) => trx.raw('select pg_advisory_xact_lock_shared(hashtextextended(?::text, 0))', [id]));
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

/**
 * Records the claim ticket the workflow issued for runJob attempt `attempt` (its SHA-256 only). A
 * repeated issue (an activity retry) writes the same values; an older attempt never replaces a newer one.
 * `patch` rides on the same statement (attempt 1's ticket is stored with the image digest).
 */
export async function issueClaimTicket(db: Knex, jobId: string, attempt: number, ticketHash: string, patch: Patch = {}): Promise<void> {
  await db<JobRow>('job')
    .where({ id: jobId })
    .where((q) => q.whereNull('claim_ticket_attempt').orWhere('claim_ticket_attempt', '<=', attempt))
    .update({ ...patch, claim_ticket_hash: ticketHash, claim_ticket_attempt: attempt });
}

export interface ClaimRequest {
  jobId: string;
  runnerId: string;
  /** SHA-256 of the claim ticket the runner presents. */
  ticketHash: string;
}

/**
 * A runner claims a job with the ticket of the runJob attempt Temporal handed it: pending (or
 * claimed by an earlier attempt whose runner vanished) → claimed, for the ticket's attempt. The
 * ticket is single-use (once its attempt holds the job it claims nothing more), and the attempt
 * comes from the ticket, never from the runner. Only a runner that serves the job's spec may claim,
 * and a dedicated runner only for its own organization. The same runner repeating its claim (its
 * answer was lost) gets the job again.
 */
export async function claimJob(db: Knex, claim: ClaimRequest): Promise<JobRow | undefined> {
  const job = await claimOnce(db, claim);
  if (job) return job;
  // A job the api pinned at submission is dispatched by its workflow's first task, which the api
  // starts just before COMMIT: its runner may get here first (the row was not visible, or the
  // COMMIT landed just after). Wait for that transaction to end, if it has not, and look again.
  await waitForSubmission(db, claim.jobId);
  return claimOnce(db, claim);
}

async function claimOnce(db: Knex, { jobId, runnerId, ticketHash }: ClaimRequest): Promise<JobRow | undefined> {
  const [row] = await db<JobRow>('job')
    .where({ id: jobId, claim_ticket_hash: ticketHash })
    .whereIn('status', sourcesOf('claimed'))
    .whereRaw('attempt < claim_ticket_attempt')
    .whereIn('spec_id', db('runner_spec').select('spec_id').where({ runner_id: runnerId }))
    // A paused spec's jobs go back to wait in their workflows (see specPauseOf); part of this one statement, no extra round trip.
    .whereNotExists(db('spec').whereRaw('spec.id = job.spec_id').whereNotNull('spec.paused_at'))
    // A dedicated runner takes only its own organization's jobs.
    .whereExists(
      db('runner').where('runner.id', runnerId).where((q) => q.whereNull('runner.organization_id').orWhereRaw('runner.organization_id = job.organization_id')),
    )
    .update({ status: 'claimed', runner_id: runnerId, attempt: db.raw('claim_ticket_attempt'), claimed_at: db.fn.now() } as never)
    .returning('*');
  return row ?? heldClaim(db, { jobId, runnerId, ticketHash }).where({ status: 'claimed' }).first();
}

/** The job, if `runnerId` holds its current attempt's claim with this ticket. */
function heldClaim(db: Knex, { jobId, runnerId, ticketHash }: ClaimRequest) {
  return db<JobRow>('job').where({ id: jobId, runner_id: runnerId, claim_ticket_hash: ticketHash }).whereRaw('attempt = claim_ticket_attempt');
}

/** True when `runnerId` holds the job's current attempt with this ticket (its claim, not a stale one). */
export function holdsClaim(job: JobRow, runnerId: string, ticketHash: string): boolean {
  return job.runner_id === runnerId && job.claim_ticket_hash === ticketHash && job.attempt === job.claim_ticket_attempt;
}

/**
 * claimed → running, only by the holder of the current attempt's claim (a runner of an earlier
 * attempt cannot move a later attempt's job); repeating it once running changes nothing.
 */
export async function markJobRunning(db: Knex, claim: ClaimRequest, patch: Patch): Promise<'started' | 'repeated' | false> {
  const [row] = await heldClaim(db, claim).whereIn('status', sourcesOf('running')).update({ ...patch, status: 'running' }).returning('id');
  if (row) return 'started';
  return (await heldClaim(db, claim).where({ status: 'running' }).first('id')) ? 'repeated' : false;
}

/**
 * How many jobs run before this one: pending jobs for the same spec that have a better priority,
 * or the same priority and an earlier submission. Null once the job is no longer waiting.
 */
export async function queuePosition(db: Knex, job: Pick<JobRow, 'id' | 'status' | 'spec_id'>): Promise<number | null> {
  if (job.status !== 'pending' || !job.spec_id) return null;
  return (await queuePositions(db, { jobIds: [job.id] })).get(job.id) ?? null;
}

/**
 * queuePosition for many jobs in one statement (a page of a list): the waiting jobs of each spec
 * some of them wait for are ranked once, and rank() - 1 counts those strictly ahead (peers, same
 * priority and time, are not ahead of each other). Jobs no longer waiting are absent. `projectId`
 * narrows `jobIds` to one project's, so a caller's list of ids reveals nothing of other projects.
 */
export async function queuePositions(db: Knex, scope: { jobIds: string[]; projectId?: string }): Promise<Map<string, number>> {
  if (!scope.jobIds.length) return new Map();
  const within = (q: Knex.QueryBuilder) => {
    q.whereIn('id', scope.jobIds);
    if (scope.projectId) q.where('project_id', scope.projectId);
  };
  const specs = db('job').where({ status: 'pending' }).whereNotNull('spec_id').modify(within).select('spec_id');
  const ranked = db('job')
    .where({ status: 'pending' })
    .whereIn('spec_id', specs)
    .select('id', 'project_id', db.raw('rank() OVER (PARTITION BY spec_id ORDER BY priority, created_at) - 1 AS position'));
  const rows = await db.from(ranked.as('ranked')).modify(within).select<{ id: string; position: string }[]>('id', 'position');
  return new Map(rows.map((r) => [r.id, Number(r.position)]));
}
