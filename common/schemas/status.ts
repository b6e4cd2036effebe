import { z } from 'zod';
import { timestamp } from './fields';
import { runnerView } from './runners';

const reachability = z.object({
  reachable: z.boolean(),
  latency_ms: z.number().nullable().describe('round trip of the probe; null when it failed or timed out'),
});

export const statusView = z.object({
  status: z.enum(['ok', 'degraded']).describe("'degraded': the database or Temporal did not answer within the probe's timeout"),
  build: z.object({
    version: z.string().describe("the api's package version"),
    sha: z.string().nullable().describe('git commit of the running api'),
    build_id: z.string().nullable().describe('the CI build (BUILD_ID) that produced it'),
    node: z.string().optional().describe('server admins only'),
    platform: z.string().optional().describe('server admins only'),
  }),
  started: timestamp.describe('when this api process started'),
  uptime_seconds: z.number(),
  database: reachability,
  temporal: reachability,
  specs: z
    .array(
      z.object({
        spec: z.string(),
        paused: z.boolean(),
        queued: z.number().int().describe('jobs waiting for a runner'),
        oldest_queued_seconds: z.number().nullable().describe('how long the longest-waiting of them has waited since it became runnable'),
        runners_online: z.number().int().describe('unlocked runners serving the spec seen in the last minute'),
      }),
    )
    .describe('every unarchived spec; empty while the database is unreachable'),
  runners: z
    .array(
      runnerView.pick({ slug: true, specs: true, last_seen: true, version: true, executor: true }).extend({
        online: z.boolean().describe('unlocked and seen in the last minute'),
        locked: z.boolean(),
        current_job: z.uuid().nullable().describe('the job it holds (claimed or running)'),
      }),
    )
    .optional()
    .describe('server admins only: every unarchived runner'),
});
export type StatusView = z.infer<typeof statusView>;
