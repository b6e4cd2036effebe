import type { JobStatus } from './job-status';
import type { PipelineActivities, ScheduledPipeline } from './pipelines';
import type { RunJobResult } from './run-job';
import type { JobOutcome, RetryOn, JobTimings, ScheduledJob, TierGate } from './workflows';
import type { WebhookActivities } from './webhooks';

export type RecordedRun = { status: 'completed' } | { status: 'failed' | 'canceled'; error: string };

export interface FailedAttempt {
  attempt: number;
  kind: RetryOn;
  error: string;
  /** The benchmark's exit code, for a benchmark that ran. */
  exitCode?: number | null;
  /** When the workflow handed this attempt to the runner queue, saw it fail, and set the next one for (ms since the epoch, workflow time). */
  dispatchedAt: number;
  endedAt: number;
  retryAt: number;
}

/** A job after a terminal move: what its row holds (another writer may have settled it first). */
export interface SettledJob {
  status: JobStatus;
  error: string;
}

/** submitScheduledRun's and submitScheduledPipeline's refusals, which a retry cannot change: the schedule was deleted, or its template no longer passes the checks. */
export const SCHEDULE_GONE = 'ScheduleGone';
export const SCHEDULED_RUN_REFUSED = 'ScheduledRunRefused';

/**
 * The control-plane activities the orchestrator worker registers (activities/), as the workflows
 * call them. The implementation is checked against this interface where the worker is built.
 */
export interface ControlActivities extends PipelineActivities, WebhookActivities {
  /**
   * Pins the job to its image's digest, before any runner time is spent, and stores runJob attempt
   * 1's claim ticket (hashed) in the same step, so dispatch waits on nothing more. The api starts
   * the workflow just before its submission's COMMIT: this waits for that transaction to end, and
   * answers null when it did not commit the job.
   */
  resolveImageDigest(jobId: string, firstClaimTicket: string): Promise<string | null>;
  /** Stores a retry's (attempt ≥ 2) claim ticket on the job, hashed (a local activity: no task-queue hop before dispatch). */
  issueClaimTicket(jobId: string, attempt: number, ticket: string): Promise<void>;
  /**
   * A delayed job whose time has come: `scheduled` → `pending` (a repeated call finds it pending and
   * is done). Waits for the submission's COMMIT like resolveImageDigest; false when it committed no job.
   */
  releaseScheduledJob(jobId: string): Promise<boolean>;
  /**
   * Stores an attempt that failed and will be tried again (idempotent: the first write of an attempt
   * stands), with the claim and start times its attempt left on the job; the job row is the last attempt.
   */
  recordAttempt(jobId: string, attempt: FailedAttempt): Promise<void>;
  /** The job's persisted status: the authority on whether its benchmark started. */
  jobStatus(jobId: string): Promise<JobStatus>;
  /** Why a job whose spec was paused still waits (paused, or its resume still telling older jobs), or null. */
  specPause(jobId: string): Promise<string | null>;
  recordRunResult(jobId: string, run: RunJobResult): Promise<RecordedRun>;
  markJobFailed(jobId: string, error: string): Promise<SettledJob>;
  markJobCanceled(jobId: string, reason?: string): Promise<SettledJob>;
  processResults(jobId: string): Promise<JobOutcome>;
  /** Gives the job's permits (or its place in the queues) back and hands them to the next waiting jobs. */
  releasePermit(jobId: string): Promise<void>;
  /** For a job waiting at its gates: reclaims dead holders' permits, grants what is free; true when this job holds its permits. */
  checkPermit(jobId: string, gates: TierGate[]): Promise<boolean>;
  /**
   * A scheduled run's job, submitted from the schedule's template as its creator would (the same
   * checks and transaction as POST /v0/run), under idempotency key `runId`: a retry, or a run that
   * already submitted, gets the same job. `gateScope` is the control queue (the tiers' gates).
   */
  submitScheduledRun(scheduleId: string, runId: string, gateScope: string): Promise<ScheduledJob>;
  /** The same for a schedule whose template is a pipeline: the pipeline written (or found, on a retry), and its workflow's input built with `timings`. */
  submitScheduledPipeline(
    scheduleId: string,
    runId: string,
    gateScope: string,
    timings: JobTimings,
  ): Promise<ScheduledPipeline>;
  /** Settles jobs whose workflow ended without settling them; returns how many. */
  settleOrphanedJobs(minAgeSeconds: number): Promise<number>;
  /** Ends pipelines whose workflow ended without ending them, canceling the jobs it never started; returns how many. */
  settleOrphanedPipelines(minAgeSeconds: number): Promise<number>;
}
