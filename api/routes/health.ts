import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

/** Liveness (the process answers) and readiness (it can reach Postgres and Temporal). */
const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/health', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get(
    '/ready',
    { schema: { tags: ['health'], response: { 200: z.object({ status: z.literal('ready') }), 503: z.object({ status: z.literal('unavailable'), reason: z.string() }) } } },
    async (_request, reply) => {
      try {
        await app.db.raw('select 1');
        await app.temporal.workflowService.getSystemInfo({});
        return { status: 'ready' as const };
      } catch (err) {
        return reply.status(503).send({ status: 'unavailable' as const, reason: (err as Error).message });
      }
    },
  );
};

export default healthRoutes;
