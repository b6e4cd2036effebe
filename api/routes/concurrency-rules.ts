import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { resourceRef } from '../../common/schemas/fields';
import { concurrencyRuleView, newConcurrencyRule, type ConcurrencyRuleView } from '../../common/schemas/concurrency-rules';
import { paginationQuery } from '../../common/schemas/pagination';
import { ruleGateId } from '../../common/tiers';
import { tellGranted } from '../../activities/gate';
import { deleteRule, insertRule, projectRulesQuery } from '../../db/concurrency-rules';
import type { ConcurrencyRuleRow, ProjectRow } from '../../db/rows';
import { notFound } from '../errors';
import { paginate } from '../pagination';
import { errorResponses, writableProject } from '../resources';

const projectParams = z.object({ project: resourceRef });
const tags = ['concurrency rules'];

const toView = (rule: ConcurrencyRuleRow, project: ProjectRow): ConcurrencyRuleView => ({
  uuid: rule.id, project: project.slug, match: rule.match, max: rule.max, created: rule.created_at.toISOString(),
});

/**
 * A project's concurrency rules: at most `max` of its jobs whose labels match run at once, beyond
 * the tier limits. They are project settings: members read them, leaders change them. A rule
 * applies to jobs submitted after it exists; deleting one lets the jobs waiting for it go.
 */
const concurrencyRuleRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/v0/projects/:project/concurrency-rules',
    {
      preHandler: app.requireUser,
      schema: { summary: 'Create a concurrency rule (organization leaders)', tags, params: projectParams, body: newConcurrencyRule, response: { 201: concurrencyRuleView, ...errorResponses } },
    },
    async (request, reply) => {
      const project = await writableProject(app.db, request, request.params.project, 'leader');
      return reply.status(201).send(toView(await insertRule(app.db, project.id, request.body), project));
    },
  );

  app.get(
    '/v0/projects/:project/concurrency-rules',
    {
      preHandler: app.requireUser,
      schema: { summary: "List a project's concurrency rules, oldest first (members)", tags, params: projectParams, querystring: paginationQuery, response: { 200: z.array(concurrencyRuleView), ...errorResponses } },
    },
    async (request, reply) => {
      const project = await writableProject(app.db, request, request.params.project, 'member');
      const rows = await paginate<ConcurrencyRuleRow>(app.db, reply, projectRulesQuery(app.db, project.id), request.query, [{ column: 'created_at' }, { column: 'id' }]);
      return rows.map((rule) => toView(rule, project));
    },
  );

  app.delete(
    '/v0/projects/:project/concurrency-rules/:rule',
    {
      preHandler: app.requireUser,
      schema: {
        summary: 'Delete a concurrency rule; the jobs waiting only for it start (organization leaders)',
        tags,
        params: projectParams.extend({ rule: z.uuid() }),
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const project = await writableProject(app.db, request, request.params.project, 'leader');
      const granted = await deleteRule(app.db, project.id, request.params.rule, ruleGateId(app.config.controlTaskQueue, request.params.rule));
      if (!granted) throw notFound(`concurrency rule ${request.params.rule}`);
      await tellGranted(app.db, app.temporal, granted);
      return reply.status(204).send(null);
    },
  );
};

export default concurrencyRuleRoutes;
