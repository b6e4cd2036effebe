/**
 * Pipelines: a fan-out of BENCH_PIPELINE_JOBS (200) trivial jobs with no needs, submitted as one
 * pipeline (POST /v0/pipelines) and, as the baseline, the same jobs submitted one by one (POST
 * /v0/run, each answer awaited, as a CI loop would), on two runners. Prints the submission time, the
 * time from submission to the last job ending, what that costs per job over the one-by-one path,
 * and the pipeline workflow's history (events, bytes, the start event's input) measured at two
 * sizes and extrapolated to the 500-job maximum, against Temporal's limits.
 */
import type { PipelineView } from '../common/schemas/pipelines';
import { waitFor } from '../devenv/wait';
import type { Stack } from '../test/harness/stack';
import { runBench, withBenchStack } from './services';
import { summary } from './stats';

const JOBS = Number(process.env.BENCH_PIPELINE_JOBS ?? 200);
const SMALL = 10;
const MAX_JOBS = 500;
/** Temporal's defaults: history warns at 10k events / 10 MB and fails at 51,200 / 50 MB; one payload (the start input) warns at 512 KB and fails at 2 MB. */
const LIMITS = { eventsWarn: 10_000, eventsMax: 51_200, bytesWarn: 10 * 2 ** 20, bytesMax: 50 * 2 ** 20, blobWarn: 512 * 2 ** 10, blobMax: 2 * 2 ** 20 };

type History = { events: number; bytes: number; startInputBytes: number };

export async function pipelineBenchmark(stack: Stack): Promise<void> {
  const runners = [await stack.startRunner(), await stack.startRunner()];
  try {
    const image = await stack.pushImage('pipeline-trivial', { entrypoint: ['/bin/echo', '{"noop": {"latency": {"value": 1}}}'] });
    const job = { branch: 'main', testbed: 'ci', adapter: 'json', job: { image } };
    await stack.waitForJob((await stack.submit({ image })).job); // warm: image pulled and cached on a runner

    const pipeline = async (n: number) => {
      const t0 = Date.now();
      const res = await stack.request<PipelineView>('POST', '/v0/pipelines', { project: stack.project.slug, jobs: Array.from({ length: n }, (_, i) => ({ key: `j${i}`, ...job })) });
      const submitMs = Date.now() - t0;
      if (res.status !== 202) throw new Error(`POST /v0/pipelines: HTTP ${res.status} ${JSON.stringify(res.body)}`);
      await waitFor('the pipeline to end', async () => (await stack.db('pipeline').where({ id: res.body.uuid }).first('status')).status !== 'running' || undefined, 600000, 250);
      const { status } = await stack.db('pipeline').where({ id: res.body.uuid }).first('status');
      if (status !== 'succeeded') throw new Error(`pipeline ${res.body.uuid} ${status}`);
      return { submitMs, makespanMs: (await lastEnd(stack, { pipeline_id: res.body.uuid })) - t0, history: await history(stack, res.body.workflow_id) };
    };

    const big = await pipeline(JOBS);
    // One by one: each POST /v0/run awaited, then every job waited for.
    const t0 = Date.now();
    const posts: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const t = Date.now();
      ids.push((await stack.submit({ image })).job);
      posts.push(Date.now() - t);
    }
    const runsSubmitMs = Date.now() - t0;
    await waitFor('the single runs to end', async () => Number((await stack.db('job').whereIn('id', ids).where({ status: 'processed' }).count<{ count: string }[]>({ count: '*' }))[0].count) === JOBS || undefined, 600000, 250);
    const runsMakespanMs = (await lastEnd(stack, ids)) - t0;
    const small = await pipeline(SMALL);

    const ms = (v: number) => `${v.toFixed(0)} ms`;
    const perJob = (v: number) => `${(v / JOBS).toFixed(1)} ms/job`;
    console.log(`\nPipelines: ${JOBS} trivial jobs with no needs on two runners (figures taken while other work loads this machine: compare the ratios)`);
    console.log('  figure                                      pipeline                  baseline: one by one      target');
    const row = (name: string, value: string, baseline: string, target: string) => console.log(`  ${name.padEnd(43)} ${value.padEnd(25)} ${baseline.padEnd(25)} ${target}`);
    row('submission', `${ms(big.submitMs)} (${perJob(big.submitMs)})`, `${ms(runsSubmitMs)} (p50 POST ${ms(summary(posts).p50)})`, 'below the one-by-one path');
    row('submission → last job ended', `${ms(big.makespanMs)} (${perJob(big.makespanMs)})`, `${ms(runsMakespanMs)} (${perJob(runsMakespanMs)})`, '≤ the one-by-one path');
    const overhead = (big.makespanMs - runsMakespanMs) / JOBS;
    row('per-job overhead over one by one', `${overhead >= 0 ? '+' : ''}${overhead.toFixed(1)} ms/job (×${(big.makespanMs / runsMakespanMs).toFixed(2)})`, '0', '≤ 0 (+ noise)');

    // History grows linearly in the job count: fitted on two sizes, extrapolated to the maximum.
    const fit = (key: keyof History) => {
      const slope = (big.history[key] - small.history[key]) / (JOBS - SMALL);
      return { slope, at: (n: number) => small.history[key] + slope * (n - SMALL) };
    };
    const [events, bytes, input] = [fit('events'), fit('bytes'), fit('startInputBytes')];
    const verdict = (v: number, warn: number, max: number) => (v >= max ? 'OVER THE LIMIT' : v >= warn ? 'past the warning' : `${((100 * v) / warn).toFixed(0)}% of the warning`);
    const kb = (v: number) => `${(v / 1024).toFixed(0)} KiB`;
    console.log(`\n  pipeline workflow history (measured at ${SMALL} and ${JOBS} jobs; ${MAX_JOBS} extrapolated)   limits: warn / fail`);
    console.log(`    events       ${small.history.events} / ${big.history.events} → ${events.at(MAX_JOBS).toFixed(0)} (${events.slope.toFixed(2)} per job)`.padEnd(78) + `${LIMITS.eventsWarn} / ${LIMITS.eventsMax}: ${verdict(events.at(MAX_JOBS), LIMITS.eventsWarn, LIMITS.eventsMax)}`);
    console.log(`    bytes        ${kb(small.history.bytes)} / ${kb(big.history.bytes)} → ${kb(bytes.at(MAX_JOBS))} (${bytes.slope.toFixed(0)} B per job)`.padEnd(78) + `10 MiB / 50 MiB: ${verdict(bytes.at(MAX_JOBS), LIMITS.bytesWarn, LIMITS.bytesMax)}`);
    console.log(`    start input  ${kb(small.history.startInputBytes)} / ${kb(big.history.startInputBytes)} → ${kb(input.at(MAX_JOBS))} (one payload)`.padEnd(78) + `512 KiB / 2 MiB: ${verdict(input.at(MAX_JOBS), LIMITS.blobWarn, LIMITS.blobMax)}`);
  } finally {
    await Promise.all(runners.map((r) => r.stop()));
  }
}

/** When the last of the jobs ended (ms since the epoch). */
async function lastEnd(stack: Stack, jobs: { pipeline_id: string } | string[]): Promise<number> {
  const query = stack.db('job');
  if (Array.isArray(jobs)) query.whereIn('id', jobs);
  else query.where(jobs);
  const row = await query.max<{ last: Date }>({ last: 'finished_at' }).first();
  return row!.last.getTime();
}

/** The workflow's history as the server counts it (events, bytes) and the size of its start event's input. */
async function history(stack: Stack, workflowId: string): Promise<History> {
  const handle = stack.client.workflow.getHandle(workflowId);
  const { raw, historyLength } = await handle.describe();
  const started = (await handle.fetchHistory()).events![0].workflowExecutionStartedEventAttributes!;
  const startInputBytes = (started.input?.payloads ?? []).reduce((n, p) => n + (p.data?.length ?? 0) + Object.values(p.metadata ?? {}).reduce((m, v) => m + v.length, 0), 0);
  return { events: historyLength, bytes: Number(raw.workflowExecutionInfo?.historySizeBytes ?? 0), startInputBytes };
}

// `npx tsx bench/pipelines.ts`: this benchmark alone (BENCH_PIPELINE_JOBS jobs).
if (require.main === module) runBench(() => withBenchStack(pipelineBenchmark));
