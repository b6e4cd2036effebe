import { log } from '@temporalio/activity';
import type { Knex } from 'knex';
import { InvalidTransitionError, type JobStatus, type RecordedRun, type RunJobResult } from '../common/contracts';
import { transitionJob } from '../db/jobs';

/** The sentence a failed run gets on its job. */
export function runFailure(run: RunJobResult, timeoutSeconds: number): string | undefined {
  if (run.error) return run.error;
  if (run.timedOut) return `timeout: the benchmark ran longer than its ${timeoutSeconds}s limit and was killed`;
  if (run.exitCode !== 0) return `the benchmark exited with code ${run.exitCode ?? 'none'}`;
  return undefined;
}

export function createJobStateActivities(db: Knex) {
  /** A terminal move that may find the job already terminal (a retry, a race with cancel): keep what is there. */
  async function finish(jobId: string, to: JobStatus, patch: Record<string, unknown>): Promise<void> {
    try {
      await transitionJob(db, jobId, to, { ...patch, finished_at: new Date() });
    } catch (err) {
      if (!(err instanceof InvalidTransitionError)) throw err;
      log.warn('job already settled', { jobId, from: err.from, to });
    }
  }

  return {
    /** The job's persisted status: the authority on whether its benchmark started. */
    async jobStatus(jobId: string): Promise<JobStatus> {
      const job = await db('job').where({ id: jobId }).first('status');
      return job.status;
    },

    async recordRunResult(jobId: string, run: RunJobResult): Promise<RecordedRun> {
      const job = await db('job').where({ id: jobId }).first('status', 'error', 'timeout_seconds', 'execution');
      // A retry of this activity after its first attempt committed: report what was recorded.
      if (job.status === 'completed' || job.status === 'processed') return { status: 'completed' };
      if (job.status === 'failed') return { status: 'failed', error: job.error };
      const error = runFailure(run, job.timeout_seconds);
      // What the runner said when it started, plus what the executor measured while running.
      const execution = { ...job.execution, ...run.execution, duration_ms: run.durationMs };
      if (error) {
        await finish(jobId, 'failed', { error, exit_code: run.exitCode, completed_at: new Date(), execution });
        return { status: 'failed', error };
      }
      await transitionJob(db, jobId, 'completed', { exit_code: run.exitCode, completed_at: new Date(), execution });
      return { status: 'completed' };
    },

    markJobFailed: (jobId: string, error: string) => finish(jobId, 'failed', { error }),
    markJobCanceled: (jobId: string, reason = 'canceled') => finish(jobId, 'canceled', { error: reason }),
  };
}
