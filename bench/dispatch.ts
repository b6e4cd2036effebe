/**
 * Dispatch latency: from submission to the moment a runner starts working on the job.
 *
 * - Temporal path (Benchline): POST /v0/run (the api resolves the image's digest and writes the
 *   report and the job, pinned, with attempt 1's claim ticket) → jobWorkflow started before COMMIT →
 *   its first workflow task schedules runJob on the runner queue → runner's activity starts (its
 *   claim waits for the COMMIT if it gets there first). Measured in both topologies: the api
 *   and the control worker on separate connections with ordinary starts (production), and the api
 *   hosting the control worker on a shared connection with eager workflow start (development).
 * - LISTEN/NOTIFY queue (what graphile-worker does): a job row inserted with a NOTIFY in its
 *   transaction, and a runner that claims on each notification.
 * - Polling baseline: a job row inserted, and a runner loop that claims the oldest pending job
 *   with a conditional UPDATE … FOR UPDATE SKIP LOCKED every 1 s (the design Temporal replaced).
 *
 * Jobs are submitted one at a time to an idle runner, so each figure is pure dispatch, not queueing.
 */
import { randomUUID } from 'node:crypto';
import type { Notification, PoolClient } from 'pg';
import { createRunnerActivities } from '../runner/activities/run-job';
import { createSpec } from '../db/seed';
import { Stack, type Tenant } from '../test/harness/stack';
import { runBench, withBenchStack } from './services';
import { printRows, summary } from './stats';

const JOBS = Number(process.env.BENCH_DISPATCH_JOBS ?? 200);
const POLL_INTERVAL_MS = 1000;
const TARGET = 'target: p50 ≤ 20 ms, p99 ≤ 60 ms; before issue 9: p50 83–173 ms, p99 ~180–250 ms';
const FREE_TARGET = 'target: ≤ 10 ms over paid; the gate workflow before: +61–69 ms at p50 measured in one run, ~140 ms in the issue';

export async function dispatchBenchmark(stack: Stack): Promise<void> {
  const separate = await temporalPath(stack);
  const development = await Stack.start({ controlWorker: true });
  let eager: Awaited<ReturnType<typeof temporalPath>>;
  try {
    eager = await temporalPath(development);
  } finally {
    await development.stop();
  }
  const notified = await notifyPath(stack);
  const polling = await pollingPath(stack);
  printRows(`Dispatch latency, submission → runner starts the job (${JOBS} jobs each, one at a time; ${TARGET})`, [
    ['Temporal, api + control worker, eager start', summary(eager.paid.latencies)],
    ['Temporal, separate control worker', summary(separate.paid.latencies)],
    ['LISTEN/NOTIFY queue', summary(notified)],
    [`DB polling claim loop (${POLL_INTERVAL_MS} ms interval)`, summary(polling)],
  ]);
  printRows(`Free tier (one job at a time per organization), same runs, jobs alternating with the paid ones (${FREE_TARGET})`, [
    ['free, api + control worker, eager start', summary(eager.free.latencies)],
    ['free, separate control worker', summary(separate.free.latencies)],
  ]);
  printOverhead('api + control worker, eager start', eager);
  printOverhead('separate control worker', separate);
  printStages('Where the Temporal dispatch time goes, api + control worker, eager start', eager.paid.stages);
  printStages('Where the Temporal dispatch time goes, separate control worker', separate.paid.stages);
  printStages('Where the free tier’s dispatch time goes, separate control worker', separate.free.stages);
  console.log('\nDatabase statements, paid jobs (BEGIN/COMMIT included; before the api pinned images: 18 per submission, and the resolve activity 3 more per job)');
  for (const [name, run] of [['eager start', eager], ['separate control worker', separate]] as const) {
    console.log(`  ${name.padEnd(26)} per submission (POST /v0/run) p50 ${summary(run.paid.statements.submission).p50}, per job (submission → processed) p50 ${summary(run.paid.statements.job).p50}`);
  }
}

/**
 * What the free tier's concurrency rule costs over a paid job's dispatch, measured in the same run;
 * the median of the differences between adjacent paid and free jobs is the steadier figure under load.
 */
function printOverhead(topology: string, run: Awaited<ReturnType<typeof temporalPath>>): void {
  const [paid, free] = [summary(run.paid.latencies), summary(run.free.latencies)];
  const paired = summary(run.free.latencies.map((f, i) => f - run.paid.latencies[i]));
  const f = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(1)} ms`;
  // Load-independent: the workflow history events before runJob is scheduled (the gate workflow added 12).
  const events = (m: Measured) => summary(m.stages.map((points) => points.length - 2)).p50;
  console.log(
    `  free over paid, ${topology}: p50 ${f(free.p50 - paid.p50)}, p99 ${f(free.p99 - paid.p99)} (×${(free.p50 / paid.p50).toFixed(2)} at p50); ` +
      `median of adjacent pairs ${f(paired.p50)}; history events before runJob: paid ${events(run.paid)}, free ${events(run.free)}`,
  );
}

/** A job's dispatch as points in time (ms, wall clock): its submission, its workflow's history events until runJob is scheduled, the runner's start. */
type Timeline = { label: string; at: number }[];

async function timeline(stack: Stack, workflowId: string, submittedAt: number, runnerStartedAt: number): Promise<Timeline> {
  const events = (await stack.client.workflow.getHandle(workflowId).fetchHistory()).events!;
  const points: Timeline = [{ label: 'POST /v0/run sent', at: submittedAt }];
  const seen = new Map<string, number>();
  for (const e of events) {
    const key = Object.keys(e).find((k) => k.endsWith('EventAttributes') && (e as Record<string, unknown>)[k])!.replace('EventAttributes', '');
    const activity = e.activityTaskScheduledEventAttributes?.activityType?.name ?? e.markerRecordedEventAttributes?.markerName;
    // The second workflow task's events are told apart from the first's.
    const nth = (seen.get(key) ?? 0) + 1;
    seen.set(key, nth);
    points.push({ label: `${key}${nth > 1 ? ` #${nth}` : ''}${activity ? ` ${activity}` : ''}`, at: Number(e.eventTime!.seconds) * 1000 + (e.eventTime!.nanos ?? 0) / 1e6 });
    if (activity === 'runJob') {
      // When the server handed runJob to the runner's poll (recorded once the attempt ends): splits
      // the server's matching from the runner's own time before the activity function runs.
      const handedOver = events.find((later) => later.activityTaskStartedEventAttributes && Number(later.activityTaskStartedEventAttributes.scheduledEventId) === Number(e.eventId));
      if (handedOver) points.push({ label: 'activityTaskStarted runJob', at: Number(handedOver.eventTime!.seconds) * 1000 + (handedOver.eventTime!.nanos ?? 0) / 1e6 });
      break;
    }
  }
  points.push({ label: "runner's runJob starts", at: runnerStartedAt });
  return points;
}

/** Median time of each step (previous point → this one) over the jobs, in the order the steps happen. */
function printStages(title: string, timelines: Timeline[]): void {
  const steps = new Map<string, number[]>();
  for (const points of timelines) {
    for (let i = 1; i < points.length; i++) {
      const step = `${points[i - 1].label} → ${points[i].label}`;
      steps.set(step, [...(steps.get(step) ?? []), points[i].at - points[i - 1].at]);
    }
  }
  console.log(`\n${title} (median of ${timelines.length} jobs; history times are the server's)`);
  for (const [step, samples] of steps) console.log(`  ${summary(samples).p50.toFixed(1).padStart(7)} ms  ${step}${samples.length < timelines.length ? ` (${samples.length} jobs)` : ''}`);
}

type Measured = { latencies: number[]; stages: Timeline[]; statements: { submission: number[]; job: number[] } };

/** Paid and free jobs, alternating, each submitted once the previous one finished (an idle runner, a free permit). */
async function temporalPath(stack: Stack): Promise<{ paid: Measured; free: Measured }> {
  const started = new Map<string, { at: number; wall: number }>();
  // The api, the control worker and the runners' api calls all use this process's pool, and jobs go one at a time.
  let statements = 0;
  const count = () => void statements++;
  stack.db.on('query', count);
  // The real runJob, wrapped only to note when the runner's activity begins.
  const runner = await stack.startRunner({
    wrap: (activities: ReturnType<typeof createRunnerActivities>) => ({
      runJob: (input) => {
        started.set(input.jobId, { at: performance.now(), wall: Date.now() });
        return activities.runJob(input);
      },
    }),
  });
  try {
    const image = await stack.pushImage('trivial', { entrypoint: ['/bin/echo', '{"noop": {"latency": {"value": 1}}}'] });
    const tenants = { paid: { project: stack.project.slug, token: stack.userToken }, free: await stack.tenant('bench-free', { plan: 'free' }) };
    const submit = async (tenant: Tenant) => {
      const res = await stack.submitAs(tenant, { image });
      if (res.status !== 202) throw new Error(`submit: HTTP ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };
    await stack.waitForJob((await submit(tenants.paid)).job); // warm: image pulled and cached
    const fresh = (): Measured => ({ latencies: [], stages: [], statements: { submission: [], job: [] } });
    const measured = { paid: fresh(), free: fresh() };
    for (let i = 0; i < JOBS; i++) {
      for (const tier of ['paid', 'free'] as const) {
        const [t0, wall0] = [performance.now(), Date.now()];
        statements = 0;
        const { job, workflow_id } = await submit(tenants[tier]);
        measured[tier].statements.submission.push(statements);
        await pollUntil(() => started.has(job));
        measured[tier].latencies.push(started.get(job)!.at - t0);
        // Waited for in the database, not through the api, and these reads taken off the job's count.
        let polls = 0;
        await pollUntil(async () => (polls++, (await stack.db('job').where({ id: job }).first('status')).status === 'processed'));
        measured[tier].statements.job.push(statements - polls);
        measured[tier].stages.push(await timeline(stack, workflow_id, wall0, started.get(job)!.wall));
      }
    }
    return measured;
  } finally {
    stack.db.off('query', count);
    // The next benchmark brings its own runners to this queue.
    await runner.stop();
  }
}

async function pollUntil(done: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('a job did not get there within 30 s');
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** A spec no runner serves and a job row to copy: the queue paths claim these jobs themselves. */
async function queueFixture(stack: Stack, name: string) {
  const spec = await createSpec(stack.db, { slug: `${name}-${stack.id}` });
  const template = await stack.db('job').where({ project_id: stack.project.id }).first();
  const { branch_id, testbed_id } = await stack.db('report').where({ id: template.report_id }).first();
  return {
    /** Claims the oldest pending job of the spec, as a runner of such a queue does; its id, if any. */
    async claim(): Promise<string | undefined> {
      const { rows } = await stack.db.raw(
        `update job set status = 'claimed', claimed_at = now() where id = (
           select id from job where status = 'pending' and spec_id = ? order by priority, created_at, id limit 1 for update skip locked
         ) returning id`,
        [spec.id],
      );
      return rows[0]?.id;
    },
    /** Writes a pending job; `inTransaction` runs in the job's transaction (a NOTIFY). */
    async submit(inTransaction: (trx: typeof stack.db) => Promise<unknown> = async () => undefined): Promise<string> {
      const id = randomUUID();
      await stack.db.transaction(async (trx) => {
        const [report] = await trx('report').insert({ project_id: stack.project.id, branch_id, testbed_id, adapter: 'json' }).returning('id');
        await trx('job').insert({ ...template, id, report_id: report.id, spec_id: spec.id, status: 'pending', runner_id: null, attempt: 0, created_at: new Date(), idempotency_key: null });
        await inTransaction(trx as unknown as typeof stack.db);
      });
      return id;
    },
  };
}

async function waitClaimed(claimedAt: Map<string, number>, id: string): Promise<void> {
  while (!claimedAt.has(id)) await new Promise((r) => setTimeout(r, 1));
}

async function notifyPath(stack: Stack): Promise<number[]> {
  const queue = await queueFixture(stack, 'notified');
  const channel = `jobs_${stack.id}`;
  const claimedAt = new Map<string, number>();
  const listener = (await stack.db.client.acquireConnection()) as PoolClient;
  // Each notification means a job may be waiting: claim until the queue is empty.
  listener.on('notification', (_: Notification) => {
    void (async () => {
      for (let id = await queue.claim(); id; id = await queue.claim()) claimedAt.set(id, performance.now());
    })();
  });
  await listener.query(`listen ${channel}`);
  try {
    const latencies: number[] = [];
    for (let i = 0; i < JOBS; i++) {
      const t0 = performance.now();
      const id = await queue.submit((trx) => trx.raw('select pg_notify(?, ?)', [channel, '']));
      await waitClaimed(claimedAt, id);
      latencies.push(claimedAt.get(id)! - t0);
    }
    return latencies;
  } finally {
    await listener.query(`unlisten ${channel}`);
    await stack.db.client.releaseConnection(listener);
  }
}

async function pollingPath(stack: Stack): Promise<number[]> {
  const queue = await queueFixture(stack, 'polled');
  const claimedAt = new Map<string, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const id = await queue.claim();
      if (id) claimedAt.set(id, performance.now());
      else await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
    }
  })();
  const latencies: number[] = [];
  for (let i = 0; i < JOBS; i++) {
    // Submissions land at arbitrary moments relative to the poller's cycle, as CI pushes do.
    await new Promise((r) => setTimeout(r, Math.random() * POLL_INTERVAL_MS));
    const t0 = performance.now();
    const id = await queue.submit();
    await waitClaimed(claimedAt, id);
    latencies.push(claimedAt.get(id)! - t0);
  }
  running = false;
  await loop;
  return latencies;
}

// `npx tsx bench/dispatch.ts`: this benchmark alone (BENCH_DISPATCH_JOBS jobs per path).
if (require.main === module) runBench(() => withBenchStack(dispatchBenchmark));
