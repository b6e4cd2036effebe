import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorBody, jobChanges, jobChangesQuery, jobListItem, jobListQuery, jobView, MAX_JOB_CHANGES, reportView, resourceRef } from '../../common/schemas';
import { WorkflowNotFoundError } from '@temporalio/client';
import { isTerminal, jobWorkflowId } from '../../common/contracts';
import { getJob } from '../../db/jobs';
import { jobChangesSince, jobSummariesQuery, type JobSummaryRow } from '../../db/job-lists';
import { getOutput } from '../../db/outputs';
import { getReport } from '../../db/reports';
import { isUuid } from '../../db/refs';
import { conflict, notFound } from '../errors';
import { cancelableJob, readableProject } from '../project-access';
import { paginate } from '../pagination';
import { jobListItems, toJobView, toReportView } from '../views';

const jobParams = z.object({ project: resourceRef, job: z.string() });
const reportParams = z.object({ project: resourceRef, report: z.string() });

/**
 * Project-scoped reads: jobs and reports. Members see everything, and so does the anonymous
 * submitter with its organization's claim token (X-Benchline-Claim-Token) while it is unclaimed;
 * others only public projects' public fields.
 */
const projectRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/v0/projects/:project/jobs/:job',
    { preHandler: [app.optionalUser, app.optionalClaimant], schema: { summary: 'View a job', tags: ['jobs'], params: jobParams, response: { 200: jobView, 401: errorBody, 404: errorBody } } },
    async (request) => {
      const { project, member } = await readableProject(app.db, request, request.params.project);
      const job = isUuid(request.params.job) ? await getJob(app.db, request.params.job) : undefined;
      if (!job || job.project_id !== project.id) throw notFound(`job "${request.params.job}"`);
      return toJobView(app.db, app.config, project, job, member);
    },
  );

  app.get(
    '/v0/projects/:project/jobs',
    {
      preHandler: [app.optionalUser, app.optionalClaimant],
      schema: {
        summary: "List a project's jobs, newest first, waiting ones with their queue position",
        tags: ['jobs'],
        params: z.object({ project: resourceRef }),
        querystring: jobListQuery,
        response: { 200: z.array(jobListItem), 404: errorBody },
      },
    },
    async (request, reply) => {
      const { project, member } = await readableProject(app.db, request, request.params.project);
      const { status, since, until, ...page } = request.query;
      const query = jobSummariesQuery(app.db, {
        projectId: project.id,
        statuses: status ? [status].flat() : undefined,
        since: since ? new Date(since) : undefined,
        until: until ? new Date(until) : undefined,
      });
      const rows = await paginate<JobSummaryRow>(app.db, reply, query, page, [{ column: 'job.created_at', order: 'desc' }, { column: 'job.id' }]);
      return (await jobListItems(app.db, app.config, rows, member, { projectId: project.id })).items;
    },
  );

  /**
   * What a live list needs between reloads: the jobs changed since its cursor (usually none, one
   * indexed range scan) and the positions of the waiting jobs it shows. Polled rather than streamed:
   * a plain request is authorised like any read, passes every proxy, and the OpenAPI fuzzers handle it.
   */
  app.get(
    '/v0/projects/:project/job-changes',
    {
      preHandler: [app.optionalUser, app.optionalClaimant],
      schema: {
        summary: "A project's jobs created or changed since a cursor, and queue positions: for live lists",
        description:
          'Call it first without `since` for a cursor, then load the list, then poll with `since` set to the latest cursor: ' +
          'merge the jobs returned into the list by `uuid`. Jobs are shown as the list shows them, redacted the same way for non-members.',
        tags: ['jobs'],
        params: z.object({ project: resourceRef }),
        querystring: jobChangesQuery,
        response: { 200: jobChanges, 400: errorBody, 404: errorBody },
      },
    },
    async (request) => {
      const { project, member } = await readableProject(app.db, request, request.params.project);
      const { since, queued } = request.query;
      const { cursor, rows } = await jobChangesSince(app.db, project.id, since, MAX_JOB_CHANGES + 1);
      const { items, positions } = await jobListItems(app.db, app.config, rows.slice(0, MAX_JOB_CHANGES), member, { projectId: project.id, watched: queued ? [queued].flat() : [] });
      return {
        cursor,
        complete: rows.length <= MAX_JOB_CHANGES,
        jobs: items,
        queue_positions: [...positions].map(([job, position]) => ({ job, position })),
      };
    },
  );

  app.post(
    '/v0/projects/:project/jobs/:job/cancel',
    {
      // Anonymous submitters cancel with their claim token (body or header) instead of an API token.
      preHandler: [app.optionalUser, app.optionalClaimant],
      schema: {
        summary: "Cancel a job at any stage: removed from the queue, or its sandbox/VM killed (its submitter, its organization's leaders, server admins)",
        tags: ['jobs'],
        params: jobParams,
        body: z.strictObject({ claim_token: z.string().optional().describe("an anonymous submission's claim_token, while its organization is unclaimed") }).optional(),
        response: { 202: jobView, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody },
      },
    },
    async (request, reply) => {
      const { project, job, member } = await cancelableJob(app.db, request, request.params.project, request.params.job, request.body?.claim_token);
      if (isTerminal(job.status)) throw conflict(`job ${job.id} is already ${job.status}`);
      // The workflow does the rest: a queued runJob is withdrawn, a running one is told through its heartbeat.
      try {
        await app.temporal.workflow.getHandle(jobWorkflowId(job.id)).cancel();
      } catch (err) {
        // The workflow is already closing (or gone): the job is about to settle on its own.
        if (err instanceof WorkflowNotFoundError) throw conflict(`job ${job.id} is finishing and can no longer be canceled`);
        throw err;
      }
      return reply.status(202).send(await toJobView(app.db, app.config, project, job, member));
    },
  );

  app.get(
    '/v0/projects/:project/reports/:report',
    { preHandler: [app.optionalUser, app.optionalClaimant], schema: { summary: 'View a report: its metrics judged (boundaries, change against the baseline, alerts)', tags: ['reports'], params: reportParams, response: { 200: reportView, 401: errorBody, 404: errorBody } } },
    async (request) => {
      const { project, member } = await readableProject(app.db, request, request.params.project);
      const report = isUuid(request.params.report) ? await getReport(app.db, request.params.report) : undefined;
      if (!report || report.project_id !== project.id) throw notFound(`report "${request.params.report}"`);
      return toReportView(app.db, project, report, member);
    },
  );

  app.get(
    '/v0/projects/:project/jobs/:job/outputs/:kind',
    {
      preHandler: [app.optionalUser, app.optionalClaimant],
      schema: {
        summary: "Download a job's stdout, stderr or an output file (members, and an anonymous submitter with its claim token)",
        tags: ['jobs'],
        params: z.object({ project: resourceRef, job: z.string(), kind: z.enum(['stdout', 'stderr', 'file']) }),
        querystring: z.object({ path: z.string().default('') }),
        response: { 200: { description: 'the output, as uploaded', content: { 'application/octet-stream': { schema: z.string() } } } },
      },
    },
    async (request, reply) => {
      const { project, member } = await readableProject(app.db, request, request.params.project);
      const job = isUuid(request.params.job) ? await getJob(app.db, request.params.job) : undefined;
      // Output can hold anything the benchmark printed, secrets included: members (and the claim token's holder) only.
      if (!job || job.project_id !== project.id || !member) throw notFound(`job "${request.params.job}"`);
      const content = await getOutput(app.db, job.id, request.params.kind, request.query.path);
      if (!content) throw notFound(`${request.params.kind} ${request.query.path}`.trim());
      // The schema names the body a string for the OpenAPI document; Fastify sends a Buffer's bytes as they are.
      return reply.type('application/octet-stream').send(content as unknown as string);
    },
  );
};

export default projectRoutes;
