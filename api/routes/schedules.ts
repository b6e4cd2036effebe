import { ScheduleNotFoundError, type ScheduleDescription, type ScheduleHandle } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SCHEDULED_RUN_WORKFLOW, temporalScheduleId, type JobStatus, type PipelineStatus, type ScheduledRunInput } from '../../common/contracts';
import { errorBody } from '../../common/schemas';
import { resourceRef } from '../../common/schemas/fields';
import { paginationQuery } from '../../common/schemas/pagination';
import { newSchedule, scheduleNote, scheduleView, type NewSchedule, type ScheduleView } from '../../common/schemas/schedules';
import { tierOf, tierPolicy } from '../../common/tiers';
import { sealPipelineCredentials, sealRunCredentials } from '../../common/secret-box';
import { findTestbed, getOrganization } from '../../db/projects';
import { isUuid } from '../../db/refs';
import type { ProjectRow } from '../../db/rows';
import { deleteSchedule, findSchedule, insertSchedule, schedulesQuery, submittedByIdempotencyKeys, type ScheduleListRow } from '../../db/schedules';
import { resolveSpec, SpecResolutionError } from '../../db/specs';
import { badRequest, HttpError, notFound } from '../errors';
import { checkJobImage, checkTimeout } from '../job-submission';
import { paginate } from '../pagination';
import { checkPipeline } from '../pipeline-submission';
import { errorResponses, writableProject } from '../resources';

const tags = ['schedules'];
const projectParams = z.object({ project: resourceRef });
const scheduleParams = projectParams.extend({ schedule: z.string().describe('the schedule UUID') });
const responses = { ...errorResponses, 503: errorBody };

/**
 * Schedules: a Temporal Schedule per row, each run submitting the row's template as its creator
 * (workflows/scheduled-run.ts). Temporal holds the timing (cron, time zone, pause, next runs, recent
 * runs); the row the project, the template and the creator. Members of the project's organization
 * manage them, as they submit runs; templates are theirs alone to read (they may hold secrets).
 */
const scheduleRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/v0/projects/:project/schedules',
    {
      preHandler: app.requireUser,
      schema: {
        summary: 'Create a schedule: a cron expression (in a time zone) that submits a run or pipeline template (members)',
        tags,
        params: projectParams,
        body: newSchedule,
        response: { 201: scheduleView, ...responses },
      },
    },
    async (request, reply) => {
      const project = await writableProject(app.db, request, request.params.project, 'member');
      const body = request.body;
      const template = body.template;
      const organization = await getOrganization(app.db, project.organization_id);
      const policy = tierPolicy(tierOf(organization));
      // The checks a run of this template would meet today; each run makes the ones that depend on the present again.
      if (template.kind === 'run') {
        checkJobImage(app, request, template.run.job.image, 'body.template.run');
        checkTimeout(policy, template.run.job.timeout, 'body.template.run');
        try {
          await resolveSpec(app.db, template.run.job.spec, await findTestbed(app.db, project.id, template.run.testbed));
        } catch (err) {
          if (err instanceof SpecResolutionError) throw badRequest('body.template.run.job.spec', err.message);
          throw err;
        }
      } else {
        // Exactly as POST /v0/pipelines checks its body.
        template.pipeline.jobs.forEach((job, i) => checkJobImage(app, request, job.job.image, `body.template.pipeline.jobs[${i}]`));
        await checkPipeline(app.db, project, organization, policy, template.pipeline, 'body.template.pipeline', app.config.runnerActiveSeconds);
      }
      // Registry passwords sealed before the transaction; each run copies them into its jobs still sealed.
      const sealed =
        template.kind === 'run'
          ? { ...template, run: sealRunCredentials(template.run, app.config.secretsKey) }
          : { ...template, pipeline: sealPipelineCredentials(template.pipeline, app.config.secretsKey) };
      const created = await app.db.transaction(async (trx) => {
        const row = await insertSchedule(trx, {
          project_id: project.id, template: sealed, cron: body.cron, timezone: body.timezone, created_by: request.user!.id, source_ip: request.ip,
        });
        // Before COMMIT: a schedule Temporal refused leaves no row behind.
        await createTemporalSchedule(row.id, body);
        return row;
      });
      return reply.status(201).send(await toView(project, { ...created, created_by_slug: request.user!.slug }));
    },
  );

  app.get(
    '/v0/projects/:project/schedules',
    {
      preHandler: app.requireUser,
      schema: { summary: "List a project's schedules, with their next and last runs (members)", tags, params: projectParams, querystring: paginationQuery, response: { 200: z.array(scheduleView), ...responses } },
    },
    async (request, reply) => {
      const project = await writableProject(app.db, request, request.params.project, 'member');
      const rows = await paginate<ScheduleListRow>(app.db, reply, schedulesQuery(app.db, project.id), request.query, [{ column: 'schedule.created_at', order: 'desc' }, { column: 'schedule.id' }]);
      const views = await Promise.all(
        rows.map((row) =>
          toView(project, row).catch((err) => {
            // Gone from Temporal while its row stayed (a delete whose COMMIT failed after Temporal's): one
            // such row must not hide the others. It still counts in X-Total-Count until deleted again.
            if (err instanceof HttpError && err.statusCode === 404) return undefined;
            throw err;
          }),
        ),
      );
      return views.filter((v) => v !== undefined);
    },
  );

  app.get(
    '/v0/projects/:project/schedules/:schedule',
    {
      preHandler: app.requireUser,
      schema: { summary: 'View a schedule: its next run times (from Temporal) and its last runs with their jobs (members)', tags, params: scheduleParams, response: { 200: scheduleView, ...responses } },
    },
    async (request) => {
      const { project, row } = await scheduleOf(request);
      return toView(project, row);
    },
  );

  const pauses = [
    { path: 'pause', summary: 'Pause a schedule: no timed run starts until it is resumed (members)', act: (h: ScheduleHandle, note: string) => h.pause(note) },
    { path: 'resume', summary: 'Resume a paused schedule (members)', act: (h: ScheduleHandle, note: string) => h.unpause(note) },
  ] as const;
  for (const { path, summary, act } of pauses) {
    app.post(
      `/v0/projects/:project/schedules/:schedule/${path}`,
      { preHandler: app.requireUser, schema: { summary, tags, params: scheduleParams, body: scheduleNote, response: { 200: scheduleView, ...responses } } },
      async (request) => {
        const { project, row } = await scheduleOf(request);
        await temporal(row.id, () => act(handle(row.id), request.body?.note ?? `${path}d by ${request.user!.slug}`));
        return toView(project, row);
      },
    );
  }

  app.post(
    '/v0/projects/:project/schedules/:schedule/trigger',
    {
      preHandler: app.requireUser,
      schema: { summary: 'Run a schedule now, once, besides its timed runs, paused or not (members)', tags, params: scheduleParams, response: { 202: scheduleView, ...responses } },
    },
    async (request, reply) => {
      const { project, row } = await scheduleOf(request);
      // ALLOW_ALL: "now" means now, whatever already runs; the overlap policy governs the timed runs.
      await temporal(row.id, () => handle(row.id).trigger('ALLOW_ALL'));
      return reply.status(202).send(await toView(project, row));
    },
  );

  app.delete(
    '/v0/projects/:project/schedules/:schedule',
    { preHandler: app.requireUser, schema: { summary: 'Delete a schedule; runs already started go on (members)', tags, params: scheduleParams, response: { 204: z.null(), ...responses } } },
    async (request, reply) => {
      const { row } = await scheduleOf(request);
      await app.db.transaction(async (trx) => {
        if (!(await deleteSchedule(trx, row.id))) throw notFound(`schedule "${row.id}"`);
        // Before COMMIT: a schedule Temporal still runs keeps its row. One already gone there is what was asked.
        try {
          await temporal(row.id, () => handle(row.id).delete());
        } catch (err) {
          if (!(err instanceof HttpError && err.statusCode === 404)) throw err;
        }
      });
      return reply.status(204).send(null);
    },
  );

  const handle = (id: string) => app.temporal.schedule.getHandle(temporalScheduleId(id));

  async function scheduleOf(request: { params: z.infer<typeof scheduleParams> } & Parameters<typeof writableProject>[1]): Promise<{ project: ProjectRow; row: ScheduleListRow }> {
    const project = await writableProject(app.db, request, request.params.project, 'member');
    const row = isUuid(request.params.schedule) ? await findSchedule(app.db, project.id, request.params.schedule) : undefined;
    if (!row) throw notFound(`schedule "${request.params.schedule}"`);
    return { project, row };
  }

  /** A Temporal call: a schedule it does not know is a 404, an unreachable server a 503. */
  async function temporal<T>(id: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) throw notFound(`schedule "${id}"`);
      app.log.error({ err, schedule: id }, 'Temporal schedule call failed');
      throw new HttpError(503, 'unavailable', 'the schedule service (Temporal) did not answer; retry later');
    }
  }

  async function createTemporalSchedule(id: string, body: NewSchedule): Promise<void> {
    const input: ScheduledRunInput = {
      scheduleId: id,
      kind: body.template.kind,
      heartbeatTimeoutSeconds: app.config.heartbeatTimeoutSeconds,
      queueLimitSeconds: app.config.queueLimitSeconds,
      permitCheckIntervalSeconds: app.config.permitCheckIntervalSeconds,
    };
    try {
      await app.temporal.schedule.create({
        scheduleId: temporalScheduleId(id),
        spec: { cronExpressions: [body.cron], timezone: body.timezone },
        action: { type: 'startWorkflow', workflowType: SCHEDULED_RUN_WORKFLOW, workflowId: temporalScheduleId(id), taskQueue: app.config.controlTaskQueue, args: [input] },
        policies: { overlap: body.overlap },
        state: { paused: body.paused, note: body.note },
      });
    } catch (err) {
      // The SDK's answer to a spec the server refused (schemas/schedules.ts catches what it can first).
      if (err instanceof TypeError) throw badRequest('body.cron', err.message);
      app.log.error({ err, schedule: id }, 'could not create the Temporal schedule');
      throw new HttpError(503, 'unavailable', 'the schedule could not be created: Temporal is unreachable; retry later');
    }
  }

  async function toView(project: ProjectRow, row: ScheduleListRow): Promise<ScheduleView> {
    const described: ScheduleDescription = await temporal(row.id, () => handle(row.id).describe());
    const recent = [...described.info.recentActions].reverse();
    const keys = recent.map((a) => a.action.workflow.workflowId);
    const template = row.template;
    const jobs = template.kind === 'run' ? await submittedByIdempotencyKeys<JobStatus>(app.db, 'job', project.id, keys) : new Map();
    const pipelines = template.kind === 'pipeline' ? await submittedByIdempotencyKeys<PipelineStatus>(app.db, 'pipeline', project.id, keys) : new Map();
    return {
      uuid: row.id,
      project: project.slug,
      cron: row.cron,
      timezone: row.timezone,
      overlap: described.policies.overlap as ScheduleView['overlap'],
      paused: described.state.paused,
      note: described.state.note || null,
      template:
        template.kind === 'run'
          ? { ...template, run: masked(template.run) }
          : { ...template, pipeline: { ...template.pipeline, jobs: template.pipeline.jobs.map(masked) } },
      created_by: row.created_by_slug,
      created: row.created_at.toISOString(),
      next_runs: described.info.nextActionTimes.map((t) => t.toISOString()),
      last_runs: recent.map((a) => {
        const job = jobs.get(a.action.workflow.workflowId);
        const pipeline = pipelines.get(a.action.workflow.workflowId);
        return {
          scheduled_at: a.scheduledAt.toISOString(),
          started_at: a.takenAt.toISOString(),
          workflow_id: a.action.workflow.workflowId,
          job: job?.id ?? null,
          job_status: job?.status ?? null,
          pipeline: pipeline?.id ?? null,
          pipeline_status: pipeline?.status ?? null,
        };
      }),
    };
  }
};

/** A job of a template as shown: its registry password masked. */
function masked<T extends { job: { image_credentials?: { username: string; password: string } } }>(run: T): T {
  const credentials = run.job.image_credentials;
  return credentials ? { ...run, job: { ...run.job, image_credentials: { username: credentials.username, password: '***' } } } : run;
}

export default scheduleRoutes;
