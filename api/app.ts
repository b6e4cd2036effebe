import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Knex } from 'knex';
import { CLAIM_TICKET_HEADER } from '../common/schemas';
import { CLAIM_TOKEN_HEADER } from '../common/tokens';
import auth from './auth';
import { registerConsole } from './console';
import metrics from './metrics';
import tracing from './tracing';
import type { ApiConfig } from './config';
import { registerErrorHandler } from './errors';
import { guardInputText } from './input-text';
import { registerLifecycle } from './lifecycle';
import { documentTransform, securitySchemes } from './openapi';
import { clientErrors, frameworkErrors, MAX_URL_LENGTH, registerRouting } from './routing';
import activeJobRoutes from './routes/active-jobs';
import healthRoutes from './routes/health';
import statusRoutes from './routes/status';
import pipelineRoutes from './routes/pipelines';
import criticalPathRoutes from './routes/critical-path';
import concurrencyRuleRoutes from './routes/concurrency-rules';
import projectRoutes from './routes/projects';
import runRoutes from './routes/run';
import scheduleRoutes from './routes/schedules';
import runnerRoutes from './routes/runners';
import organizationRoutes from './routes/organizations';
import tokenRoutes from './routes/tokens';
import projectResourceRoutes from './routes/project-resources';
import specRoutes from './routes/specs';
import runnerAdminRoutes from './routes/runner-admin';
import reportRoutes from './routes/reports';
import resultRoutes from './routes/results';
import perfRoutes from './routes/perf';
import projectListRoutes from './routes/project-lists';
import webhookRoutes from './routes/webhooks';

declare module 'fastify' {
  interface FastifyInstance {
    db: Knex;
    temporal: Client;
    config: ApiConfig;
  }
}

export interface ApiDeps {
  db: Knex;
  temporal: Client;
  config: ApiConfig;
  logger?: FastifyServerOptions['logger'];
}

/** Tokens travel in Authorization, the claim header and the claim ticket header; never let them reach a log line. */
export const LOG_REDACT = ['req.headers.authorization', `req.headers["${CLAIM_TOKEN_HEADER}"]`, `req.headers["${CLAIM_TICKET_HEADER}"]`];

/** Builds the api without listening, so tests and main.ts share one assembly. */
export async function buildApp({ db, temporal, config, logger = true }: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      logger === true
        ? { level: process.env.LOG_LEVEL ?? 'info', redact: LOG_REDACT }
        : logger,
    trustProxy: config.trustProxy,
    // Path parameters are length-checked by their schemas (a 400 naming the field), not cut off by the router as a 404.
    routerOptions: { maxParamLength: MAX_URL_LENGTH },
    frameworkErrors,
    clientErrorHandler: clientErrors,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorate('db', db);
  app.decorate('temporal', temporal);
  app.decorate('config', config);
  registerErrorHandler(app);
  registerLifecycle(app);
  registerRouting(app);
  guardInputText(app);
  // First: its onRoute hook must see every route.
  await app.register(tracing);

  await app.register(swagger, {
    openapi: {
      info: { title: 'Benchline API', version: '0' },
      components: { securitySchemes },
    },
    // Security, error statuses and the text rule per operation, from what each route does.
    transform: documentTransform(app),
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/v0/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await registerConsole(app);

  await app.register(metrics, { token: config.metricsToken });
  await app.register(auth);
  await app.register(healthRoutes);
  await app.register(statusRoutes);
  await app.register(runRoutes);
  await app.register(pipelineRoutes);
  await app.register(criticalPathRoutes);
  await app.register(scheduleRoutes);
  await app.register(concurrencyRuleRoutes);
  await app.register(projectRoutes);
  await app.register(runnerRoutes);
  await app.register(activeJobRoutes);
  await app.register(organizationRoutes);
  await app.register(tokenRoutes);
  await app.register(projectResourceRoutes);
  await app.register(specRoutes);
  await app.register(runnerAdminRoutes);
  await app.register(reportRoutes);
  await app.register(resultRoutes);
  await app.register(perfRoutes);
  await app.register(projectListRoutes);
  await app.register(webhookRoutes);
  return app;
}
