import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { resourceRef } from '../../common/schemas/fields';
import { createdRunner, newRunner, rotatedRunnerToken, runnerListQuery, runnerSpecsUpdate, runnerUpdate, runnerView, type RunnerView } from '../../common/schemas/runners';
import { findOrganization } from '../../db/organizations';
import {
  findListedRunner, insertRunner, rotateRunnerToken, runnersQuery, setRunnerSpecs, updateRunner, type ListedRunner,
} from '../../db/runners';
import { usableSpec } from '../resources';
import { fleetOf } from '../runner-fleet';
import { badRequest, notFound } from '../errors';
import { paginate } from '../pagination';
import { errorResponses, iso, requireAdmin, slugFor, writeOrConflict } from '../resources';


const runnerParams = z.object({ runner: resourceRef });
const tags = ['runners'];

/**
 * Managing runners (server admins). The runner-facing endpoints under the same paths are in
 * runners.ts and take the runner's own token instead.
 */
const runnerAdminRoutes: FastifyPluginAsyncZod = async (app) => {
  const admin = [app.requireUser, requireAdmin];

  /** Views for a page of runners, with their specs and current jobs fetched for all of them at once. */
  async function toViews(rows: ListedRunner[]): Promise<RunnerView[]> {
    return (await fleetOf(app.db, rows, app.config.runnerLease)).map(({ row: r, details, ...fleet }) => ({
      uuid: r.id, slug: r.slug, name: r.name, organization: r.organization_slug, specs: details.specs,
      locked: iso(r.locked_at), archived: iso(r.archived_at), last_seen: iso(r.last_seen_at),
      version: r.version, executor: r.executor, host: r.host, current_job: details.currentJob, created: r.created_at.toISOString(),
      state: fleet.state, build: r.build, drift: fleet.drift, accelerator: fleet.accelerator, tuning_warnings: fleet.tuningWarnings,
      daemon: r.lease_host === null ? null : {
        host: r.lease_host, pid: r.lease_pid!, since: r.lease_started_at!.toISOString(), stopping: iso(r.lease_stopping_at), live: r.lease_live,
      },
    }));
  }

  async function view(runnerId: string): Promise<RunnerView> {
    return (await toViews([(await findListedRunner(app.db, app.config.runnerLease, runnerId))!]))[0];
  }

  async function existing(ref: string): Promise<ListedRunner> {
    const row = await findListedRunner(app.db, app.config.runnerLease, ref);
    if (!row) throw notFound(`runner "${ref}"`);
    return row;
  }

  /** Spec refs from a body, each of which must exist and not be archived. */
  async function specIds(refs: string[]): Promise<string[]> {
    return Promise.all(refs.map(async (ref, i) => (await usableSpec(app.db, ref, `body.specs.${i}`)).id));
  }

  app.post(
    '/v0/runners',
    { preHandler: admin, schema: { summary: 'Create a runner (server admins); its token is shown once', tags, body: newRunner, response: { 201: createdRunner, ...errorResponses } } },
    async (request, reply) => {
      const { name, organization } = request.body;
      const slug = slugFor(request.body.slug, name);
      const org = organization === undefined ? undefined : await findOrganization(app.db, organization);
      if (organization !== undefined && !org) throw badRequest('body.organization', `organization "${organization}" does not exist`);
      const ids = await specIds(request.body.specs);
      const { runner, token } = await writeOrConflict(`runner "${slug}"`, () => insertRunner(app.db, { slug, name, specIds: ids, organizationId: org?.id }));
      return reply.status(201).send({ ...(await view(runner.id)), token });
    },
  );

  app.get(
    '/v0/runners',
    { preHandler: admin, schema: { summary: 'List runners (server admins)', tags, querystring: runnerListQuery, response: { 200: z.array(runnerView), ...errorResponses } } },
    async (request, reply) => {
      const query = runnersQuery(app.db, app.config.runnerLease, { archived: request.query.archived, locked: request.query.locked });
      return toViews(await paginate<ListedRunner>(app.db, reply, query, request.query, [{ column: 'runner.slug' }]));
    },
  );

  app.get(
    '/v0/runners/:runner',
    { preHandler: admin, schema: { summary: 'View a runner (server admins)', tags, params: runnerParams, response: { 200: runnerView, ...errorResponses } } },
    async (request) => (await toViews([await existing(request.params.runner)]))[0],
  );

  app.patch(
    '/v0/runners/:runner',
    {
      preHandler: admin,
      schema: { summary: 'Rename, lock/unlock or archive/unarchive a runner (server admins)', tags, params: runnerParams, body: runnerUpdate, response: { 200: runnerView, ...errorResponses } },
    },
    async (request) => {
      const runner = await existing(request.params.runner);
      const { name, locked, archived } = request.body;
      // Keep the first lock/archive time when it is set again.
      const since = (flag: boolean | undefined, current: Date | null) => (flag === undefined ? undefined : flag ? (current ?? new Date()) : null);
      const patch = { name, locked_at: since(locked, runner.locked_at), archived_at: since(archived, runner.archived_at) };
      const changes = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
      if (Object.keys(changes).length) await updateRunner(app.db, runner.id, changes);
      return view(runner.id);
    },
  );

  app.put(
    '/v0/runners/:runner/specs',
    { preHandler: admin, schema: { summary: 'Set the specs a runner serves (server admins)', tags, params: runnerParams, body: runnerSpecsUpdate, response: { 200: runnerView, ...errorResponses } } },
    async (request) => {
      const runner = await existing(request.params.runner);
      await setRunnerSpecs(app.db, runner.id, await specIds(request.body.specs));
      return view(runner.id);
    },
  );

  app.post(
    '/v0/runners/:runner/token',
    {
      preHandler: admin,
      schema: { summary: "Rotate a runner's token (server admins); the old one stops working at once", tags, params: runnerParams, response: { 201: rotatedRunnerToken, ...errorResponses } },
    },
    async (request, reply) => {
      const runner = await existing(request.params.runner);
      return reply.status(201).send({ token: await rotateRunnerToken(app.db, runner.id) });
    },
  );
};

export default runnerAdminRoutes;
