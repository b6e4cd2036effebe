import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { JOB_PROJECT_ATTRIBUTE, pausePipelineSignal, PIPELINE_WORKFLOW, pipelineWorkflowId, resumePipelineSignal } from '../../common/contracts';
import { errorBody, resourceRef } from '../../common/schemas';
import { newPipeline, pipelineListQuery, pipelineSummary, pipelineView } from '../../common/schemas/pipelines';
import { tierOf, tierPolicy } from '../../common/tiers';
import { sealPipelineCredentials } from '../../common/secret-box';
import { DuplicatePipeline, pipelineByIdempotencyKey, pipelinesQuery, setPipelinePaused, writePipeline, type PipelineListRow } from '../../db/pipelines';
import { getOrganization } from '../../db/projects';
import { conflict } from '../errors';
import { checkJobImage, startBeforeCommit } from '../job-submission';
import { checkPipeline, pipelineSubmission, pipelineWorkflowInput, pipelineWorkflowSummary } from '../pipeline-submission';
import { paginate } from '../pagination';
import { cancelablePipeline, readablePipeline, readableProject } from '../project-access';
import { rateLimit } from '../rate-limit';
import { writableProject } from '../resources';
import { toPipelineSummary, toPipelineView } from '../views';

const pipelineParams = z.object({ pipeline: z.string() });

/**
 * Pipelines: DAGs of benchmark jobs submitted together. Each job is checked, written and started
 * exactly as a single run's (api/job-submission.ts); the pipeline adds the graph check, writes
 * everything in one transaction and starts one pipelineWorkflow inside it, before COMMIT (the
 * checks, rows and input are api/pipeline-submission.ts's, which scheduled pipelines share).
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
      body.jobs.forEach((job, i) => checkJobImage(app, request, job.job.image, `body.jobs[${i}]`));
      const project = await writableProject(app.db, request, body.project, 'member');
      const existing = await pipelineByIdempotencyKey(app.db, project.id, body.idempotency_key);
      if (existing) return reply.status(202).send(await toPipelineView(app.db, app.config, project, existing, true));
      const organization = await getOrganization(app.db, project.organization_id);
      const checked = await checkPipeline(app.db, project, organization, tierPolicy(tierOf(organization)), body, 'body', app.config.runnerActiveSeconds);

      try {
        const { pipeline } = await writePipeline(
          app.db,
          // Registry passwords sealed before the transaction, as POST /v0/run does.
          pipelineSubmission(project, sealPipelineCredentials(body, app.config.secretsKey), checked, { idempotencyKey: body.idempotency_key ?? null, submittedBy: request.user!.id, sourceIp: request.ip }),
          async (pipeline, jobs) => {
            await startBeforeCommit(
              app,
              PIPELINE_WORKFLOW,
              {
                workflowId: pipelineWorkflowId(pipeline.id),
                args: [pipelineWorkflowInput(app.config, app.config.controlTaskQueue, project, pipeline, jobs, body, checked)],
                typedSearchAttributes: [{ key: JOB_PROJECT_ATTRIBUTE, value: project.slug }],
                staticSummary: pipelineWorkflowSummary(project, jobs.length),
              },
              'pipeline',
            );
          },
        );
        app.metrics.jobsSubmitted.inc({ tier: checked.policy.tier }, body.jobs.length);
        return reply.status(202).send(await toPipelineView(app.db, app.config, project, pipeline, true));
      } catch (err) {
        if (!(err instanceof DuplicatePipeline)) throw err;
        // The same idempotency key won a race with this request: answer with that pipeline.
        const winner = (await pipelineByIdempotencyKey(app.db, project.id, body.idempotency_key))!;
        return reply.status(202).send(await toPipelineView(app.db, app.config, project, winner, true));
      }
    },
  );

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
};

export default pipelineRoutes;
