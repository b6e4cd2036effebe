import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  condition,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import {
  JOB_CANCELED_FAILURE,
  JOB_WORKFLOW,
  jobWorkflowId,
  pausePipelineSignal,
  PIPELINE_FAILED_FAILURE,
  resumePipelineSignal,
  type JobOutcome,
  type PipelineActivities,
  type PipelineCounts,
  type PipelineJob,
  type PipelineOutcome,
  type PipelineWorkflowInput,
  type UnstartedJob,
} from '../common/contracts';
import { CONTROL_OPTIONS } from './job';

const control = proxyActivities<PipelineActivities>(CONTROL_OPTIONS);

type Ended = keyof PipelineCounts;

/**
 * A DAG of jobs: each job's jobWorkflow runs as a child of this one (same `job-<uuid>` id, same input
 * as a single job, so tier rules apply unchanged) as soon as every job it needs has ended. A job
 * whose `requires_success` parent did not process is skipped, and so, transitively, are its own
 * dependents. This workflow is the only writer of the pipeline's outcome and counts: completions
 * arrive one at a time in its history, so none is lost however many end together.
 *
 * At most `maxParallel` jobs run at once, and none starts while the pipeline is paused (a signal,
 * kept in this workflow's history, so a pause survives restarts); jobs that became due meanwhile
 * start in the order they became due once a slot frees or the pipeline resumes.
 *
 * Canceling the workflow cancels the running children (each the way a single job is canceled:
 * withdrawn from its queue or its VM killed), waits for them to settle, and marks the jobs that
 * never started canceled.
 */
export async function pipelineWorkflow(input: PipelineWorkflowInput): Promise<PipelineOutcome | { status: 'not_committed' }> {
  const { jobs } = input;
  const ended = new Map<number, Ended>();
  const started = new Set<number>();
  const children: Promise<void>[] = [];
  const dependents: number[][] = jobs.map(() => []);
  jobs.forEach((job, i) => job.needs.forEach((need) => dependents[need.job].push(i)));
  // Jobs whose needs may have just been met: every job to begin with, then the dependents of each that ends.
  let due = jobs.map((_, i) => i);
  // Skips decided but not yet written: a cancellation while they are written must not lose them.
  let unsaved: UnstartedJob[] = [];
  const slots = new Slots(input.maxParallel ?? Infinity);

  const show = () =>
    setCurrentDetails(`${slots.paused ? 'paused: ' : ''}${ended.size}/${jobs.length} jobs ended, ${slots.running} running, ${slots.queued} waiting to start`);
  setHandler(pausePipelineSignal, () => {
    slots.pause(true);
    show();
  });
  setHandler(resumePipelineSignal, () => {
    slots.pause(false);
    show();
  });

  try {
    if (!(await control.pipelineCommitted(input.pipelineId))) {
      setCurrentDetails('no pipeline: the submission that started this workflow never committed');
      return { status: 'not_committed' };
    }
    while (ended.size < jobs.length) {
      const candidates = due;
      due = [];
      for (let c = 0; c < candidates.length; c++) {
        const i = candidates[c];
        if (started.has(i) || ended.has(i) || !jobs[i].needs.every((n) => ended.has(n.job))) continue;
        const blocker = jobs[i].needs.find((n) => n.requiresSuccess && ended.get(n.job) !== 'processed');
        if (blocker) {
          ended.set(i, 'skipped');
          unsaved.push({ jobId: jobs[i].input.jobId, reason: `skipped: job "${jobs[blocker.job].key}" ${ended.get(blocker.job)}` });
          candidates.push(...dependents[i]);
          continue;
        }
        started.add(i);
        children.push(
          runChild(jobs[i], slots).then((status) => {
            // Canceled before it started: the cancellation below settles it with the jobs that never started.
            if (status === 'not_started') return void started.delete(i);
            ended.set(i, status);
            due.push(...dependents[i]);
          }),
        );
      }
      if (unsaved.length) {
        await control.settleUnstartedJobs(unsaved, 'skipped');
        unsaved = [];
      }
      show();
      // A job that ends with no dependents adds nothing to `due`, but may be the last.
      await condition(() => due.length > 0 || ended.size === jobs.length);
    }
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // Running children were asked to cancel with this workflow; their promises settle once each job has.
    await CancellationScope.nonCancellable(async () => {
      // Canceled at once, perhaps before the submission committed: then there is nothing to settle.
      if (!(await control.pipelineCommitted(input.pipelineId))) return;
      await Promise.all(children);
      const never = jobs.flatMap((_, i) => (started.has(i) || ended.has(i) ? [] : [i]));
      never.forEach((i) => ended.set(i, 'canceled'));
      if (unsaved.length) await control.settleUnstartedJobs(unsaved, 'skipped');
      if (never.length) await control.settleUnstartedJobs(never.map((i) => ({ jobId: jobs[i].input.jobId, reason: 'canceled: the pipeline was canceled' })), 'canceled');
      await control.finishPipeline(input.pipelineId, { status: 'canceled', counts: countOf(ended) });
    });
    throw err;
  }

  const counts = countOf(ended);
  const outcome: PipelineOutcome = { status: counts.processed === jobs.length ? 'succeeded' : 'failed', counts };
  await control.finishPipeline(input.pipelineId, outcome);
  setCurrentDetails(`${outcome.status}: ${describeCounts(counts)}`);
  // As a job's workflow does: the Temporal UI's status filter tells a failed pipeline from one that succeeded.
  if (outcome.status === 'failed') throw ApplicationFailure.create({ message: describeCounts(counts), type: PIPELINE_FAILED_FAILURE, nonRetryable: true, details: [outcome] });
  return outcome;
}

/**
 * Runs one job as a child and tells how it ended. The child's failure carries the job's: JobCanceled
 * for a job canceled (by a user, or its runner shutting down), a cancellation when this workflow
 * canceled it, anything else a failed job. A job canceled before its child started (waiting for
 * its start_after time, or its start in flight) is `not_started`.
 */
async function runChild(job: PipelineJob, slots: Slots): Promise<Ended | 'not_started'> {
  let slot = false;
  try {
    // A durable timer: it survives worker restarts, and a cancellation ends it with the job never started.
    if (job.startAfter !== undefined && job.startAfter > Date.now()) await sleep(job.startAfter - Date.now());
    await slots.acquire();
    slot = true;
    await executeChild<(input: PipelineJob['input']) => Promise<JobOutcome>>(JOB_WORKFLOW, {
      workflowId: jobWorkflowId(job.input.jobId),
      args: [job.input],
      typedSearchAttributes: job.searchAttributes,
      staticSummary: job.summary,
      // A pipeline terminated from the Temporal UI still cancels its jobs the ordinary way (VMs killed, rows settled).
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    });
    return 'processed';
  } catch (err) {
    if (!(err instanceof ChildWorkflowFailure)) {
      if (isCancellation(err)) return 'not_started';
      throw err;
    }
    if (isCancellation(err) || (err.cause instanceof ApplicationFailure && err.cause.type === JOB_CANCELED_FAILURE)) return 'canceled';
    return 'failed';
  } finally {
    if (slot) slots.release();
  }
}

/**
 * Where pipeline jobs wait to start: at most `max` hold a slot (started, not ended), none is given
 * one while paused, and the waiting get theirs in the order they asked. Plain workflow state: it is
 * rebuilt exactly on replay.
 */
class Slots {
  private used = 0;
  private readonly waiting: { granted: boolean }[] = [];
  paused = false;

  constructor(private readonly max: number) {}

  get running(): number {
    return this.used;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves once the caller holds a slot; a cancellation while it waits gives up its place. */
  async acquire(): Promise<void> {
    const ticket = { granted: false };
    this.waiting.push(ticket);
    this.admit();
    try {
      await condition(() => ticket.granted);
    } catch (err) {
      if (ticket.granted) this.release();
      else this.waiting.splice(this.waiting.indexOf(ticket), 1);
      throw err;
    }
  }

  release(): void {
    this.used--;
    this.admit();
  }

  pause(paused: boolean): void {
    this.paused = paused;
    this.admit();
  }

  private admit(): void {
    while (!this.paused && this.used < this.max && this.waiting.length) {
      this.used++;
      this.waiting.shift()!.granted = true;
    }
  }
}

function countOf(ended: Map<number, Ended>): PipelineCounts {
  const counts: PipelineCounts = { processed: 0, failed: 0, canceled: 0, skipped: 0 };
  for (const status of ended.values()) counts[status]++;
  return counts;
}

function describeCounts(counts: PipelineCounts): string {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status}`)
    .join(', ');
}
