import { reportedBuild } from '../../common/build-info';
import type { RunAccepted } from '../../common/schemas';
import type { RunnerView } from '../../common/schemas/runners';
import { createRunner, createSpec, createUser, grantAdmin } from '../../db/seed';
import type { SpecRow } from '../../db/rows';
import { RunnerApi } from '../../runner/api-client';
import { maxOverlap, WINDOW_SH, type Window } from '../harness/benchmarks';
import { metricValue } from '../harness/fleet';
import { startRunnerProcess, type RunnerProcess } from '../harness/runner-process';
import { Stack } from '../harness/stack';

/**
 * A runner serving two specs (a real daemon: one Worker per spec queue sharing one job slot) runs
 * the jobs of both, one at a time, the queues taking turns; and build drift, against the api and
 * among one spec's runners, in the runner view and the metrics.
 */
describe('runners serving several specs, and build drift', () => {
  let stack: Stack;
  let adminToken: string;
  let other: SpecRow;
  let image: string;
  let daemon: RunnerProcess | undefined;
  beforeAll(async () => {
    // Long leases: the drift test's runners register once and do not ping.
    stack = await Stack.start({ runnerLease: { staleSeconds: 300, stoppingSeconds: 600 } });
    const { user, token } = await createUser(stack.db, { slug: `admin-${stack.id}` });
    await grantAdmin(stack.db, user.id);
    adminToken = token;
    other = await createSpec(stack.db, { slug: `other-${stack.id}` });
    image = await stack.pushImage('window', { entrypoint: ['/window.sh'], files: { '/window.sh': WINDOW_SH } });
  });
  afterAll(async () => {
    if (daemon && daemon.child.exitCode === null) {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
    await stack?.stop();
  });

  const view = async (slug: string) => (await stack.request<RunnerView>('GET', `/v0/runners/${slug}`, undefined, adminToken)).body;
  const windowOf = async (report: string): Promise<Window> => {
    const results = (await stack.report(report)).results;
    return { start: results.find((r) => r.measure === 'start')!.value, end: results.find((r) => r.measure === 'end')!.value };
  };

  it('takes jobs from both specs, one at a time, alternating between the queues', async () => {
    const slug = `both-${stack.id}`;
    const { token } = await createRunner(stack.db, { slug, specIds: [stack.spec.id, other.id], seen: true });
    daemon = await startRunnerProcess({ apiUrl: stack.apiUrl, runner: slug, token, env: { BENCHLINE_EXECUTOR: 'sandbox' } });
    expect(daemon.output()).toContain(`polling ${[stack.spec.slug, other.slug].sort().map((s) => `runner.${s}`).join(', ')}`);
    // Both queues hold two jobs before either is dispatched.
    const jobs: { spec: string; accepted: RunAccepted }[] = [];
    for (const spec of [stack.spec.slug, other.slug, stack.spec.slug, other.slug]) jobs.push({ spec, accepted: await stack.submit({ image, cmd: ['1'], spec }) });
    const done = await Promise.all(jobs.map((j) => stack.waitForJob(j.accepted.job, undefined, 240000)));
    expect(done.map((j) => [j.status, j.runner])).toEqual(done.map(() => ['processed', slug]));
    const windows = await Promise.all(done.map((j) => windowOf(j.report!)));
    expect(maxOverlap(windows)).toBe(1);
    // The slot goes to the poller that waited longest: one spec's jobs do not all wait for the other's.
    const order = jobs.map((j, i) => ({ spec: j.spec, start: windows[i].start })).sort((a, b) => a.start - b.start).map((j) => j.spec);
    expect(new Set(order.slice(0, 3)).size).toBe(2);
    expect((await view(slug)).specs).toEqual([stack.spec.slug, other.slug].sort());
  });

  it('a busy spec beside an idle one is not held up by the idle queue\'s long poll', async () => {
    expect(daemon).toBeDefined(); // the runner of both specs, from the test above
    const jobs: RunAccepted[] = [];
    for (let i = 0; i < 3; i++) jobs.push(await stack.submit({ image, cmd: ['1'], spec: stack.spec.slug }));
    const done = await Promise.all(jobs.map((j) => stack.waitForJob(j.job, undefined, 240000)));
    const windows = (await Promise.all(done.map((j) => windowOf(j.report!)))).sort((a, b) => a.start - b.start);
    // Seconds between one job's end and the next one's start (windows are in microseconds). An empty queue's turn lasts one long
    // poll: about a minute on a server's default (measured gaps of 55-60 s), 5 s with the dynamic
    // config devenv/paths.ts and deploy/ set. Half a minute tells the two apart on a loaded machine.
    const gaps = windows.slice(1).map((w, i) => (w.start - windows[i].end) / 1e6);
    expect(Math.max(...gaps)).toBeLessThan(30);
  }, 300000);

  it('flags drift: a runner on another build than the api, and runners of one spec on two builds', async () => {
    const api = reportedBuild();
    const register = async (name: string, build: string) => {
      const slug = `${name}-${stack.id}`;
      const { token } = await createRunner(stack.db, { slug, specIds: [other.id], seen: true });
      await new RunnerApi(stack.apiUrl, slug, token).register({ version: '0.1.0', executor: 'sandbox', host: {}, build: { ...api, id: build } });
      return slug;
    };
    const current = await register('current', api.id);
    const stray = await register('stray', 'build-from-elsewhere');
    expect((await view(stray)).drift).toEqual({ reason: `runs build build-from-elsewhere; the api runs ${api.id.slice(0, 12)}` });
    expect((await view(stray)).build).toMatchObject({ id: 'build-from-elsewhere', node: process.version });
    // The runner on the api's build is flagged too: its spec's live runners disagree.
    expect((await view(current)).drift?.reason).toMatch(new RegExp(`^the live runners of spec ${other.slug} run \\d+ builds: .*build-from-elsewhere`));
    expect(await metricValue(stack.apiUrl, 'benchline_runner_build_drift', { runner: stray })).toBe(1);
    expect(await metricValue(stack.apiUrl, 'benchline_runner_build_drift', { runner: current })).toBe(1);
    expect(await metricValue(stack.apiUrl, 'benchline_runners', { state: 'idle', build: 'build-from-elsewhere', spec: other.slug })).toBe(1);
    expect(await metricValue(stack.apiUrl, 'benchline_runner_last_seen_seconds', { runner: stray })).toBeLessThan(60);
    // Locked by an operator, it is no longer one the stale-runner alert should watch.
    await stack.request('PATCH', `/v0/runners/${stray}`, { locked: true }, adminToken);
    expect(await metricValue(stack.apiUrl, 'benchline_runner_last_seen_seconds', { runner: stray })).toBeUndefined();
    // Archived, the stray runner no longer counts: the spec's live runners agree again.
    await stack.request('PATCH', `/v0/runners/${stray}`, { archived: true }, adminToken);
    expect((await view(current)).drift).toBeNull();
    expect(await metricValue(stack.apiUrl, 'benchline_runner_build_drift', { runner: current })).toBe(0);
  });
});
