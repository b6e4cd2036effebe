import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ping } from '../../db/connection';

/** Liveness (the process answers) and readiness (not shutting down, and it can reach Postgres and Temporal). */
const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/health', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get(
    '/ready',
    { schema: { tags: ['health'], response: { 200: z.object({ status: z.literal('ready') }), 503: z.object({ status: z.literal('unavailable'), reason: z.string() }) } } },
    async (_request, reply) => {
      // SIGTERM (api/lifecycle.ts): the load balancer stops sending requests while in-flight ones finish.
      if (app.lifecycle.draining) return reply.status(503).send({ status: 'unavailable' as const, reason: 'shutting down' });
      // Which dependency is down, but not its error text: that can name internal hosts.
      const down = async (what: string, probe: () => Promise<unknown>) => probe().then(() => undefined, () => what);
      const reason = (await down('database unreachable', () => ping(app.db))) ?? (await down('temporal unreachable', () => app.temporal.workflowService.getSystemInfo({})));
      if (reason) return reply.status(503).send({ status: 'unavailable' as const, reason });
      return { status: 'ready' as const };
    },
  );
};

export default healthRoutes;
