/**
 * Dispatch latency: from submission to the moment a runner starts working on the job.
 *
 * - Temporal path (Benchline): POST /v0/run → report + job rows, jobWorkflow started before COMMIT → jobExists →
 *   resolveImageDigest → runJob task on the runner queue → runner's activity starts.
 * - Polling baseline: a job row inserted, and a runner loop that claims the oldest pending job
 *   with a conditional UPDATE … FOR UPDATE SKIP LOCKED every 1 s (the design Temporal replaced).
 *
 * Jobs are submitted one at a time to an idle runner, so each figure is pure dispatch, not queueing.
 */
import { randomUUID } from 'node:crypto';
import { createRunnerActivities } from '../runner/activities/run-job';
import { createSpec } from '../db/seed';
import type { Stack } from '../test/harness/stack';
import { printRows, summary } from './stats';

const JOBS = Number(process.env.BENCH_DISPATCH_JOBS ?? 200);
const POLL_INTERVAL_MS = 1000;

export async function dispatchBenchmark(stack: Stack): Promise<void> {
  const temporal = await temporalPath(stack);
  const polling = await pollingPath(stack);
  printRows(`Dispatch latency, submission → runner starts the job (${JOBS} jobs each, one at a time)`, [
    ['Temporal (api → workflow → runJob task)', summary(temporal)],
    [`DB polling claim loop (${POLL_INTERVAL_MS} ms interval)`, summary(polling)],
  ]);
}

async function temporalPath(stack: Stack): Promise<number[]> {
  const started = new Map<string, number>();
  // The real runJob, wrapped only to note when the runner's activity begins.
  const runner = await stack.startRunner({
    wrap: (activities: ReturnType<typeof createRunnerActivities>) => ({
      runJob: (input) => {
        started.set(input.jobId, performance.now());
        return activities.runJob(input);
      },
    }),
  });
  try {
    const image = await stack.pushImage('trivial', { entrypoint: ['/bin/echo', '{"noop": {"latency": {"value": 1}}}'] });
    await stack.waitForJob((await stack.submit({ image })).job); // warm: image pulled and cached
    const latencies: number[] = [];
    for (let i = 0; i < JOBS; i++) {
      const t0 = performance.now();
      const { job } = await stack.submit({ image });
      await stack.waitForJob(job, () => started.has(job), 30000);
      latencies.push(started.get(job)! - t0);
      await stack.waitForJob(job);
    }
    return latencies;
  } finally {
    // The next benchmark brings its own runners to this queue.
    await runner.stop();
  }
}

async function pollingPath(stack: Stack): Promise<number[]> {
  const spec = await createSpec(stack.db, { slug: `polled-${stack.id}` });
  const template = await stack.db('job').where({ project_id: stack.project.id }).first();
  const { branch_id, testbed_id } = await stack.db('report').where({ id: template.report_id }).first();
  const claimedAt = new Map<string, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await stack.db.raw(
        `update job set status = 'claimed', claimed_at = now() where id = (
           select id from job where status = 'pending' and spec_id = ? order by priority, created_at, id limit 1 for update skip locked
         ) returning id`,
        [spec.id],
      );
      if (rows[0]) claimedAt.set(rows[0].id, performance.now());
      else await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
    }
  })();
  const latencies: number[] = [];
  for (let i = 0; i < JOBS; i++) {
    const id = randomUUID();
    const [report] = await stack.db('report').insert({ project_id: stack.project.id, branch_id, testbed_id, adapter: 'json' }).returning('id');
    // Submissions land at arbitrary moments relative to the poller's cycle, as CI pushes do.
    await new Promise((r) => setTimeout(r, Math.random() * POLL_INTERVAL_MS));
    const t0 = performance.now();
    await stack.db('job').insert({ ...template, id, report_id: report.id, spec_id: spec.id, status: 'pending', runner_id: null, attempt: 0, created_at: new Date(), idempotency_key: null });
    while (!claimedAt.has(id)) await new Promise((r) => setTimeout(r, 2));
    latencies.push(claimedAt.get(id)! - t0);
  }
  running = false;
  await loop;
  return latencies;
}
