import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { buildApp } from '../../api/app';
import { apiConfigFromEnv } from '../../api/config';
import { join } from 'node:path';
import type { JobView, RunAccepted } from '../../common/schemas';
import type { StatusView } from '../../common/schemas/status';
import { connect } from '../../db/connection';
import { createAdmin } from '../../db/seed';
import { ROOT } from '../../devenv/paths';
import { freePort, waitFor } from '../../devenv/wait';
import { dashboardMetricNames, familyNames, parseExposition, sampleValue, type Sample } from '../harness/prometheus';
import { Stack, type TestRunner } from '../harness/stack';

/**
 * Metric names the dashboard and alert rules use that other parts of the fleet export: the runner
 * lease and build metrics and the per-endpoint webhook state, added with those features. The Temporal SDK's
 * own (benchline_temporal_*, on the workers) are checked by tracing.test.ts, which runs them.
 */
const EXPORTED_ELSEWHERE = new Set([
  'benchline_runners',
  'benchline_runner_build_drift',
  'benchline_runner_lease_conflicts_total',
  'benchline_runner_daemon_starts_total',
  'benchline_runner_daemon_uptime_seconds',
  'benchline_runner_last_seen_seconds',
  'benchline_runner_stopping_seconds',
  'benchline_webhook_endpoint_failing',
]);

/**
 * /v0/status and the job metrics after known events, on a real runner: a job held by a paused spec
 * is queued (depth 1, an age), the runner counts as online, and once the spec resumes the job's
 * completion, dispatch latency and duration show up in /metrics. This stack's spec is its own, so
 * the values for it are exact.
 */
describe('status page and job metrics', () => {
  let stack: Stack;
  let admin: string;
  let runner: TestRunner;
  let ok: string;
  let failing: string;

  beforeAll(async () => {
    stack = await Stack.start({ permitCheckIntervalSeconds: 1 });
    admin = await createAdmin(stack.db, `admin-${stack.id}`);
    [ok, failing] = await Promise.all([
      stack.pushImage('ok', { entrypoint: ['/bin/echo', '{"b": {"latency": {"value": 1}}}'] }),
      stack.pushImage('failing', { entrypoint: ['/bin/sh', '-c', 'exit 3'] }),
    ]);
  });
  afterAll(() => stack?.stop());

  const status = async (token: string | null = null) => {
    const res = await stack.request<StatusView>('GET', '/v0/status', undefined, token);
    expect(res.status).toBe(200);
    return res.body;
  };
  const ours = (view: StatusView) => view.specs.find((s) => s.spec === stack.spec.slug)!;
  const scrape = async (): Promise<{ text: string; samples: Sample[] }> => {
    // The api answers loopback scrapers when no BENCHLINE_METRICS_TOKEN is set, as in the tests.
    const res = await fetch(`${stack.apiUrl}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    return { text, samples: parseExposition(text) };
  };
  const spec = () => ({ spec: stack.spec.slug });

  it('shows reachability, the build and an empty queue without a runner; private fields only to server admins', async () => {
    const view = await status();
    expect(view).toMatchObject({ status: 'ok', database: { reachable: true }, temporal: { reachable: true } });
    expect(view.database.latency_ms).toBeGreaterThanOrEqual(0);
    expect(view.build.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(view.build.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(view.uptime_seconds).toBeGreaterThanOrEqual(0);
    expect(ours(view)).toEqual({ spec: stack.spec.slug, paused: false, queued: 0, oldest_queued_seconds: null, runners_online: 0 });
    expect(view.runners).toBeUndefined();
    expect(view.build.node).toBeUndefined();
    // A signed-in user who is not an admin sees the same public view.
    const member = await status(stack.userToken);
    expect([member.runners, member.build.node]).toEqual([undefined, undefined]);
    const adminView = await status(admin);
    expect(adminView.build).toMatchObject({ node: process.version, platform: `${process.platform}-${process.arch}` });
    expect(Array.isArray(adminView.runners)).toBe(true);
  });

  it('counts a job waiting on a paused spec and the online runner, then its completion, dispatch latency and duration', async () => {
    expect((await stack.request('POST', `/v0/specs/${stack.spec.slug}/pause`, { reason: 'observability test' }, admin)).status).toBe(200);
    runner = await stack.startRunner();
    const held: RunAccepted = await stack.submit({ image: ok });
    // The runner took it from the queue and its claim was refused: the job waits in its workflow.
    // (Resuming before that refusal races the claim: see the report of this change.)
    await waitFor(`job ${held.job}'s claim to be refused`, async () => {
      const events = (await stack.client.workflow.getHandle(held.workflow_id).fetchHistory()).events!;
      return events.some((e) => e.activityTaskFailedEventAttributes) || undefined;
    });
    expect((await stack.job(held.job)).waiting).toBe('spec paused: observability test');

    const waiting = await waitFor('the queued job to have aged', async () => {
      const s = ours(await status());
      return s.queued === 1 && (s.oldest_queued_seconds ?? 0) > 0 ? s : undefined;
    });
    expect(waiting).toMatchObject({ paused: true, queued: 1, runners_online: 1 });
    const adminView = await status(admin);
    expect(adminView.runners!.find((r) => r.slug === runner.slug)).toMatchObject({ online: true, locked: false, specs: [stack.spec.slug], version: 'test', current_job: null });

    let { samples } = await scrape();
    expect(sampleValue(samples, 'benchline_queue_depth', spec())).toBe(1);
    expect(sampleValue(samples, 'benchline_queue_oldest_age_seconds', spec())).toBeGreaterThan(0);
    expect(sampleValue(samples, 'benchline_spec_runners_online', spec())).toBe(1);
    expect(sampleValue(samples, 'benchline_jobs_finished_total', { ...spec(), outcome: 'completed' })).toBeUndefined();
    expect(sampleValue(samples, 'benchline_dispatch_latency_seconds_count', spec())).toBeUndefined();

    expect((await stack.request('POST', `/v0/specs/${stack.spec.slug}/resume`, {}, admin)).status).toBe(200);
    const done: JobView = await stack.waitForJob(held.job);
    expect(done.status).toBe('processed');
    const failed: JobView = await stack.waitForJob((await stack.submit({ image: failing })).job);
    expect(failed.status).toBe('failed');

    ({ samples } = await scrape());
    expect(sampleValue(samples, 'benchline_queue_depth', spec())).toBe(0);
    expect(sampleValue(samples, 'benchline_queue_oldest_age_seconds', spec())).toBe(0);
    expect(sampleValue(samples, 'benchline_jobs_finished_total', { ...spec(), outcome: 'completed', tier: done.tier })).toBe(1);
    expect(sampleValue(samples, 'benchline_jobs_finished_total', { ...spec(), outcome: 'failed', tier: failed.tier })).toBe(1);
    expect(sampleValue(samples, 'benchline_runner_jobs_finished_total', { runner: runner.slug, outcome: 'completed' })).toBe(1);
    expect(sampleValue(samples, 'benchline_runner_jobs_finished_total', { runner: runner.slug, outcome: 'failed' })).toBe(1);
    // Both jobs started their commands: two dispatches, the held one waiting at least as long as the pause lasted.
    expect(sampleValue(samples, 'benchline_dispatch_latency_seconds_count', spec())).toBe(2);
    const heldWait = (new Date(done.started!).getTime() - new Date(done.created).getTime()) / 1000;
    expect(sampleValue(samples, 'benchline_dispatch_latency_seconds_sum', spec())).toBeGreaterThanOrEqual(heldWait - 1);
    expect(sampleValue(samples, 'benchline_job_duration_seconds_count', { ...spec(), outcome: 'completed' })).toBe(1);
    expect(sampleValue(samples, 'benchline_job_duration_seconds_count', { ...spec(), outcome: 'failed' })).toBe(1);
    expect(sampleValue(samples, 'benchline_job_duration_seconds_bucket', { ...spec(), outcome: 'completed', le: '+Inf' })).toBe(1);

    // A second scrape observes nothing twice.
    ({ samples } = await scrape());
    expect(sampleValue(samples, 'benchline_job_duration_seconds_count', { ...spec(), outcome: 'completed' })).toBe(1);
    expect(sampleValue(samples, 'benchline_jobs_finished_total', { ...spec(), outcome: 'completed', tier: done.tier })).toBe(1);
  });

  it('has a dashboard that queries only metrics the fleet exports', async () => {
    const { text } = await scrape();
    const exported = familyNames(text);
    const used = dashboardMetricNames(JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/benchline.json'), 'utf8')));
    expect(used.size).toBeGreaterThan(10);
    const unknown = [...used].filter((name) => !name.startsWith('benchline_temporal_') && !exported.has(name) && !EXPORTED_ELSEWHERE.has(name));
    expect(unknown).toEqual([]);
    // Every job metric of this api is on the dashboard.
    for (const name of ['benchline_jobs_finished_total', 'benchline_queue_depth', 'benchline_queue_oldest_age_seconds', 'benchline_dispatch_latency_seconds', 'benchline_job_duration_seconds']) {
      expect(used).toContain(name);
    }
  });

  it('says degraded, naming what does not answer, when Postgres and Temporal are unreachable; still within the probe timeout', async () => {
    // An api of its own, on addresses nothing listens on (the refusal is immediate; the timeout bounds a hang).
    const [dbPort, temporalPort] = [await freePort(), await freePort()];
    const db = connect(`postgres://postgres@127.0.0.1:${dbPort}/none`, { min: 0, max: 1 });
    // No retry interceptor: the SDK's would keep retrying the abandoned probe past the connection's close.
    const connection = Connection.lazy({ address: `127.0.0.1:${temporalPort}`, interceptors: [] });
    const app = await buildApp({ db, temporal: new Client({ connection }), config: apiConfigFromEnv(), logger: false });
    try {
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      const begun = Date.now();
      const res = await fetch(`${url}/v0/status`);
      expect(Date.now() - begun).toBeLessThan(10000);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'degraded', database: { reachable: false, latency_ms: null }, temporal: { reachable: false, latency_ms: null }, specs: [] });
      // A scrape still answers, without the job series it cannot read.
      const metrics = await fetch(`${url}/metrics`);
      expect(metrics.status).toBe(200);
      const samples = parseExposition(await metrics.text());
      expect(sampleValue(samples, 'benchline_queue_depth', spec())).toBeUndefined();
      expect(samples.some((s) => s.name === 'benchline_api_process_cpu_seconds_total')).toBe(true);
    } finally {
      await app.close();
      await connection.close().catch(() => undefined);
      await db.destroy();
    }
  });
});
