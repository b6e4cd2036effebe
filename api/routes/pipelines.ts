import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { JOB_PROJECT_ATTRIBUTE, pausePipelineSignal, PIPELINE_WORKFLOW, pipelineWorkflowId, resumePipelineSignal, type PipelineWorkflowInput } from '../../common/contracts';
import { pipelineNeeds } from '../../common/pipeline-graph';
import { errorBody, resourceRef, type NewRun } from '../../common/schemas';
import { newPipeline, pipelineListQuery, pipelineSummary, pipelineView, type NewPipeline } from '../../common/schemas/pipelines';
import { delayedStart } from '../../common/start-after';
import { jobGates, tierOf, tierPolicy } from '../../common/tiers';
import { projectRules } from '../../db/concurrency-rules';
import { DuplicatePipeline, pipelineByIdempotencyKey, pipelinesQuery, setPipelinePaused, writePipeline, type PipelineListRow } from '../../db/pipelines';
import { getOrganization } from '../../db/projects';
import type { OrganizationRow, ProjectRow, SpecRow } from '../../db/rows';
import { conflict } from '../errors';
import { checkJobImage, checkTimeout, jobLabels, jobWorkflowStart, placeJob, startBeforeCommit } from '../job-submission';
import { paginate } from '../pagination';
import { cancelablePipeline, readablePipeline, readableProject } from '../project-access';
import { rateLimit } from '../rate-limit';
import { writableProject } from '../resources';
import { toPipelineSummary, toPipelineView } from '../views';

const pipelineParams = z.object({ pipeline: z.string() });

/**
 * Pipelines: DAGs of benchmark jobs submitted together. Each job is checked, written and started
 * exactly as a single run's (api/job-submission.ts); the pipeline adds the graph check, writes
 * everything in one transaction and starts one pipelineWorkflow inside it, before COMMIT.
 */
const pipelineRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/v0/pipelines',
    {
      // Pipelines need an API token: the anonymous path (a new unclaimed organization per submission) stays for single runs.
      preHandler: [app.requireUser, rateLimit(app.db, app.config.rateLimits)],
      schema: { summary: 'Submit a pipeline: a DAG of benchmark jobs', tags: ['pipelines'], body: newPipeline, response: { 202: pipelineView, 403: errorBody, 404: errorBody } },
    },
    async (request, reply) => {
      const body = request.body;
      // Every check before the first write: the graph, then each job as POST /v0/run checks it.
      const needs = pipelineNeeds(body.jobs);
      body.jobs.forEach((job, i) => checkJobImage(app, request, job.job.image, `body.jobs[${i}]`));
      const project = await writableProject(app.db, request, body.project, 'member');
      const organization = await getOrganization(app.db, project.organization_id);
      const policy = tierPolicy(tierOf(organization));
      body.jobs.forEach((job, i) => checkTimeout(policy, job.job.timeout, `body.jobs[${i}]`));
      // A job waits for the later of its own and the pipeline's start_after; both are checked.
      const now = new Date();
      const pipelineStart = delayedStart(body.start_after, now, 'body.start_after');
      const startsAfter = body.jobs.map((job, i) => later(pipelineStart, delayedStart(job.start_after, now, `body.jobs[${i}].start_after`)));

      const existing = await pipelineByIdempotencyKey(app.db, project.id, body.idempotency_key);
      if (existing) return reply.status(202).send(await toPipelineView(app.db, app.config, project, existing, true));
      const placements = await placeJobs(project, organization, body);
      const rules = body.jobs.some((job) => job.labels && Object.keys(job.labels).length) ? await projectRules(app.db, project.id) : [];

      try {
        const { pipeline } = await writePipeline(
          app.db,
          {
            project,
            idempotencyKey: body.idempotency_key ?? null,
            submittedBy: request.user!.id,
            maxParallel: body.max_parallel ?? null,
            jobs: body.jobs.map((job, i) => ({ key: job.key, startAfter: startsAfter[i], body: runBody(body, i), spec: placements[i].spec, policy, sourceIp: request.ip, submittedBy: request.user!.id })),
            edges: needs.flatMap((parents, i) => parents.map((p, n) => ({ job: i, needs: p, requiresSuccess: body.jobs[i].needs[n].requires_success }))),
          },
          async (pipeline, jobs) => {
            const input: PipelineWorkflowInput = {
              pipelineId: pipeline.id,
              maxParallel: body.max_parallel,
              jobs: jobs.map((job, i) => {
                // Not admitted here: each job takes its permits, or its places in the queues, once the pipeline starts it.
                const gates = jobGates(job, app.config.controlTaskQueue, rules);
                const admission = gates.length ? { gates, admitted: false } : undefined;
                const start = jobWorkflowStart(app, job, placements[i].spec, placements[i].taskQueue, jobLabels(project.slug, body.jobs[i]), admission);
                const need = body.jobs[i].needs;
                return {
                  key: body.jobs[i].key,
                  input: start.input,
                  searchAttributes: start.searchAttributes,
                  summary: start.summary,
                  needs: needs[i].map((p, n) => ({ job: p, requiresSuccess: need[n].requires_success })),
                  startAfter: startsAfter[i]?.getTime(),
                };
              }),
            };
            await startBeforeCommit(
              app,
              PIPELINE_WORKFLOW,
              {
                workflowId: pipelineWorkflowId(pipeline.id),
                args: [input],
                typedSearchAttributes: [{ key: JOB_PROJECT_ATTRIBUTE, value: project.slug }],
                staticSummary: `pipeline of ${jobs.length} job${jobs.length === 1 ? '' : 's'} · ${project.slug}`,
              },
              'pipeline',
            );
          },
        );
        app.metrics.jobsSubmitted.inc({ tier: policy.tier }, body.jobs.length);
        return reply.status(202).send(await toPipelineView(app.db, app.config, project, pipeline, true));
      } catch (err) {
        if (!(err instanceof DuplicatePipeline)) throw err;
        // The same idempotency key won a race with this request: answer with that pipeline.
        const winner = (await pipelineByIdempotencyKey(app.db, project.id, body.idempotency_key))!;
        return reply.status(202).send(await toPipelineView(app.db, app.config, project, winner, true));
      }
    },
  );

  /** Each job's spec and runner queue; jobs on the same testbed and spec share one lookup. */
  async function placeJobs(project: ProjectRow, organization: OrganizationRow, body: NewPipeline): Promise<{ spec: SpecRow; taskQueue: string }[]> {
    const seen = new Map<string, { spec: SpecRow; taskQueue: string }>();
    const placements = [];
    for (const [i, job] of body.jobs.entries()) {
      const key = JSON.stringify([job.testbed, job.job.spec ?? null]);
      if (!seen.has(key)) seen.set(key, await placeJob(app, project, organization, job, `body.jobs[${i}]`));
      placements.push(seen.get(key)!);
    }
    return placements;
  }

  app.get(
    '/v0/pipelines/:pipeline',
    {
      // No claim token: an anonymous submitter cannot create a pipeline, so no claim can read one.
      preHandler: [app.optionalUser],
      schema: { summary: 'View a pipeline: its jobs, edges, statuses and timings', tags: ['pipelines'], params: pipelineParams, response: { 200: pipelineView } },
    },
    async (request) => {
      const { project, pipeline, member } = await readablePipeline(app.db, request, request.params.pipeline);
      return toPipelineView(app.db, app.config, project, pipeline, member);
    },
  );

  app.get(
    '/v0/projects/:project/pipelines',
    {
      preHandler: [app.optionalUser],
      schema: {
        summary: "List a project's pipelines, newest first",
        tags: ['pipelines'],
        params: z.object({ project: resourceRef }),
        querystring: pipelineListQuery,
        response: { 200: z.array(pipelineSummary) },
      },
    },
    async (request, reply) => {
      const { project } = await readableProject(app.db, request, request.params.project);
      const { status, since, until, ...page } = request.query;
      const query = pipelinesQuery(app.db, {
        projectId: project.id,
        statuses: status ? [status].flat() : undefined,
        since: since ? new Date(since) : undefined,
        until: until ? new Date(until) : undefined,
      });
      const rows = await paginate<PipelineListRow>(app.db, reply, query, page, [{ column: 'pipeline.created_at', order: 'desc' }, { column: 'pipeline.id' }]);
      return Promise.all(rows.map((row) => toPipelineSummary(app.db, app.config, row)));
    },
  );

  /**
   * Cancel, pause and resume: each tells the pipeline's workflow, which does the rest. Cancel: its
   * running children are canceled with it, the jobs not started are marked canceled. Pause and
   * resume: the workflow holds the pause (in its history); the row only shows it, and a repeated
   * call is harmless.
   */
  const controls = {
    cancel: {
      summary: "Cancel a pipeline: its running jobs are canceled as single jobs are, the others never start",
      done: 'canceled',
      tell: (handle: WorkflowHandle) => handle.cancel(),
    },
    pause: {
      summary: 'Pause a pipeline: no job of it starts until it is resumed; running jobs finish',
      done: 'paused',
      tell: (handle: WorkflowHandle) => handle.signal(pausePipelineSignal),
    },
    resume: {
      summary: 'Resume a paused pipeline: the jobs that became due start, in order',
      done: 'resumed',
      tell: (handle: WorkflowHandle) => handle.signal(resumePipelineSignal),
    },
  };
  for (const [action, control] of Object.entries(controls)) {
    app.post(
      `/v0/pipelines/:pipeline/${action}`,
      {
        preHandler: [app.requireUser],
        schema: {
          summary: `${control.summary} (its submitter, its organization's leaders, server admins)`,
          tags: ['pipelines'],
          params: pipelineParams,
          response: { 202: pipelineView, 403: errorBody, 409: errorBody },
        },
      },
      async (request, reply) => {
        const { project, pipeline, member } = await cancelablePipeline(app.db, request, request.params.pipeline);
        if (pipeline.status !== 'running') throw conflict(`pipeline ${pipeline.id} is already ${pipeline.status}`);
        try {
          await control.tell(app.temporal.workflow.getHandle(pipelineWorkflowId(pipeline.id)));
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) throw conflict(`pipeline ${pipeline.id} is finishing and can no longer be ${control.done}`);
          throw err;
        }
        const shown = action === 'cancel' ? pipeline : ((await setPipelinePaused(app.db, pipeline.id, action === 'pause')) ?? pipeline);
        return reply.status(202).send(await toPipelineView(app.db, app.config, project, shown, member));
      },
    );
  }

  function later(a: Date | undefined, b: Date | undefined): Date | undefined {
    return a && b ? (a > b ? a : b) : (a ?? b);
  }

  /** A pipeline job's body as POST /v0/run would take it: the project is the pipeline's, the key and needs are the pipeline's business. */
  function runBody(body: NewPipeline, i: number): NewRun {
    const { key: _key, needs: _needs, start_after: _startAfter, ...run } = body.jobs[i];
    return { ...run, project: body.project };
  }
};

export default pipelineRoutes;
