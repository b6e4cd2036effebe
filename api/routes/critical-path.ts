import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorBody } from '../../common/schemas';
import { criticalPathView } from '../../common/schemas/pipelines';
import { pipelineCriticalPath } from '../critical-path';
import { readablePipeline } from '../project-access';

const criticalPathRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/v0/pipelines/:pipeline/critical-path',
    {
      preHandler: [app.optionalUser],
      schema: {
        summary: "The chain of jobs that set a pipeline's wall time, each with its queue wait and run time (estimated for jobs that have not ended)",
        description:
          'From real timestamps: a job could start once its needs had ended and its start_after passed, waited for its first claim, then ran until it ended. ' +
          'While the pipeline runs, each job not ended is estimated from the median run time (first claim to end) of the 20 latest processed jobs of the project ' +
          'with the same spec and command (image repository whatever its tag, entrypoint and cmd), and at least what it has run so far; such jobs are marked `estimated`.',
        tags: ['pipelines'],
        params: z.object({ pipeline: z.string() }),
        response: { 200: criticalPathView, 404: errorBody },
      },
    },
    async (request) => {
      const { pipeline } = await readablePipeline(app.db, request, request.params.pipeline);
      return pipelineCriticalPath(app.db, pipeline);
    },
  );
};

export default criticalPathRoutes;
