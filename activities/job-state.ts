import { log } from '@temporalio/activity';
import type { Knex } from 'knex';
import { InvalidTransitionError, runFailure, type FailedAttempt, type JobStatus, type RecordedRun, type RunJobResult, type SettledJob } from '../common/contracts';
import { hashToken } from '../common/tokens';
import { recordAttempt } from '../db/attempts';
import { committedJob, issueClaimTicket, transitionJob } from '../db/jobs';
import { specHoldOf } from '../db/specs';
import { escapeNul } from '../common/postgres-text';

export function createJobStateActivities(db: Knex) {
  /**
   * A terminal move, idempotent: a retry after an earlier attempt committed, or a job another writer
   * settled first (a cancel racing a failure), writes nothing and answers with what is stored, so
   * the workflow ends the way the job row says.
   */
  async function finish(jobId: string, to: JobStatus, patch: Record<string, unknown> & { error: string }): Promise<SettledJob> {
    try {
      const row = await transitionJob(db, jobId, to, { ...patch, error: escapeNul(patch.error), finished_at: new Date() });
      return { status: row.status, error: row.error ?? patch.error };
    } catch (err) {
      if (!(err instanceof InvalidTransitionError)) throw err;
      const job = (await db('job').where({ id: jobId }).first('status', 'error'))!;
      if (job.status !== to) log.warn('job already settled', { jobId, from: err.from, to });
      return { status: job.status, error: job.error ?? patch.error };
    }
  }

  return {
    issueClaimTicket: (jobId: string, attempt: number, ticket: string) => issueClaimTicket(db, jobId, attempt, hashToken(ticket)),

    async releaseScheduledJob(jobId: string): Promise<boolean> {
      // A pinned job's workflow has not checked its submission committed: a start time only just ahead may come first.
      if (!(await committedJob(db, jobId))) return false;
      try {
        await transitionJob(db, jobId, 'pending');
      } catch (err) {
        // A retry after the first try committed.
        if (!(err instanceof InvalidTransitionError && err.from === 'pending')) throw err;
      }
      return true;
    },

    recordAttempt: (jobId: string, attempt: FailedAttempt) => recordAttempt(db, jobId, attempt),

    /** The job's persisted status: the authority on whether its benchmark started. */
    async jobStatus(jobId: string): Promise<JobStatus> {
      const job = await db('job').where({ id: jobId }).first('status');
      return job.status;
    },

    specPause: (jobId: string) => specHoldOf(db, jobId),

    async recordRunResult(jobId: string, run: RunJobResult): Promise<RecordedRun> {
      const job = await db('job').where({ id: jobId }).first('status', 'error', 'timeout_seconds', 'execution');
      // A retry of this activity after its first attempt committed, or a job another writer settled
      // first (the reconciler canceled it): report what was recorded.
      if (job.status === 'completed' || job.status === 'processed') return { status: 'completed' };
      if (job.status === 'failed' || job.status === 'canceled') return { status: job.status, error: job.error };
      const error = runFailure(run, job.timeout_seconds);
      // What the runner said when it started, plus what the executor measured while running.
      const execution = { ...job.execution, ...run.execution, duration_ms: run.durationMs };
      if (error) {
        const settled = await finish(jobId, 'failed', { error, exit_code: run.exitCode, completed_at: new Date(), execution });
        return { status: settled.status === 'canceled' ? 'canceled' : 'failed', error: settled.error };
      }
      await transitionJob(db, jobId, 'completed', { exit_code: run.exitCode, completed_at: new Date(), execution });
      return { status: 'completed' };
    },

    markJobFailed: (jobId: string, error: string) => finish(jobId, 'failed', { error }),
    markJobCanceled: (jobId: string, reason = 'canceled') => finish(jobId, 'canceled', { error: reason }),
  };
}
