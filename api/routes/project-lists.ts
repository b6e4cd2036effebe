import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { resourceRef } from '../../common/schemas/fields';
import { paginationQuery } from '../../common/schemas/pagination';
import { reportListItem, reportListQuery } from '../../common/schemas/perf';
import { projectView } from '../../common/schemas/projects';
import { readableProjectsQuery, reportListQuery as reportsQuery, type ReportListRow } from '../../db/project-lists';
import type { ProjectRow } from '../../db/rows';
import { paginate } from '../pagination';
import { readableProject } from '../project-access';
import { errorResponses, iso } from '../resources';

/** The lists a project's home page starts from: the projects the caller may see, a project's recent reports. */
const projectListRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/v0/projects',
    {
      preHandler: app.optionalUser,
      schema: { summary: 'List the projects the caller may read: public ones, and those of its organizations', tags: ['projects'], querystring: paginationQuery, response: { 200: z.array(projectView), ...errorResponses } },
    },
    async (request, reply) => {
      const rows = await paginate<ProjectRow & { organization: string }>(app.db, reply, readableProjectsQuery(app.db, request.user?.id), request.query, [{ column: 'project.slug' }]);
      return rows.map((p) => ({ uuid: p.id, slug: p.slug, name: p.name, organization: p.organization, visibility: p.visibility, created: p.created_at.toISOString() }));
    },
  );

  app.get(
    '/v0/projects/:project/reports',
    {
      preHandler: app.optionalUser,
      schema: { summary: "List a project's reports, newest first, with their metric and alert counts", tags: ['reports'], params: z.object({ project: resourceRef }), querystring: reportListQuery, response: { 200: z.array(reportListItem), ...errorResponses } },
    },
    async (request, reply) => {
      const { project } = await readableProject(app.db, request, request.params.project);
      const { branch, testbed, ...page } = request.query;
      const rows = await paginate<ReportListRow>(app.db, reply, reportsQuery(app.db, project.id, { branch, testbed }), page, [
        { column: 'report.start_time', order: 'desc' },
        { column: 'report.created_at', order: 'desc' },
        { column: 'report.id' },
      ]);
      return rows.map((r) => ({
        uuid: r.id, branch: r.branch, testbed: r.testbed, adapter: r.adapter, start_time: iso(r.start_time)!, job: r.job_id, job_status: r.job_status,
        metrics: r.metrics, alerts: r.alerts, active_alerts: r.active_alerts,
      }));
    },
  );
};

export default projectListRoutes;
