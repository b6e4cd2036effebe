import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { buildInfo } from '../../common/build-info';
import { within } from '../../common/within';
import { statusView, type StatusView } from '../../common/schemas/status';
import { ping } from '../../db/connection';
import { runnerStatuses, specQueues } from '../../db/observability';
import { ONLINE_WITHIN_SECONDS } from '../job-metrics';
import { isAdmin, iso } from '../resources';

/** A status page must answer while a dependency hangs: each probe gets this long (Temporal's call, retries included, is given it as its deadline). */
const PROBE_TIMEOUT_MS = 2000;

/** When this process started (uptime counts from there, not from this module loading). */
const started = new Date(Date.now() - process.uptime() * 1000);

/** Times `run`; null when it failed or outlived the timeout. */
async function probe(run: () => Promise<unknown>): Promise<number | null> {
  const begun = performance.now();
  const ok = await within(run(), PROBE_TIMEOUT_MS, 'probe').then(() => true, () => false);
  return ok ? Math.round((performance.now() - begun) * 10) / 10 : null;
}

/**
 * GET /v0/status: what an operator (or a user wondering why a job waits) checks first. Public: the
 * build, uptime, reachability and per-spec queues and runner counts (aggregates only, no job or
 * project). Server admins also get the node and platform and every runner.
 */
const statusRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/v0/status',
    { preHandler: app.optionalUser, schema: { summary: 'Server status: build, uptime, dependencies, queues and runners', tags: ['health'], response: { 200: statusView } } },
    async (request): Promise<StatusView> => {
      const admin = isAdmin(request.user);
      const [database, temporal] = await Promise.all([probe(() => ping(app.db)), probe(() => app.temporal.connection.withDeadline(Date.now() + PROBE_TIMEOUT_MS, () => app.temporal.workflowService.getSystemInfo({})))]);
      const [specs, runners] = database === null
        ? [[], undefined]
        : await Promise.all([specQueues(app.db, ONLINE_WITHIN_SECONDS), admin ? runnerStatuses(app.db, ONLINE_WITHIN_SECONDS) : undefined]);
      const build = buildInfo();
      return {
        status: database !== null && temporal !== null ? 'ok' : 'degraded',
        build: { version: build.version, sha: build.sha, build_id: build.buildId, ...(admin ? { node: build.node, platform: build.platform } : {}) },
        started: started.toISOString(),
        uptime_seconds: Math.round(process.uptime()),
        database: { reachable: database !== null, latency_ms: database },
        temporal: { reachable: temporal !== null, latency_ms: temporal },
        specs,
        ...(admin && {
          runners: (runners ?? []).map((r) => ({
            slug: r.slug, specs: r.specs, online: r.online, locked: r.locked, last_seen: iso(r.last_seen_at),
            version: r.version, executor: r.executor, current_job: r.current_job,
          })),
        }),
      };
    },
  );
};

export default statusRoutes;
