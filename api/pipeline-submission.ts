import type { Knex } from 'knex';
import type { JobTimings, PipelineWorkflowInput } from '../common/contracts';
import { pipelineNeeds } from '../common/pipeline-graph';
import type { NewRun } from '../common/schemas';
import type { PipelineTemplate } from '../common/schemas/pipelines';
import { delayedStart } from '../common/start-after';
import { jobGates, type ConcurrencyRule, type TierPolicy } from '../common/tiers';
import { projectRules } from '../db/concurrency-rules';
import type { PipelineSubmission } from '../db/pipelines';
import type { JobRow, OrganizationRow, PipelineRow, ProjectRow, SpecRow } from '../db/rows';
import { checkTimeout, jobLabels, jobWorkflowStart, placeJob } from './job-submission';

/**
 * A pipeline's checks, its rows and its workflow's input, shared by POST /v0/pipelines and each run
 * of a schedule with a pipeline template (activities/scheduled-run.ts), so both accept, write and
 * start a pipeline the same way. The checks throw FieldErrors naming `field` (`body` for POST
 * /v0/pipelines, `body.template.pipeline` for a schedule), which the api answers as 400s; the
 * image checks, which need the caller, stay with the api (checkJobImage).
 */
export interface CheckedPipeline {
  /** Each job's needs, as indices into the jobs. */
  needs: number[][];
  policy: TierPolicy;
  /** Each job's delayed start: the later of its own and the pipeline's start_after. */
  startsAfter: (Date | undefined)[];
  placements: { spec: SpecRow; taskQueue: string }[];
  /** The project's concurrency rules, read only when a job has labels. */
  rules: ConcurrencyRule[];
}

type PipelineBody = PipelineTemplate & { start_after?: string };

export async function checkPipeline(
  db: Knex,
  project: ProjectRow,
  organization: OrganizationRow,
  policy: TierPolicy,
  body: PipelineBody,
  field: string,
  activeRunnerSeconds: number,
): Promise<CheckedPipeline> {
  const needs = pipelineNeeds(body.jobs, `${field}.jobs`);
  body.jobs.forEach((job, i) => checkTimeout(policy, job.job.timeout, `${field}.jobs[${i}]`));
  // A job waits for the later of its own and the pipeline's start_after; both are checked.
  const now = new Date();
  const pipelineStart = delayedStart(body.start_after, now, `${field}.start_after`);
  const startsAfter = body.jobs.map((job, i) => later(pipelineStart, delayedStart(job.start_after, now, `${field}.jobs[${i}].start_after`)));
  // Jobs on the same testbed and spec share one lookup.
  const seen = new Map<string, { spec: SpecRow; taskQueue: string }>();
  const placements = [];
  for (const [i, job] of body.jobs.entries()) {
    const key = JSON.stringify([job.testbed, job.job.spec ?? null]);
    if (!seen.has(key)) seen.set(key, await placeJob(db, project, organization, job, `${field}.jobs[${i}]`, activeRunnerSeconds));
    placements.push(seen.get(key)!);
  }
  const rules = body.jobs.some((job) => job.labels && Object.keys(job.labels).length) ? await projectRules(db, project.id) : [];
  return { needs, policy, startsAfter, placements, rules };
}

/** What writePipeline writes for a checked pipeline, submitted by `submittedBy` from `sourceIp`. */
export function pipelineSubmission(
  project: ProjectRow,
  body: PipelineBody,
  checked: CheckedPipeline,
  who: { idempotencyKey: string | null; submittedBy: string | null; sourceIp: string },
): PipelineSubmission {
  return {
    project,
    idempotencyKey: who.idempotencyKey,
    submittedBy: who.submittedBy,
    maxParallel: body.max_parallel ?? null,
    jobs: body.jobs.map((job, i) => ({
      key: job.key,
      startAfter: checked.startsAfter[i],
      body: runBody(project, body, i),
      spec: checked.placements[i].spec,
      policy: checked.policy,
      sourceIp: who.sourceIp,
      submittedBy: who.submittedBy,
    })),
    edges: checked.needs.flatMap((parents, i) => parents.map((p, n) => ({ job: i, needs: p, requiresSuccess: body.jobs[i].needs[n].requires_success }))),
  };
}

/** The pipelineWorkflow's input for the written pipeline: `jobs` in the body's order; `gateScope`, the control task queue. */
export function pipelineWorkflowInput(
  config: JobTimings,
  gateScope: string,
  project: ProjectRow,
  pipeline: PipelineRow,
  jobs: JobRow[],
  body: PipelineBody,
  checked: CheckedPipeline,
): PipelineWorkflowInput {
  return {
    pipelineId: pipeline.id,
    maxParallel: body.max_parallel,
    jobs: jobs.map((job, i) => {
      // Not admitted here: each job takes its permits, or its places in the queues, once the pipeline starts it.
      const gates = jobGates(job, gateScope, checked.rules);
      const admission = gates.length ? { gates, admitted: false } : undefined;
      const { spec, taskQueue } = checked.placements[i];
      const start = jobWorkflowStart(config, job, spec, taskQueue, jobLabels(project.slug, body.jobs[i]), admission);
      const need = body.jobs[i].needs;
      return {
        key: body.jobs[i].key,
        input: start.input,
        searchAttributes: start.searchAttributes,
        summary: start.summary,
        needs: checked.needs[i].map((p, n) => ({ job: p, requiresSuccess: need[n].requires_success })),
        startAfter: checked.startsAfter[i]?.getTime(),
      };
    }),
  };
}

/** The pipeline workflow's one line in the Temporal UI. */
export function pipelineWorkflowSummary(project: ProjectRow, jobCount: number): string {
  return `pipeline of ${jobCount} job${jobCount === 1 ? '' : 's'} · ${project.slug}`;
}

function later(a: Date | undefined, b: Date | undefined): Date | undefined {
  return a && b ? (a > b ? a : b) : (a ?? b);
}

/** A pipeline job's body as POST /v0/run would take it: the project is the pipeline's, the key and needs are the pipeline's business. */
function runBody(project: ProjectRow, body: PipelineBody, i: number): NewRun {
  const { key: _key, needs: _needs, start_after: _startAfter, ...run } = body.jobs[i];
  return { ...run, project: project.id };
}
