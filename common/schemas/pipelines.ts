import { z } from 'zod';
import { PIPELINE_STATUSES } from '../contracts';
import { MAX_START_AFTER_DAYS } from '../start-after';
import { resourceRef, timestamp } from './fields';
import { attemptView, jobSummary, newRun } from './index';
import { paginationQuery } from './pagination';

/** The most jobs one pipeline may have: its workflow's history and input stay well inside Temporal's limits. */
export const MAX_PIPELINE_JOBS = 500;

const startAfter = z.iso.datetime({ offset: true }).optional();

const jobKey = z.string().min(1).max(64).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-"');

export const pipelineNeed = z.strictObject({
  job: jobKey.describe('the key of a job of the same pipeline'),
  requires_success: z.boolean().default(true).describe('true: run only if that job processed (otherwise this job is skipped); false: only wait for it to end'),
});

/** A pipeline's job: everything POST /v0/run takes but the project and idempotency key, which are the pipeline's. */
export const newPipelineJob = newRun.omit({ project: true, idempotency_key: true }).extend({
  key: jobKey.describe('unique in the pipeline; what `needs` refer to'),
  needs: z.array(pipelineNeed).max(MAX_PIPELINE_JOBS).default([]),
  start_after: startAfter.describe(`the job starts no earlier than this, even once its needs are met: \`scheduled\` until then (at most ${MAX_START_AFTER_DAYS} days ahead)`),
});
export type NewPipelineJob = z.infer<typeof newPipelineJob>;

export const newPipeline = z.strictObject({
  project: resourceRef,
  idempotency_key: z.string().min(1).max(128).optional().describe('a repeated submission with the same key answers the pipeline the first one created'),
  start_after: startAfter.describe(`no job of the pipeline starts before this time (at most ${MAX_START_AFTER_DAYS} days ahead)`),
  max_parallel: z.number().int().min(1).max(MAX_PIPELINE_JOBS).optional().describe('at most this many of its jobs run at once (beyond the tier limits and concurrency rules); the others start, in the order they became due, as running ones end'),
  jobs: z.array(newPipelineJob).min(1).max(MAX_PIPELINE_JOBS, `a pipeline has at most ${MAX_PIPELINE_JOBS} jobs; split it into several pipelines`),
});
export type NewPipeline = z.infer<typeof newPipeline>;

/**
 * What a schedule's pipeline template holds: the body of POST /v0/pipelines without the project (the
 * schedule's), the idempotency key (each scheduled run gets its own) and `start_after` (the schedule
 * says when).
 */
export const pipelineTemplate = newPipeline.omit({ project: true, idempotency_key: true, start_after: true });
export type PipelineTemplate = z.infer<typeof pipelineTemplate>;

export const pipelineStatus = z.enum(PIPELINE_STATUSES);

const pipelineShape = {
  uuid: z.uuid(),
  project: z.string(),
  status: pipelineStatus,
  counts: z
    .record(z.string(), z.number())
    .describe("jobs per status: while the pipeline runs, as its jobs' rows say now; once it ended, the final counts its workflow wrote (processed, failed, canceled, skipped)"),
  max_parallel: z.number().nullable(),
  paused: timestamp.nullable().describe('since when the pipeline is paused (no job starts; running ones finish); null when it is not'),
  created: timestamp,
  finished: timestamp.nullable(),
  duration_seconds: z.number().nullable().describe('from submission to the end of its last job; null while it runs'),
  workflow_id: z.string(),
  temporal_ui_url: z.string(),
};

export const pipelineJobView = jobSummary.extend({
  key: z.string(),
  attempts: z.array(attemptView).describe('every runJob attempt, oldest first'),
});

export const pipelineView = z.object({
  ...pipelineShape,
  jobs: z.array(pipelineJobView),
  edges: z.array(z.object({ job: z.string(), needs: z.string(), requires_success: z.boolean() })).describe('`job` needs `needs` (job keys)'),
});
export type PipelineView = z.infer<typeof pipelineView>;

export const pipelineSummary = z.object({ ...pipelineShape, job_count: z.number() });
export type PipelineSummary = z.infer<typeof pipelineSummary>;

export const pipelineListQuery = paginationQuery.extend({
  status: z.union([pipelineStatus, z.array(pipelineStatus)]).optional().describe('only pipelines in this status (repeatable)'),
  since: z.iso.datetime({ offset: true }).optional().describe('only pipelines created at or after this time'),
  until: z.iso.datetime({ offset: true }).optional().describe('only pipelines created before this time'),
});

export const criticalPathJob = z.object({
  key: z.string(),
  job: z.uuid(),
  status: z.string(),
  start_seconds: z.number().describe('when the job could start (its needs had ended, its start_after passed), in seconds from the submission'),
  queue_wait_seconds: z.number().describe('from then to its first claim by a runner (tier permit and runner queue)'),
  run_seconds: z.number().describe('from its first claim to its end (image pull, boot, benchmark, upload, and any retries)'),
  end_seconds: z.number(),
  estimated: z.boolean().describe('true for a job that has not ended: its run time is the median of recent processed jobs of the project with the same spec and command: image repository (any tag), entrypoint and cmd (at least the time it has run so far), its queue wait the time waited so far'),
  samples: z.number().nullable().describe('how many recent jobs the estimate came from (at most 20; 0: no history, run time taken as 0 or as far as it got); null when not estimated'),
});

export const criticalPathView = z.object({
  pipeline: z.uuid(),
  status: pipelineStatus,
  estimated: z.boolean().describe('true while the pipeline runs: the chain and wall time are a forecast from the jobs ended so far and estimates for the rest'),
  wall_seconds: z.number().describe('from submission to the end of the chain’s last job'),
  path: z.array(criticalPathJob).describe('the chain of jobs that set the wall time, first job first: each started when the one before it ended'),
});
export type CriticalPathView = z.infer<typeof criticalPathView>;
