import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  TimeoutFailure,
  upsertSearchAttributes,
  uuid4,
  type ActivityOptions,
} from '@temporalio/workflow';
import {
  BENCHMARK_STARTED,
  DEFAULT_RETRY_POLICY,
  grantedSignal,
  JOB_CANCELED_FAILURE,
  JOB_FAILED_FAILURE,
  JOB_NOT_FOUND,
  JOB_STATUS_ATTRIBUTE,
  NON_RETRYABLE_RUN_ERRORS,
  RUNNER_SHUTDOWN,
  runFailure,
  SPEC_PAUSED,
  specResumedUpdate,
  type AdmittedTo,
  type ControlActivities,
  type FailedAttempt,
  type JobOutcome,
  type JobStatus,
  type JobWorkflowInput,
  type RetryOn,
  type RunJobResult,
  type RunnerActivities,
} from '../common/contracts';

const DEFAULT_COMMIT_WINDOW_SECONDS = 60;

const DEFAULT_HEARTBEAT_TIMEOUT_SECONDS = 30;
const DEFAULT_QUEUE_LIMIT_SECONDS = 3600;
const DEFAULT_PERMIT_CHECK_INTERVAL_SECONDS = 60;
/** runJob may outlive the benchmark's own timeout by this much: image pull, boot, upload. */
const RUN_GRACE_SECONDS = 600;

/**
 * Control activities ride out a database outage of several minutes: retried by time with no attempt
 * limit, at most 10 s apart. The activities themselves end the retries (activities/outage.ts): with a
 * clear failure once the database outage window passes, other errors after 10 attempts; the
 * schedule-to-close timeout is only a backstop above any window the orchestrator accepts.
 */
export const CONTROL_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  scheduleToCloseTimeout: '15 minutes',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', nonRetryableErrorTypes: ['ImageNotFound', 'SecretUnreadable'] },
};
const control = proxyActivities<ControlActivities>(CONTROL_OPTIONS);
/**
 * Control activities on the way to dispatch (the first look at the job, a retry's claim ticket) run
 * inside the workflow task, so that task schedules runJob itself with no task-queue hop between.
 * One try only: a local activity retried in this SDK leaks a timer per attempt
 * (temporalio/sdk-core#1454, a worker panic when one fires late), so a failed try is handed to the
 * ordinary, retried activity instead (see `locallyOnce`).
 */
const oneLocalTry = proxyLocalActivities<ControlActivities>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 1 } });

/**
 * One benchmark job: resolve where and what to run, hand it to a runner of the spec's queue at the
 * tier's priority, record the outcome and turn the output into metrics. Every status change is
 * persisted by an activity; this function only decides what happens next.
 *
 * The workflow ends the way the job does, so the Temporal UI's status filters tell the truth: it
 * completes for a processed job, is canceled when it was canceled, and otherwise fails (a workflow
 * failure, not a task failure, carrying the job's error), the job row keeping the detailed status.
 * A job its runner canceled by shutting down fails with type JobCanceled: Temporal marks a workflow
 * canceled only when the workflow itself was.
 */
export async function jobWorkflow(input: JobWorkflowInput): Promise<JobOutcome> {
  const outcome = await runJobToEnd(input);
  if (outcome.status === 'failed' || outcome.status === 'canceled') {
    throw ApplicationFailure.create({ message: outcome.error, type: outcome.status === 'canceled' ? JOB_CANCELED_FAILURE : JOB_FAILED_FAILURE, nonRetryable: true });
  }
  return outcome;
}

/** Runs the job and persists how it ended; a cancellation of the workflow is rethrown once persisted. */
async function runJobToEnd(input: JobWorkflowInput): Promise<JobOutcome> {
  const { jobId, spec } = input;
  const permit = tierPermit(input);
  try {
    // A job the api pinned at submission came with attempt 1's ticket and dispatches now: a runner's
    // claim waits for the submission's COMMIT. Otherwise the ticket rides on the digest lookup.
    const firstTicket = input.firstClaimTicket ?? uuid4();
    if (!input.firstClaimTicket && !(await submissionCommitted(input, firstTicket))) return notCommitted();
    if (input.startAfter && !(await startWhenDue(jobId, input.startAfter))) return notCommitted();

    const runner = proxyActivities<RunnerActivities>({
      taskQueue: spec.taskQueue,
      priority: { priorityKey: input.priorityKey },
      scheduleToStartTimeout: `${input.queueLimitSeconds ?? DEFAULT_QUEUE_LIMIT_SECONDS}s`,
      startToCloseTimeout: `${input.timeoutSeconds + RUN_GRACE_SECONDS}s`,
      heartbeatTimeout: `${input.heartbeatTimeoutSeconds ?? DEFAULT_HEARTBEAT_TIMEOUT_SECONDS}s`,
      // Canceled only once the runner confirms its sandbox/VM is dead. Set explicitly: left unset, the
      // option encodes as TRY_CANCEL (proto default 0) despite the SDK's doc comment.
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      // One attempt per call: whether to try again depends on how far the job got, which only the
      // workflow can weigh (see runWithRetries below), and a lost runner must fail the job at the heartbeat
      // timeout even when no other runner is free to pick up a server-side retry.
      retry: { maximumAttempts: 1 },
    });
    const run = await permit.holding(() =>
      runWithRetries(input, async (attempt) => {
        // Single-use and per attempt: only the runner Temporal hands this task to learns it.
        const ticket = attempt === 1 ? firstTicket : uuid4();
        if (attempt > 1) await locallyOnce('issueClaimTicket', jobId, attempt, ticket);
        return dispatchWhenNotPaused(input, attempt, ticket, (t) => runner.runJob({ jobId, attempt, ticket: t }));
      }),
    );

    const recorded = await control.recordRunResult(jobId, run);
    // A job canceled while its run finished (the reconciler settled it first) ends canceled, as markJobCanceled would.
    if (recorded.status !== 'completed') return ended(recorded);
    showStatus('completed', 'processing the results');
    return ended(await control.processResults(jobId));
  } catch (err) {
    if (isCancellation(err)) {
      const settled = await CancellationScope.nonCancellable(() => control.markJobCanceled(jobId));
      ended({ status: 'canceled', error: settled.error });
      throw err;
    }
    // The api found no job even after the submission ended: it rolled back after starting this workflow.
    if (failureType(err) === JOB_NOT_FOUND) return notCommitted();
    const error = describeFailure(err, spec.slug, input);
    // A runner that shut down mid-job canceled it, as a user would have: canceled, not failed.
    const settled =
      err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === RUNNER_SHUTDOWN
        ? await control.markJobCanceled(jobId, error)
        : await control.markJobFailed(jobId, error);
    return ended({ status: settled.status === 'canceled' ? 'canceled' : 'failed', error: settled.error });
  } finally {
    // A job that failed or was canceled before its run still holds the permit its submission took.
    await permit.release();
  }
}

function notCommitted(): JobOutcome {
  setCurrentDetails('no job: the submission that started this workflow never committed');
  return { status: 'not_committed' };
}

/** The job's status in its search attributes and the UI's one-line current details. */
function showStatus(status: JobStatus, details: string): void {
  upsertSearchAttributes([{ key: JOB_STATUS_ATTRIBUTE, value: status }]);
  setCurrentDetails(`${status}: ${details}`);
}

function ended(outcome: JobOutcome): JobOutcome {
  if (outcome.status === 'not_committed') return outcome;
  showStatus(outcome.status, outcome.status === 'processed' ? `${outcome.metrics} metric${outcome.metrics === 1 ? '' : 's'} stored` : outcome.error);
  return outcome;
}

/**
 * A delayed job: `scheduled` until its start time on a durable timer (no polling; it survives any
 * restart, and a cancel ends it at once), then `pending`, dispatched like a job submitted now.
 * False when there is no job: the submission that started this workflow never committed.
 */
async function startWhenDue(jobId: string, startAfter: string): Promise<boolean> {
  const wait = Date.parse(startAfter) - Date.now();
  if (wait > 0) {
    showStatus('scheduled', `starts at ${startAfter}`);
    await sleep(wait);
  }
  if (!(await control.releaseScheduledJob(jobId))) return false;
  showStatus('pending', 'its start time came');
  return true;
}

/**
 * The api starts this workflow inside its submission transaction, just before COMMIT; the first
 * activity waits for that transaction and finds the job, resolving its image. When it finds none
 * (the api died or the commit failed, or something other than a submission started the workflow),
 * there is no job to settle and the workflow ends quietly after the window.
 */
async function submissionCommitted(input: JobWorkflowInput, firstTicket: string): Promise<boolean> {
  const deadline = Date.now() + (input.commitWindowSeconds ?? DEFAULT_COMMIT_WINDOW_SECONDS) * 1000;
  for (let wait = 100; ; wait = Math.min(wait * 2, 5000)) {
    if ((await locallyOnce('resolveImageDigest', input.jobId, firstTicket)) !== null) return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(wait, deadline - Date.now()));
  }
}

/** A control activity once locally, then, if that try failed for a reason worth retrying, as an ordinary activity. */
async function locallyOnce<K extends keyof ControlActivities>(name: K, ...args: Parameters<ControlActivities[K]>): Promise<Awaited<ReturnType<ControlActivities[K]>>> {
  type Call = (...a: Parameters<ControlActivities[K]>) => Promise<Awaited<ReturnType<ControlActivities[K]>>>;
  try {
    return await (oneLocalTry[name] as unknown as Call)(...args);
  } catch (err) {
    // A refusal the ordinary activity would not retry either (a missing image) fails the job now.
    if (isCancellation(err) || CONTROL_OPTIONS.retry!.nonRetryableErrorTypes!.includes(failureType(err) ?? '')) throw err;
    return (control[name] as unknown as Call)(...args);
  }
}

/**
 * Calls runJob until it succeeds, fails for good, or the job's retry policy is spent. A failure
 * before the benchmark started is tried again (on whichever runner of the queue is free); a
 * benchmark that ran and failed, or whose runner was lost while it ran, only when the policy names
 * benchmark_failure: otherwise a second run would not be the measurement the user asked for. Each
 * attempt tried again is stored first (recordAttempt); the next one runs on a new claim ticket, so
 * the runner of a stale attempt can neither claim the job nor upload to it.
 */
async function runWithRetries(input: JobWorkflowInput, run: (attempt: number) => Promise<RunJobResult>): Promise<RunJobResult> {
  const policy = input.retry ?? DEFAULT_RETRY_POLICY;
  const retried = (attempt: number, kind: RetryOn) => attempt < policy.maxAttempts && policy.on.includes(kind);
  for (let attempt = 1; ; attempt++) {
    const dispatchedAt = Date.now();
    let failure: Pick<FailedAttempt, 'kind' | 'error' | 'exitCode'>;
    try {
      const result = await run(attempt);
      const error = runFailure(result, input.timeoutSeconds);
      if (error === undefined || !retried(attempt, 'benchmark_failure')) return result;
      failure = { kind: 'benchmark_failure', error, exitCode: result.exitCode };
    } catch (err) {
      const kind = await failureKind(input, err);
      if (kind === undefined) throw err;
      if (!retried(attempt, kind)) {
        if (kind === 'benchmark_failure' && !policy.on.includes(kind) && err instanceof ActivityFailure && err.cause instanceof TimeoutFailure) {
          const window = input.heartbeatTimeoutSeconds ?? DEFAULT_HEARTBEAT_TIMEOUT_SECONDS;
          throw ApplicationFailure.nonRetryable(`heartbeat timeout: the runner stopped responding for ${window}s after the benchmark started; it is not run twice`, BENCHMARK_STARTED);
        }
        throw err;
      }
      failure = { kind, error: describeFailure(err, input.spec.slug, input) };
    }
    const endedAt = Date.now();
    const retryAt = endedAt + attempt * policy.backoffSeconds * 1000;
    await control.recordAttempt(input.jobId, { attempt, ...failure, dispatchedAt, endedAt, retryAt });
    setCurrentDetails(`attempt ${attempt} failed (${failure.kind}): attempt ${attempt + 1} at ${new Date(retryAt).toISOString()}`);
    if (retryAt > Date.now()) await sleep(retryAt - Date.now());
  }
}

/**
 * What a runJob failure was, for the retry policy: before the benchmark started (it may pass on
 * another try), the benchmark's own (the runner failed or vanished while it ran), or undefined: not to be
 * tried again at all (a cancellation, a runner that shut down, a refused claim, a timeout).
 */
async function failureKind(input: JobWorkflowInput, err: unknown): Promise<RetryOn | undefined> {
  if (!(err instanceof ActivityFailure) || isCancellation(err)) return undefined;
  const cause = err.cause;
  if (cause instanceof TimeoutFailure) {
    if (cause.timeoutType !== 'HEARTBEAT') return undefined;
    // The runner vanished. Its last heartbeat may lag its real phase; the job's status does not.
    return (await control.jobStatus(input.jobId)) === 'running' ? 'benchmark_failure' : 'infrastructure';
  }
  if (!(cause instanceof ApplicationFailure)) return undefined;
  // The runner turns whatever fails once the benchmark started into this type.
  if (cause.type === BENCHMARK_STARTED) return 'benchmark_failure';
  return !cause.nonRetryable && !(NON_RETRYABLE_RUN_ERRORS as readonly string[]).includes(cause.type ?? '') ? 'infrastructure' : undefined;
}

/**
 * The job's permit under its tier's concurrency limit, when the tier has one. The submission took
 * it when the gate had room (admitted): the job then dispatches as a paid one does. Otherwise the
 * job waits for it here, holding no runner, until a release hands it over (`granted`). It is given
 * back once: as soon as the run ends, or however the workflow ends before that.
 */
function tierPermit(input: JobWorkflowInput) {
  const gate = input.concurrencyGate;
  let granted = false;
  if (gate) setHandler(grantedSignal, () => void (granted = true));
  let outstanding = gate !== undefined;
  const release = async () => {
    if (!outstanding) return;
    outstanding = false;
    await CancellationScope.nonCancellable(async () => {
      try {
        await locallyOnce('releasePermit', input.jobId);
      } catch {
        // The job's real outcome must not be masked by this: a permit whose workflow has ended is
        // reclaimed by the next waiting job's check (checkPermit) or by the reconciler.
      }
    });
  };
  return {
    release,
    async holding<T>(fn: () => Promise<T>): Promise<T> {
      try {
        if (gate && !gate.admitted) await waitForPermit(input, gate, () => granted);
        return await fn();
      } finally {
        await release();
      }
    },
  };
}

/**
 * Waits for a `granted` signal, checking the gate at once and then every check interval: the check
 * takes back the permits of holders that were terminated and covers a signal that was lost. The
 * queue limit counts this wait too: a job never waits unbounded.
 */
async function waitForPermit(input: JobWorkflowInput, gate: AdmittedTo, granted: () => boolean): Promise<void> {
  const limit = input.queueLimitSeconds ?? DEFAULT_QUEUE_LIMIT_SECONDS;
  const deadline = Date.now() + limit * 1000;
  const interval = (gate.checkIntervalSeconds ?? DEFAULT_PERMIT_CHECK_INTERVAL_SECONDS) * 1000;
  setCurrentDetails('pending: waiting for a concurrency permit (tier limit or concurrency rule)');
  while (!granted() && !(await control.checkPermit(input.jobId, gate.gates))) {
    const left = deadline - Date.now();
    if (left <= 0) throw ApplicationFailure.nonRetryable(`waited longer than ${limit}s for a concurrency permit (tier limit or concurrency rule)`, 'QueueLimit');
    await condition(granted, Math.min(interval, left));
  }
  setCurrentDetails('');
}

/**
 * Dispatches the attempt; when a runner's claim is refused because an operator paused the job's
 * spec (also for a job already on the runner queue when the pause landed), the job waits here,
 * holding no runner and no queue place, for a `specResumed` update, checking the spec first and
 * then every check interval (a lost signal, a resume by hand), then dispatches again with a new
 * ticket. A paused spec's wait is not bounded by the queue limit: the operator decides its end.
 */
async function dispatchWhenNotPaused<T>(input: JobWorkflowInput, attempt: number, ticket: string, dispatch: (ticket: string) => Promise<T>): Promise<T> {
  let resumed = false;
  setHandler(specResumedUpdate, () => void (resumed = true));
  for (;;) {
    // A resume told while this attempt was out (refused meanwhile) counts: an older one does not.
    resumed = false;
    try {
      return await dispatch(ticket);
    } catch (err) {
      if (failureType(err) !== SPEC_PAUSED) throw err;
    }
    // Told by the resume (in its order): go. Otherwise the check says whether to wait on.
    for (let reason = await control.specPause(input.jobId); reason !== null && !resumed; reason = await control.specPause(input.jobId)) {
      setCurrentDetails(`pending: spec ${input.spec.slug} paused: ${reason}`);
      if (await condition(() => resumed, (input.pauseCheckIntervalSeconds ?? DEFAULT_PERMIT_CHECK_INTERVAL_SECONDS) * 1000)) break;
    }
    setCurrentDetails('');
    ticket = uuid4();
    await locallyOnce('issueClaimTicket', input.jobId, attempt, ticket);
  }
}

/** The type of the application failure at the root of `err`, however deep it is wrapped. */
function failureType(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (e instanceof ApplicationFailure) return e.type ?? undefined;
  return undefined;
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
