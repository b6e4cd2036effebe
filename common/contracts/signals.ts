import type { SignalDefinition, UpdateDefinition } from '@temporalio/common';

/**
 * Sent to a job workflow waiting for its tier's concurrency permit when a release hands it one
 * (activities/gate.ts). Written as a plain definition (what `defineSignal` returns) so this module
 * stays free of runtime imports (the cast only adds the SDK's phantom argument type).
 */
export const grantedSignal = { type: 'signal', name: 'granted' } as SignalDefinition<[], 'granted'>;

/**
 * Sent to a pipeline's workflow by POST /v0/pipelines/{pipeline}/pause and …/resume: while paused it
 * starts no job (running ones finish); resumed, it starts what is due. Kept in the workflow's
 * history, so a pause survives every restart.
 */
export const pausePipelineSignal = { type: 'signal', name: 'pausePipeline' } as SignalDefinition<[], 'pausePipeline'>;
export const resumePipelineSignal = { type: 'signal', name: 'resumePipeline' } as SignalDefinition<[], 'resumePipeline'>;

/**
 * Sent by POST /v0/specs/{spec}/resume to the workflows of the spec's pending jobs, oldest first: a
 * job whose claim was refused while the spec was paused dispatches again (workflows/job.ts). An
 * update, not a signal: it returns once the workflow task that took it in completed, that is once
 * the job's runJob is back on the runner queue, so the next job is told only then and the jobs
 * keep their order. A workflow with no handler (not dispatching yet) rejects it.
 */
export const specResumedUpdate = { type: 'update', name: 'specResumed' } as UpdateDefinition<void, [], 'specResumed'>;
