import type { Knex } from 'knex';
import type { FailedAttempt } from '../common/contracts';
import { escapeNul } from '../common/postgres-text';
import type { JobAttemptRow } from './rows';

/**
 * Stores a failed attempt that will be tried again, in one statement: the runner, claim and start
 * times are the job row's when this attempt claimed it (the next attempt's claim replaces them). A
 * repeat (an activity retry, or a workflow task replayed) leaves the first write alone.
 */
export async function recordAttempt(db: Knex, jobId: string, a: FailedAttempt): Promise<void> {
  await db.raw(
    `INSERT INTO job_attempt (job_id, attempt, kind, error, exit_code, dispatched_at, ended_at, retry_at, runner_id, claimed_at, started_at)
     SELECT job.id, ?, ?, ?, ?, to_timestamp(?::numeric / 1000), to_timestamp(?::numeric / 1000), to_timestamp(?::numeric / 1000),
            CASE WHEN job.attempt = ? THEN job.runner_id END,
            CASE WHEN job.attempt = ? THEN job.claimed_at END,
            CASE WHEN job.attempt = ? THEN job.started_at END
       FROM job WHERE job.id = ?
     ON CONFLICT (job_id, attempt) DO NOTHING`,
    [a.attempt, a.kind, escapeNul(a.error), a.exitCode ?? null, a.dispatchedAt, a.endedAt, a.retryAt, a.attempt, a.attempt, a.attempt, jobId],
  );
}

export type RecordedAttemptRow = JobAttemptRow & { runner_slug: string | null };

/** The recorded attempts of these jobs, with their runner's slug, in attempt order. */
export async function attemptsOf(db: Knex, jobIds: string[]): Promise<RecordedAttemptRow[]> {
  if (!jobIds.length) return [];
  return db('job_attempt')
    .leftJoin('runner', 'runner.id', 'job_attempt.runner_id')
    .whereIn('job_attempt.job_id', jobIds)
    .orderBy(['job_attempt.job_id', 'job_attempt.attempt'])
    .select('job_attempt.*', 'runner.slug as runner_slug');
}
