import { existsSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseImageRef } from '../../common/image-ref';
import { DEMO_BENCHMARK_SH } from '../../devenv/images';
import { imageKey } from '../../runner/images';
import { Stack } from '../harness/stack';

/** One job through every real part: registry, api, Temporal, orchestrator, runner, sandbox, Postgres. */
describe('a benchmark job end to end', () => {
  let stack: Stack;
  let benchImage: string;

  beforeAll(async () => {
    stack = await Stack.start();
    await stack.startRunner();
    benchImage = await stack.pushImage('bench', { entrypoint: ['/bench.sh'], files: { '/bench.sh': DEMO_BENCHMARK_SH } });
  });
  afterAll(() => stack?.stop());

  it('runs the image on a runner and stores its BMF output as metrics on the report', async () => {
    const accepted = await stack.submit({ image: benchImage });
    expect(accepted.status).toBe('pending');
    expect(accepted.workflow_id).toBe(`job-${accepted.job}`);
    expect(accepted.temporal_ui_url).toContain(`/workflows/job-${accepted.job}`);

    const job = await stack.waitForJob(accepted.job);
    expect(job).toMatchObject({ status: 'processed', exit_code: 0, error: null, attempt: 1 });
    expect(job.runner).toMatch(/^runner-/);
    expect(job.image_digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(job.outputs.map((o) => o.kind)).toEqual(['stderr', 'stdout']);
    for (const t of ['claimed', 'started', 'completed', 'finished'] as const) expect(job[t]).not.toBeNull();

    const report = await stack.report(accepted.report);
    expect(report.end_time).not.toBeNull();
    const byMeasure = Object.fromEntries(report.results.map((r) => [r.measure, r]));
    expect(Object.keys(byMeasure).sort()).toEqual(['latency', 'throughput']);
    expect(byMeasure.latency.benchmark).toBe('sha256/1MiB');
    expect(byMeasure.latency.units).toBe('nanoseconds (ns)');
    // A real measurement: positive, and the mean lies within the observed min..max.
    expect(byMeasure.latency.value).toBeGreaterThan(0);
    expect(byMeasure.latency.lower_value!).toBeLessThanOrEqual(byMeasure.latency.value);
    expect(byMeasure.latency.upper_value!).toBeGreaterThanOrEqual(byMeasure.latency.value);

    const history = await stack.client.workflow.getHandle(accepted.workflow_id).fetchHistory();
    const activities = history.events!
      .filter((e) => e.activityTaskScheduledEventAttributes)
      .map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name);
    expect(activities).toEqual(['runJob', 'recordRunResult', 'processResults']);
    // The api pinned the image at submission: no local activity (a marker) ran before dispatch either.
    expect(history.events!.filter((e) => e.markerRecordedEventAttributes)).toEqual([]);

    // The runner let go of the cached image once the job was done with it (else it could never be
    // evicted), and recorded the use that keeps it from being the least recently used.
    const entry = join(process.env.BENCHLINE_TEST_SCRATCH!, 'images', 'by-source', imageKey({ ...parseImageRef(benchImage), digest: job.image_digest! }));
    expect(existsSync(join(entry, 'last-used'))).toBe(true);
    expect(readdirSync(join(entry, 'in-use')).filter((m) => m.startsWith(`${hostname()}.${process.pid}.`))).toEqual([]);
  });

  it('reads output files named in file_paths, env and cmd overrides', async () => {
    const script = '#!/bin/sh\nprintf \'{"%s": {"latency": {"value": %s}}}\' "$NAME" "$1" > /work/out.json\n';
    const image = await stack.pushImage('files', { entrypoint: ['/run.sh'], cmd: ['1'], workingDir: '/work', files: { '/run.sh': script, '/work/.keep': '' } });
    const accepted = await stack.submit({ image, cmd: ['42.5'], env: { NAME: 'from-env' }, file_paths: ['out.json'] });
    const job = await stack.waitForJob(accepted.job);
    expect(job.status).toBe('processed');
    expect(job.outputs).toContainEqual({ kind: 'file', path: 'out.json', size_bytes: expect.any(Number) });
    const report = await stack.report(accepted.report);
    expect(report.results).toEqual([expect.objectContaining({ benchmark: 'from-env', measure: 'latency', value: 42.5 })]);

    // The same series again: with no threshold, the previous value is the baseline of the change.
    const again = await stack.submit({ image, cmd: ['51'], env: { NAME: 'from-env' }, file_paths: ['out.json'] });
    expect((await stack.waitForJob(again.job)).status).toBe('processed');
    const [second] = (await stack.report(again.report)).results;
    expect(second).toMatchObject({ value: 51, previous_value: 42.5, baseline: 42.5, baseline_source: 'previous' });
    expect(second.change_percent).toBeCloseTo((51 / 42.5 - 1) * 100, 9);
  });
});

describe('idempotent submission', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start();
    await stack.startRunner();
  });
  afterAll(() => stack?.stop());

  it('a repeated submission with the same idempotency key returns the same job, even after it finished', async () => {
    const image = await stack.pushImage('once', { entrypoint: ['/bin/echo', '{"b": {"latency": {"value": 3}}}'] });
    const submit = () => stack.request<{ job: string }>('POST', '/v0/run', {
      project: stack.project.slug, branch: 'main', testbed: 'ci', adapter: 'json', idempotency_key: 'ci-build-42', job: { image },
    });
    const first = await submit();
    const handle = stack.client.workflow.getHandle(`job-${first.body.job}`);
    const firstRun = (await handle.describe()).runId;
    const again = await submit();
    expect(again).toEqual({ status: 202, body: expect.objectContaining({ job: first.body.job }) });
    await stack.waitForJob(first.body.job);
    const late = await submit();
    expect(late.body.job).toBe(first.body.job);
    // The latest run is still the first: no second run was started for the finished job.
    expect((await handle.describe()).runId).toBe(firstRun);
    expect((await stack.job(first.body.job)).status).toBe('processed');
  });
});

/** The development topology: the api hosts the control worker and starts job workflows eagerly. */
describe('a benchmark job with the api hosting the control worker', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.start({ controlWorker: true });
    await stack.startRunner();
  });
  afterAll(() => stack?.stop());

  it('runs to its metrics through the same steps as with a separate orchestrator', async () => {
    const image = await stack.pushImage('bench', { entrypoint: ['/bench.sh'], files: { '/bench.sh': DEMO_BENCHMARK_SH } });
    const accepted = await stack.submit({ image });
    expect(await stack.waitForJob(accepted.job)).toMatchObject({ status: 'processed', attempt: 1, image_digest: expect.stringMatching(/^sha256:/) });
    const history = await stack.client.workflow.getHandle(accepted.workflow_id).fetchHistory();
    const activities = history.events!.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name);
    expect(activities).toEqual(['runJob', 'recordRunResult', 'processResults']);
    // The digest and the first ticket came from a local activity in the first workflow task, which scheduled runJob.
    const runJob = history.events!.findIndex((e) => e.activityTaskScheduledEventAttributes);
    expect(history.events!.slice(0, runJob).filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(1);
  });
});
