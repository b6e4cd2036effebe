import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorBody, jobSummary } from '../../common/schemas';
import { paginationQuery } from '../../common/schemas/pagination';
import { jobSummariesQuery, type JobSummaryRow } from '../../db/job-lists';
import { paginate } from '../pagination';
import { requireAdmin } from '../resources';
import { toJobSummary } from '../views';

/** GET /v0/jobs/active: every claimed or running job on the server, with its runner (server admins). */
const activeJobRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/v0/jobs/active',
    {
      preHandler: [app.requireUser, requireAdmin],
      schema: { summary: 'Jobs claimed or running on any runner, oldest first', tags: ['jobs'], querystring: paginationQuery, response: { 200: z.array(jobSummary), 401: errorBody, 403: errorBody } },
    },
    async (request, reply) => {
      const query = jobSummariesQuery(app.db, { statuses: ['claimed', 'running'] });
      const rows = await paginate<JobSummaryRow>(app.db, reply, query, request.query, [{ column: 'job.claimed_at' }, { column: 'job.id' }]);
      // Server admins only: they see every job whole.
      return rows.map((row) => toJobSummary(app.config, row, true));
    },
  );
};

export default activeJobRoutes;
