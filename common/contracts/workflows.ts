import type { JobLabels } from './search-attributes';

/**
 * What starts a workflow and what it returns, for the api and the orchestrator (which start them)
 * and the workflow code (which implements them). Workflows are started by type name.
 */
export const JOB_WORKFLOW = 'jobWorkflow';
export const RECONCILE_JOBS_WORKFLOW = 'reconcileJobsWorkflow';
export const SCHEDULED_RUN_WORKFLOW = 'scheduledRunWorkflow';

/**
 * The Temporal Schedule of schedule `id`, and the workflow id its runs start from (Temporal appends
 * each run's scheduled time, which makes it the run's idempotency key).
 */
export function temporalScheduleId(id: string): string {
  return `schedule-${id}`;
}

/** What each run of a schedule starts with: the schedule, and the api's job settings at its creation. */
export interface ScheduledRunInput {
  scheduleId: string;
  /** What the schedule's template submits; absent on schedules made before pipeline templates: a run. */
  kind?: 'run' | 'pipeline';
  heartbeatTimeoutSeconds?: number;
  queueLimitSeconds?: number;
  permitCheckIntervalSeconds?: number;
}

/** The api's settings a job's workflow input carries (api/job-submission.ts jobWorkflowStart). */
export type JobTimings = Pick<ScheduledRunInput, 'heartbeatTimeoutSeconds' | 'queueLimitSeconds' | 'permitCheckIntervalSeconds'>;

/** A scheduled run's job, written and checked like a POST /v0/run submission: what its jobWorkflow needs. */
export interface ScheduledJob {
  jobId: string;
  spec: ResolvedSpec;
  priorityKey: number;
  timeoutSeconds: number;
  concurrencyGate?: AdmittedTo;
  labels: JobLabels;
}

/** Where a job runs: its spec and the runner task queue that serves it (decided at submission). */
export interface ResolvedSpec {
  slug: string;
  taskQueue: string;
}

/**
 * A concurrency limit: the jobs at one gate share `permits`. A gate is a tier's (the jobs of one
 * organization or source IP) or a project's concurrency rule (its jobs whose labels match; `rule`).
 */
export interface TierGate {
  id: string;
  permits: number;
  /** The concurrency rule's id, for a rule's gate: a job does not queue at a rule deleted meanwhile. */
  rule?: string;
}

export interface AdmittedTo {
  /** Every gate the job must pass: its tier's, and one per concurrency rule its labels match. */
  gates: TierGate[];
  /**
   * Whether the submission's transaction gave the job its permits (db/permits.ts): all of them or
   * none. An admitted job dispatches as a paid one does; the others wait, holding no runner and
   * no permit, for a `granted` signal.
   */
  admitted: boolean;
  /**
   * How often a waiting job checks its place (default 60 s): reclaims the permits of holders
   * whose workflow was terminated, and covers a `granted` signal that was lost.
   */
  checkIntervalSeconds?: number;
}

/** What a failed runJob attempt is, for a retry policy: a failure before the benchmark started, or the benchmark's own. */
export const RETRY_ON = ['infrastructure', 'benchmark_failure'] as const;
export type RetryOn = (typeof RETRY_ON)[number];

/**
 * When a job's runJob is tried again: up to `maxAttempts` tries in all, the n-th retry after
 * n × `backoffSeconds`, for the failures listed in `on`. A benchmark failure (it ran and exited
 * non-zero, timed out, or its runner vanished while it ran) is retried only when `on` names it.
 */
export interface RetryPolicy {
  maxAttempts: number;
  backoffSeconds: number;
  on: readonly RetryOn[];
}

/** Without a policy: three tries, one second more between each, infrastructure failures only. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 3, backoffSeconds: 1, on: ['infrastructure'] };

export interface JobWorkflowInput {
  jobId: string;
  /** The spec and runner task queue the api resolved and checked at submission. */
  spec: ResolvedSpec;
  priorityKey: number;
  timeoutSeconds: number;
  /** How long a runner may go silent before its job is declared lost. */
  heartbeatTimeoutSeconds?: number;
  /** How often a job whose spec is paused checks whether it was resumed, should the `specResumed` update be missed (default 60 s). */
  pauseCheckIntervalSeconds?: number;
  /** How long a job may wait for a runner before it fails. */
  queueLimitSeconds?: number;
  /** The job's concurrency limits (tier, rules), when it has any, and whether the submission got its permits. */
  concurrencyGate?: AdmittedTo;
  /**
   * A delayed start (RFC 3339): the job stays `scheduled`, on a durable timer, until then. Absent
   * for a job that runs now.
   */
  startAfter?: string;
  /**
   * How long the workflow waits for the submission's transaction to commit the job row (default
   * 60 s): the api starts it just before COMMIT.
   */
  commitWindowSeconds?: number;
  /**
   * runJob attempt 1's claim ticket, set when the api pinned the image at submission and stored the
   * ticket's hash with the job: the workflow dispatches at once, without resolving anything first.
   * Unset, it resolves the image and issues the ticket itself.
   */
  firstClaimTicket?: string;
  /** DEFAULT_RETRY_POLICY when absent. */
  retry?: RetryPolicy;
}

export type JobOutcome =
  | { status: 'processed'; metrics: number }
  | { status: 'failed' | 'canceled'; error: string }
  // The submission that started the workflow never committed: there is no job.
  | { status: 'not_committed' };

/** Failure types a job workflow ends with when its job did not process (the message is the job's error). */
export const JOB_FAILED_FAILURE = 'JobFailed';
export const JOB_CANCELED_FAILURE = 'JobCanceled';
