import { executeChild, ParentClosePolicy, proxyActivities, workflowInfo } from '@temporalio/workflow';
import {
  jobStartAttributes,
  jobSummary,
  jobWorkflowId,
  pipelineWorkflowId,
  SCHEDULE_GONE,
  SCHEDULED_RUN_REFUSED,
  type ControlActivities,
  type JobOutcome,
  type PipelineOutcome,
  type ScheduledRunInput,
} from '../common/contracts';
import { jobWorkflow } from './job';
import { pipelineWorkflow } from './pipeline';

const { submitScheduledRun, submitScheduledPipeline } = proxyActivities<ControlActivities>({
  startToCloseTimeout: '2 minutes',
  scheduleToCloseTimeout: '15 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: [SCHEDULE_GONE, SCHEDULED_RUN_REFUSED] },
});

/**
 * One run of a schedule (started by its Temporal Schedule): submits the template's job, or its
 * pipeline, under an idempotency key that is this run's workflow id (the schedule's id and the
 * scheduled time), then runs it as a child and ends the way it does. The run lasts as long as its
 * job or pipeline, so the schedule's overlap policy applies to them; canceling the run
 * (CANCEL_OTHER) cancels its child.
 */
export async function scheduledRunWorkflow(input: ScheduledRunInput): Promise<JobOutcome | PipelineOutcome | { status: 'not_committed' }> {
  const { workflowId, taskQueue } = workflowInfo();
  const { scheduleId, kind, ...timings } = input;
  // A run terminated from outside must not leave its job or pipeline running unseen.
  const parentClosePolicy = ParentClosePolicy.REQUEST_CANCEL;
  if (kind === 'pipeline') {
    const pipeline = await submitScheduledPipeline(scheduleId, workflowId, taskQueue, timings);
    return executeChild(pipelineWorkflow, {
      workflowId: pipelineWorkflowId(pipeline.input.pipelineId),
      args: [pipeline.input],
      typedSearchAttributes: pipeline.searchAttributes,
      staticSummary: pipeline.summary,
      parentClosePolicy,
    });
  }
  const job = await submitScheduledRun(scheduleId, workflowId, taskQueue);
  return executeChild(jobWorkflow, {
    workflowId: jobWorkflowId(job.jobId),
    args: [
      {
        jobId: job.jobId,
        spec: job.spec,
        priorityKey: job.priorityKey,
        timeoutSeconds: job.timeoutSeconds,
        heartbeatTimeoutSeconds: input.heartbeatTimeoutSeconds,
        queueLimitSeconds: input.queueLimitSeconds,
        concurrencyGate: job.concurrencyGate && { ...job.concurrencyGate, checkIntervalSeconds: input.permitCheckIntervalSeconds },
      },
    ],
    typedSearchAttributes: jobStartAttributes({ ...job.labels, spec: job.spec.slug }),
    staticSummary: jobSummary(job.labels),
    parentClosePolicy,
  });
}
