import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorBody, reportCreated } from '../../common/schemas';
import { resourceRef } from '../../common/schemas/fields';
import { newReport, type NewReport } from '../../common/schemas/results';
import { createUnclaimedProject } from '../../db/projects';
import { createReport, reportRequestFrom } from '../../db/reports';
import { writableProject } from '../resources';
import { storeResults } from '../../db/results';
import { ResultsError, resultsOf, type ResultsInput } from '../../results/pipeline';
import type { BenchmarkResults } from '../../results/types';
import { badRequest } from '../errors';
import { anonymousProject, tokenRequired } from '../project-access';
import { rateLimit } from '../rate-limit';
import { toReportView } from '../views';

/** What a local run may upload: one iteration's output is usually small, but harness JSON can be large. */
const BODY_LIMIT = 32 * 1024 * 1024;
const DEFAULT_BUILD_TIME_BENCHMARK = 'build';

/** The submitted runs as the results pipeline takes them, the same as a job's output. */
function resultsInput(body: NewReport): ResultsInput {
  return {
    adapter: body.adapter,
    average: body.average,
    fold: body.fold,
    runs: body.results.map((r) => (typeof r === 'string' ? { stdout: r, files: {} } : { stdout: r.stdout, files: r.files, seconds: r.build_time })),
    fileSizes: body.file_sizes,
    buildTimeBenchmark: body.command?.trim() || DEFAULT_BUILD_TIME_BENCHMARK,
  };
}

/**
 * POST /v0/projects/{project}/reports: results a local run produced (`benchline run -- <command>`),
 * parsed and judged in the request by the same pipeline as a job's output (results/pipeline.ts, then
 * db/results.ts storeResults), so the same output gives the same metrics and alerts. No job and no workflow:
 * nothing has to wait for a runner, and the work is a parse and one transaction, so the client gets
 * the judged report (or a 400 saying why its output is not understood) in the response.
 */
const reportRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/v0/projects/:project/reports',
    {
      bodyLimit: BODY_LIMIT,
      // As for POST /v0/run: anonymous submissions go to unclaimed projects.
      preHandler: [app.optionalUser, rateLimit(app.db, app.config.rateLimits)],
      schema: {
        summary: 'Submit results of a local run: parsed with the adapter, stored and judged at once (no job)',
        tags: ['reports'],
        params: z.object({ project: resourceRef }),
        body: newReport,
        response: { 201: reportCreated, 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 429: errorBody },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const target = request.user ? await writableProject(app.db, request, request.params.project, 'member') : await anonymousProject(app.db, request.params.project, 'params.project');

      let results: BenchmarkResults;
      try {
        results = resultsOf(resultsInput(body));
      } catch (err) {
        if (err instanceof ResultsError) throw badRequest(`body.${err.field}`, err.message);
        throw err;
      }

      const { project, report, claim } = await app.db.transaction(async (trx) => {
        // A new anonymous project is created with the report, so a refused report leaves nothing behind;
        // its claim token is answered once, as for POST /v0/run, or nobody could ever claim it.
        const created = target === 'new' ? await createUnclaimedProject(trx, request.params.project) : undefined;
        const project = target === 'new' ? created?.project : target;
        if (!project) throw tokenRequired(request.params.project);
        const { report } = await createReport(trx, {
          ...reportRequestFrom(project.id, body),
          startTime: body.start_time ? new Date(body.start_time) : undefined,
          // A local run's results arrive complete: the report ends when they were measured, or now.
          endTime: body.end_time ? new Date(body.end_time) : new Date(),
        });
        await storeResults(trx, report, results);
        return { project, report, claim: created?.claim };
      });
      return reply.status(201).send({ ...(await toReportView(app.db, project, report)), claim });
    },
  );

};

export default reportRoutes;
