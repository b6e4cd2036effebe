import type { SearchAttributePair } from '@temporalio/common';
import type { JobStatus } from './job-status';
import type { JobWorkflowInput } from './workflows';

/**
 * A pipeline: a DAG of jobs submitted together, run by one pipelineWorkflow that starts each job's
 * jobWorkflow as a child once its needs are met. Shared by the api (which starts it), the workflow
 * and the control activities it calls.
 */
export const PIPELINE_WORKFLOW = 'pipelineWorkflow';

export function pipelineWorkflowId(pipelineId: string): string {
  return `pipeline-${pipelineId}`;
}

export const PIPELINE_STATUSES = ['running', 'succeeded', 'failed', 'canceled'] as const;
export type PipelineStatus = (typeof PIPELINE_STATUSES)[number];

/** How a pipeline's jobs ended: one count per terminal job status. */
export type PipelineCounts = Record<Extract<JobStatus, 'processed' | 'failed' | 'canceled' | 'skipped'>, number>;

export interface PipelineNeed {
  /** Index of the parent job in the pipeline's `jobs`. */
  job: number;
  /** When true, the parent must process for this job to run; otherwise it only has to end. */
  requiresSuccess: boolean;
}

export interface PipelineJob {
  key: string;
  /** The child's input, built by the same code as a single job's (`job-<uuid>` workflow id included). */
  input: JobWorkflowInput;
  searchAttributes: SearchAttributePair[];
  summary: string;
  needs: PipelineNeed[];
  /** Not started before this time (ms since the epoch), even once its needs are met: a durable timer, no polling. */
  startAfter?: number;
}

export interface PipelineWorkflowInput {
  pipelineId: string;
  jobs: PipelineJob[];
  /** At most this many jobs started and not ended at once; unlimited when absent. */
  maxParallel?: number;
}

/** A scheduled run's pipeline, written and checked like a POST /v0/pipelines submission: what its pipelineWorkflow starts with. */
export interface ScheduledPipeline {
  input: PipelineWorkflowInput;
  searchAttributes: SearchAttributePair[];
  summary: string;
}

/** A job the pipeline settles without running it: skipped (a required parent did not process) or canceled (the pipeline was). */
export interface UnstartedJob {
  jobId: string;
  reason: string;
}

/** Failure type a pipeline workflow ends with when one of its jobs did not process (the counts are in the message and on the row). */
export const PIPELINE_FAILED_FAILURE = 'PipelineFailed';

export interface PipelineOutcome {
  status: Exclude<PipelineStatus, 'running'>;
  counts: PipelineCounts;
}

/** The control activities a pipeline workflow calls (part of ControlActivities). */
export interface PipelineActivities {
  /** Waits for the submission's transaction; false when it never committed the pipeline. */
  pipelineCommitted(pipelineId: string): Promise<boolean>;
  /** Moves jobs that never started from pending to `to`, each with its reason (idempotent: a job already ended is left alone). */
  settleUnstartedJobs(jobs: UnstartedJob[], to: 'skipped' | 'canceled'): Promise<void>;
  /** Writes the pipeline's final status and counts (once, conditionally on it still running). */
  finishPipeline(pipelineId: string, outcome: PipelineOutcome): Promise<void>;
}
