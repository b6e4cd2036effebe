import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setHandler,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import { grantedSignal, releaseSignal } from './concurrency-gate';
import type { ControlActivities } from '../activities';
import { NON_RETRYABLE_RUN_ERRORS, RUNNER_SHUTDOWN, type RunnerActivities } from '../runner/activities/contract';

export interface JobWorkflowInput {
  jobId: string;
  priorityKey: number;
  timeoutSeconds: number;
  /** How long a runner may go silent before its job is declared lost. */
  heartbeatTimeoutSeconds?: number;
  /** How long a job may wait for a runner before it fails. */
  queueLimitSeconds?: number;
  /** The tier's concurrency limit: a gate workflow shared by the jobs that count against it. */
  concurrencyGate?: { id: string; permits: number };
}

export type JobOutcome = { status: 'processed'; metrics: number } | { status: 'failed' | 'canceled'; error: string };

const DEFAULT_HEARTBEAT_TIMEOUT_SECONDS = 30;
const DEFAULT_QUEUE_LIMIT_SECONDS = 3600;
/** runJob may outlive the benchmark's own timeout by this much: image pull, boot, upload. */
const RUN_GRACE_SECONDS = 600;

const control = proxyActivities<ControlActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 10, nonRetryableErrorTypes: ['ImageNotFound', 'SpecUnavailable', 'JobGone'] },
});

/**
 * One benchmark job: resolve where and what to run, hand it to a runner of the spec's queue at the
 * tier's priority, record the outcome and turn the output into metrics. Every status change is
 * persisted by an activity; this function only decides what happens next.
 */
export async function jobWorkflow(input: JobWorkflowInput): Promise<JobOutcome> {
  const { jobId } = input;
  let specSlug = '';
  try {
    const spec = await control.resolveSpec(jobId);
    specSlug = spec.slug;
    await control.resolveImageDigest(jobId);

    const runner = proxyActivities<RunnerActivities>({
      taskQueue: spec.taskQueue,
      priority: { priorityKey: input.priorityKey },
      scheduleToStartTimeout: `${input.queueLimitSeconds ?? DEFAULT_QUEUE_LIMIT_SECONDS}s`,
      startToCloseTimeout: `${input.timeoutSeconds + RUN_GRACE_SECONDS}s`,
      heartbeatTimeout: `${input.heartbeatTimeoutSeconds ?? DEFAULT_HEARTBEAT_TIMEOUT_SECONDS}s`,
      // Canceled only once the runner confirms its sandbox/VM is dead. Set explicitly: left unset, the
      // option encodes as TRY_CANCEL (proto default 0) despite the SDK's doc comment.
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      // Only infrastructure failures before the benchmark started are retried (on any runner of the queue).
      retry: { maximumAttempts: 3, initialInterval: '1s', nonRetryableErrorTypes: [...NON_RETRYABLE_RUN_ERRORS] },
    });
    const run = await withPermit(input.concurrencyGate, () => runner.runJob({ jobId }));

    const recorded = await control.recordRunResult(jobId, run);
    if (recorded.status === 'failed') return { status: 'failed', error: recorded.error };
    return await control.processResults(jobId);
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => control.markJobCanceled(jobId));
      throw err;
    }
    const error = describeFailure(err, specSlug, input);
    // A runner that shut down mid-job canceled it, as a user would have: canceled, not failed.
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === RUNNER_SHUTDOWN) {
      await control.markJobCanceled(jobId, error);
      return { status: 'canceled', error };
    }
    await control.markJobFailed(jobId, error);
    return { status: 'failed', error };
  }
}

/**
 * Runs `fn` holding one of the gate's permits (or straight away when the tier has no limit).
 * Waiting costs nothing: no runner is held and nothing polls. The permit is given back however
 * `fn` ends, cancellation included.
 */
async function withPermit<T>(gate: JobWorkflowInput['concurrencyGate'], fn: () => Promise<T>): Promise<T> {
  if (!gate) return fn();
  let granted = false;
  setHandler(grantedSignal, () => void (granted = true));
  const self = { requester: workflowInfo().workflowId };
  try {
    await control.requestPermit(gate.id, gate.permits, self.requester);
    await condition(() => granted);
    return await fn();
  } finally {
    await CancellationScope.nonCancellable(() => getExternalWorkflowHandle(gate.id).signal(releaseSignal, self));
  }
}

/** Turns a failure into the sentence the user reads on the job. */
function describeFailure(err: unknown, specSlug: string, input: JobWorkflowInput): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof TimeoutFailure) {
    switch (cause.timeoutType) {
      case 'SCHEDULE_TO_START':
        return `no runner available for spec ${specSlug} within ${input.queueLimitSeconds ?? DEFAULT_QUEUE_LIMIT_SECONDS}s`;
      case 'HEARTBEAT':
        return `heartbeat timeout: the runner stopped responding for ${input.heartbeatTimeoutSeconds ?? DEFAULT_HEARTBEAT_TIMEOUT_SECONDS}s`;
      default:
        return `the runner did not finish within ${input.timeoutSeconds + RUN_GRACE_SECONDS}s`;
    }
  }
  if (cause instanceof ApplicationFailure || cause instanceof Error) return cause.message;
  return String(cause);
}
