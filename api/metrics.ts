import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { bearerToken } from '../common/tokens';
import { dbHealth } from '../db/connection';
import { webhookEndpointsFailing, webhookOutcomeCounts } from '../db/webhooks';
import { forbidden } from './errors';
import { registerFleetMetrics } from './fleet-metrics';
import { registerJobMetrics } from './job-metrics';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: { jobsSubmitted: Counter<'tier'>; dispatchLatency: Histogram<'spec'>; leaseConflicts: Counter<'runner'>; daemonStarts: Counter<'runner'> };
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * Prometheus metrics for this api replica at GET /metrics. Scrapers authenticate with
 * BENCHLINE_METRICS_TOKEN when it is set; without one, only loopback clients are answered.
 */
export default fp(async function metrics(app: FastifyInstance, options: { token?: string }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'benchline_api_' });
  const requests = new Histogram({
    name: 'benchline_api_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const jobs = registerJobMetrics(registry, app.db, app.log);
  app.decorate('metrics', {
    dispatchLatency: jobs.dispatchLatency,
    jobsSubmitted: new Counter({ name: 'benchline_jobs_submitted_total', help: 'Jobs accepted: single runs (POST /v0/run) and the jobs of pipelines', labelNames: ['tier'] as const, registers: [registry] }),
    leaseConflicts: new Counter({
      name: 'benchline_runner_lease_conflicts_total',
      help: "Daemons refused because another daemon holds the runner's lease (second daemons, and holders that lost it)",
      labelNames: ['runner'] as const,
      registers: [registry],
    }),
    daemonStarts: new Counter({
      name: 'benchline_runner_daemon_starts_total',
      help: "Daemons that took their runner's lease (a start, or a restart after a crash or an upgrade): its rate is the restart frequency",
      labelNames: ['runner'] as const,
      registers: [registry],
    }),
  });
  registerDatabaseMetrics(app, registry);
  const db = app.db;
  /**
   * A collect() refilling a metric from the database at each scrape (so every replica reports the
   * whole server); with the database down the scrape still answers, with the last values.
   */
  const fromDatabase = <R, M extends { reset(): void }>(read: () => Promise<R>, fill: (metric: M, rows: R) => void) =>
    async function collect(this: M) {
      const rows = await read().catch(() => undefined);
      if (rows === undefined) return;
      this.reset();
      fill(this, rows);
    };
  new Counter({
    name: 'benchline_webhook_deliveries_total',
    help: 'Webhook attempts that delivered or failed (to be retried or not), and deliveries given up; counted from the database at each scrape, so every replica reports the whole server',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect: fromDatabase(() => webhookOutcomeCounts(db), (counter: Counter<'outcome'>, counts) => {
      for (const [outcome, n] of Object.entries(counts)) counter.inc({ outcome }, n);
    }),
  });
  new Gauge({
    name: 'benchline_webhook_endpoint_failing',
    help: "1 while a webhook's newest attempt (in the last hour) failed, 0 once one got through; from the database at each scrape",
    labelNames: ['webhook'] as const,
    registers: [registry],
    collect: fromDatabase(() => webhookEndpointsFailing(db), (gauge: Gauge<'webhook'>, endpoints) => {
      for (const e of endpoints) gauge.set({ webhook: e.webhook_id }, e.failing ? 1 : 0);
    }),
  });
  const fleet = registerFleetMetrics(app, registry);
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the raw URL: labels must not grow with ids.
    requests.observe({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  const authorised = (request: FastifyRequest) => (options.token ? bearerToken(request.headers.authorization) === options.token : LOOPBACK.has(request.ip));
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (!authorised(request)) throw forbidden('metrics need BENCHLINE_METRICS_TOKEN (or a loopback client when none is set)');
    fleet.beginScrape();
    jobs.beginScrape();
    return reply.type(registry.contentType).send(await registry.metrics());
  });
});

/** The pool's breaker and slow statements (db/connection.ts), read at each scrape. */
function registerDatabaseMetrics(app: FastifyInstance, registry: Registry): void {
  new Gauge({
    name: 'benchline_db_circuit_open',
    help: 'Whether the database pool\'s circuit breaker refuses queries (1 while open or probing, 0 when closed)',
    registers: [registry],
    collect() {
      const breaker = dbHealth(app.db)?.breaker;
      this.set(breaker && breaker.state !== 'closed' ? 1 : 0);
    },
  });
  // The pool counts from its creation; this counter catches up with it at each scrape.
  let counted = 0;
  new Counter({
    name: 'benchline_db_slow_queries_total',
    help: 'Statements that took BENCHLINE_SLOW_QUERY_MS or longer',
    registers: [registry],
    collect() {
      const total = dbHealth(app.db)?.slowQueries ?? 0;
      if (total > counted) this.inc(total - counted);
      counted = total;
    },
  });
}
