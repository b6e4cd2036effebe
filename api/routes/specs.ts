import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { resourceRef } from '../../common/schemas/fields';
import { jobWorkflowId, specResumedUpdate } from '../../common/contracts';
import { newSpec, specListQuery, specPause, specUpdate, specView, type SpecView } from '../../common/schemas/specs';
import { jobListItem } from '../../common/schemas';
import { paginationQuery } from '../../common/schemas/pagination';
import { jobSummariesQuery, type JobSummaryRow } from '../../db/job-lists';
import { writeSpec } from '../../db/resources';
import type { SpecRow } from '../../db/rows';
import { findSpec, pendingJobsOfSpec, setSpecPaused, specsQuery } from '../../db/specs';
import { conflict, notFound } from '../errors';
import { paginate } from '../pagination';
import { errorResponses, iso, requireAdmin, slugFor, writeOrConflict } from '../resources';
import { jobListItems } from '../views';

const specParams = z.object({ spec: resourceRef });
const tags = ['specs'];

const toView = (s: SpecRow): SpecView => ({
  uuid: s.id, slug: s.slug, name: s.name, architecture: s.architecture, cpus: s.cpus, memory_mib: s.memory_mib, disk_mib: s.disk_mib,
  network: s.network, default: s.is_default, archived: iso(s.archived_at), paused: iso(s.paused_at), pause_reason: s.pause_reason, created: s.created_at.toISOString(),
});

/**
 * Server-scoped hardware specs. Anyone signed in may read them (to pick `--spec`); server admins
 * manage them. There is one default at most, and once set it only moves, in one transaction.
 */
const specRoutes: FastifyPluginAsyncZod = async (app) => {
  const admin = [app.requireUser, requireAdmin];

  const existing = async (ref: string) => {
    const spec = await findSpec(app.db, ref);
    if (!spec) throw notFound(`spec "${ref}"`);
    return spec;
  };

  app.post(
    '/v0/specs',
    { preHandler: admin, schema: { summary: 'Create a spec (server admins)', tags, body: newSpec, response: { 201: specView, ...errorResponses } } },
    async (request, reply) => {
      const { default: makeDefault, ...fields } = request.body;
      const slug = slugFor(fields.slug, fields.name);
      const spec = await writeOrConflict(`spec "${slug}"`, () => writeSpec(app.db, undefined, { ...fields, slug }, makeDefault));
      return reply.status(201).send(toView(spec!));
    },
  );

  app.get(
    '/v0/specs',
    { preHandler: app.requireUser, schema: { summary: 'List specs', tags, querystring: specListQuery, response: { 200: z.array(specView), ...errorResponses } } },
    async (request, reply) => {
      const { archived } = request.query;
      return (await paginate<SpecRow>(app.db, reply, specsQuery(app.db, archived), request.query, [{ column: 'slug' }])).map(toView);
    },
  );

  app.get(
    '/v0/specs/:spec',
    { preHandler: app.requireUser, schema: { summary: 'View a spec', tags, params: specParams, response: { 200: specView, ...errorResponses } } },
    async (request) => toView(await existing(request.params.spec)),
  );

  app.patch(
    '/v0/specs/:spec',
    {
      preHandler: admin,
      schema: { summary: 'Update, archive or make default a spec (server admins)', tags, params: specParams, body: specUpdate, response: { 200: specView, ...errorResponses } },
    },
    async (request) => {
      const spec = await existing(request.params.spec);
      const { default: makeDefault, archived, ...fields } = request.body;
      // Jobs fall back to the default spec: it must stay one that accepts runs.
      if (makeDefault && (archived ?? spec.archived_at !== null)) throw conflict(`spec "${spec.slug}" is archived; unarchive it before making it the default`);
      if (archived && spec.is_default) throw conflict(`spec "${spec.slug}" is the default; make another spec the default before archiving it`);
      const archivedAt = archived === undefined ? {} : { archived_at: archived ? (spec.archived_at ?? new Date()) : null };
      const updated = await writeOrConflict(`spec "${spec.slug}"`, () => writeSpec(app.db, spec.id, { ...fields, ...archivedAt }, makeDefault === true));
      return toView(updated!);
    },
  );

  /*
   * The operator's view of a spec's queue (the queue service's GET /queue and its peek at the next
   * assignment): waiting jobs in the order dispatch takes them, by priority then submission, with
   * their positions; the first is the one a free runner gets next. Server admins only: it spans
   * every project.
   */
  app.get(
    '/v0/specs/:spec/queue',
    {
      preHandler: admin,
      schema: {
        summary: "A spec's waiting jobs in dispatch order, next first (server admins)",
        tags,
        params: specParams,
        querystring: paginationQuery,
        response: { 200: z.array(jobListItem), ...errorResponses },
      },
    },
    async (request, reply) => {
      const spec = await existing(request.params.spec);
      const order = [{ column: 'job.priority' }, { column: 'job.created_at' }, { column: 'job.id' }];
      const rows = await paginate<JobSummaryRow>(app.db, reply, jobSummariesQuery(app.db, { specId: spec.id, statuses: ['pending'] }), request.query, order);
      return (await jobListItems(app.db, app.config, rows, true)).items;
    },
  );

  /*
   * Pausing dispatch (hardware maintenance) is stored on the spec, so it survives restarts of every
   * process. Runners' claims of its jobs are refused meanwhile (the same statement that claims,
   * db/jobs.ts claimJob): a job already on the runner queue, or taken from it by a runner, goes
   * back to wait in its workflow, holding no runner, saying why. Resume tells those workflows,
   * oldest job first and one after the other, so they dispatch again in their order; each also re-checks the spec
   * periodically, should a signal be lost.
   */
  app.post(
    '/v0/specs/:spec/pause',
    {
      preHandler: admin,
      schema: { summary: "Pause dispatch of a spec's jobs: they wait, in order, holding no runner (server admins)", tags, params: specParams, body: specPause, response: { 200: specView, ...errorResponses } },
    },
    async (request) => toView(await setSpecPaused(app.db, (await existing(request.params.spec)).id, { reason: request.body.reason ?? null })),
  );

  app.post(
    '/v0/specs/:spec/resume',
    { preHandler: admin, schema: { summary: "Resume dispatch of a spec's jobs, oldest first (server admins)", tags, params: specParams, response: { 200: specView, ...errorResponses } } },
    async (request) => {
      const spec = await setSpecPaused(app.db, (await existing(request.params.spec)).id, null);
      for (const jobId of await pendingJobsOfSpec(app.db, spec.id)) {
        try {
          await app.temporal.workflow.getHandle(jobWorkflowId(jobId)).executeUpdate(specResumedUpdate);
        } catch (err) {
          // A pipeline job not started yet, a job not dispatching yet (it checks the spec itself), or
          // one ending: nothing waits to be told.
          if (!(err instanceof WorkflowNotFoundError) && !(err instanceof WorkflowUpdateFailedError)) throw err;
        }
      }
      return toView(spec);
    },
  );
};

export default specRoutes;
