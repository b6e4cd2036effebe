/**
 * The job state machine. Every persisted status change goes through `assertTransition` (in code) and
 * through a conditional UPDATE whose WHERE clause is built from the same table (in the database), so
 * a transition outside this table can neither be written nor race past a concurrent writer.
 */
export const JOB_STATUSES = ['scheduled', 'pending', 'claimed', 'running', 'completed', 'processed', 'failed', 'canceled', 'skipped'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

const TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  // scheduled: a job with a `start_after` still in the future. → pending when its timer fires;
  // → failed when its image tag does not resolve (checked at submission, not at the start time);
  // → skipped: a waiting pipeline job whose required parent failed or was canceled.
  scheduled: ['pending', 'failed', 'canceled', 'skipped'],
  // pending → failed: the image tag does not resolve, or no runner took the job within the queue limit.
  // pending → skipped: a pipeline job whose required parent failed or was canceled never starts.
  pending: ['claimed', 'failed', 'canceled', 'skipped'],
  // claimed → claimed: a retry attempt on another runner re-claims a job whose runner vanished
  // before the benchmark started (the claim requires a higher attempt number, so only one wins).
  claimed: ['claimed', 'running', 'failed', 'canceled'],
  // running → claimed: a job whose retry policy covers benchmark failures is run again on a new
  // attempt's claim after its benchmark failed (or its runner was lost while it ran).
  running: ['claimed', 'completed', 'failed', 'canceled'],
  // completed → failed: the benchmark ran but no adapter understood its output.
  // completed → canceled: the workflow was canceled while it processed the results.
  completed: ['processed', 'failed', 'canceled'],
  processed: [],
  failed: [],
  canceled: [],
  skipped: [],
};

export function isTerminal(status: JobStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The statuses a job may be in for a move to `to` to be valid. */
export function sourcesOf(to: JobStatus): JobStatus[] {
  return JOB_STATUSES.filter((from) => canTransition(from, to));
}

export class InvalidTransitionError extends Error {
  constructor(
    readonly jobId: string,
    readonly from: JobStatus | undefined,
    readonly to: JobStatus,
  ) {
    super(
      from === undefined
        ? `job ${jobId} does not exist`
        : `job ${jobId} cannot move from ${from} to ${to}`,
    );
    this.name = 'InvalidTransitionError';
  }
}
