/**
 * The runJob activity's contract, shared by the workflow (which schedules it on a runner queue) and
 * the runner (which implements it). Types only: workflow code must not import runner code.
 */
export interface RunJobInput {
  jobId: string;
  /** The workflow's try number (1, 2, …), for the runner's own use (its scratch directory): the api takes the attempt from the ticket, never from the runner. */
  attempt: number;
  /**
   * This attempt's single-use claim ticket, issued by the workflow (stored hashed on the job): only
   * the runner this task was delivered to can claim the job with it, then mark it running and upload.
   */
  ticket: string;
}

/** Failure type of a job whose runner could not reach the api for the whole outage window. */
export const API_UNREACHABLE = 'ApiUnreachable';

export interface RunJobResult {
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  /** Why the job failed around the command (missing entrypoint, output over the cap…), if it did. */
  error?: string;
  /** Claim-check references: the outputs were uploaded to the api; only their names travel here. */
  outputs: { kind: 'stdout' | 'stderr' | 'file'; path: string; sizeBytes: number }[];
  /** What the executor reports about this run (VM boot, image cache hit…), kept with the job. */
  execution?: Record<string, unknown>;
}

/** Heartbeat details: how far the job got, so a retry knows whether the benchmark had started. */
export type RunPhase = 'claiming' | 'pulling' | 'booting' | 'running' | 'collecting' | 'uploading';

/** Failure type of a job canceled because its runner shut down (SIGTERM) past the grace time. */
export const RUNNER_SHUTDOWN = 'RunnerShutdown';

/**
 * Failure type of a claim the api answered with "no such job" after waiting for the job's submission
 * to end: the workflow was started by a submission that did not commit, so there is nothing to settle.
 */
export const JOB_NOT_FOUND = 'JobNotFound';

/** Failure type of a runJob that failed once the benchmark had started (or was about to): retried only as a benchmark failure. */
export const BENCHMARK_STARTED = 'BenchmarkStarted';

/** Failure types the workflow must not retry as infrastructure failures: the benchmark ran (or was about to) and retrying would run it twice. */
export const NON_RETRYABLE_RUN_ERRORS = [BENCHMARK_STARTED, 'JobNotClaimable', JOB_NOT_FOUND, RUNNER_SHUTDOWN, API_UNREACHABLE] as const;

/**
 * Failure type of a runJob whose claim was refused because an operator paused the job's spec: the
 * job goes back to wait in its workflow, holding no runner, until the spec is resumed.
 */
export const SPEC_PAUSED = 'SpecPaused';
/** The api's error code for that refusal. */
export const SPEC_PAUSED_CODE = 'spec_paused';

export interface RunnerActivities {
  runJob(input: RunJobInput): Promise<RunJobResult>;
}

/** The sentence a run that failed gets on its job; undefined when the benchmark succeeded. */
export function runFailure(run: RunJobResult, timeoutSeconds: number): string | undefined {
  if (run.error) return run.error;
  if (run.timedOut) return `timeout: the benchmark ran longer than its ${timeoutSeconds}s limit and was killed`;
  if (run.exitCode !== 0) return `the benchmark exited with code ${run.exitCode ?? 'none'}`;
  return undefined;
}
