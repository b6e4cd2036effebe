import type { RunnerView } from '../../common/schemas/runners';
import { createRunner, createUser, grantAdmin } from '../../db/seed';
import type { LeaseRow } from '../../db/runner-lease';
import { waitFor } from '../../devenv/wait';
import { WINDOW_SH } from '../harness/benchmarks';
import { metricValue, settled, superviseUntilRunning } from '../harness/fleet';
import { startRunnerProcess, type RunnerProcess } from '../harness/runner-process';
import { Stack } from '../harness/stack';

/** Short lease times so a crash is seen replaced within the test; the daemons ping every 500 ms. */
const STALE_SECONDS = 10;
const STOPPING_SECONDS = 20;

/**
 * One active daemon per runner, on any host (the runner's lease row): real daemon processes racing
 * for one runner, a crashed holder replaced once its lease expired, one that crashed while draining
 * replaced only after the longer stopping timeout, and a holder that lost its lease stopping.
 */
describe('runner lease', () => {
  let stack: Stack;
  let adminToken: string;
  const daemons: RunnerProcess[] = [];
  beforeAll(async () => {
    stack = await Stack.start({ runnerLease: { staleSeconds: STALE_SECONDS, stoppingSeconds: STOPPING_SECONDS } });
    const { user, token } = await createUser(stack.db, { slug: `admin-${stack.id}` });
    await grantAdmin(stack.db, user.id);
    adminToken = token;
  });
  afterAll(async () => {
    for (const d of daemons) if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
    await stack?.stop();
  });

  async function runner(name: string) {
    const slug = `${name}-${stack.id}`;
    const { runner: row, token } = await createRunner(stack.db, { slug, specIds: [stack.spec.id] });
    const options = (env: Record<string, string> = {}) => ({
      apiUrl: stack.apiUrl, runner: slug, token,
      env: { BENCHLINE_EXECUTOR: 'sandbox', BENCHLINE_PING_INTERVAL_MS: '500', BENCHLINE_SHUTDOWN_GRACE_SECONDS: '600', ...env },
    });
    return { slug, id: row.id, options };
  }
  const lease = async (runnerId: string): Promise<LeaseRow> => stack.db<LeaseRow>('runner_lease').where({ runner_id: runnerId }).first() as Promise<LeaseRow>;
  const track = (d: RunnerProcess) => (daemons.push(d), d);
  const view = async (slug: string) => (await stack.request<RunnerView>('GET', `/v0/runners/${slug}`, undefined, adminToken)).body;

  it('five daemons started at once, two of them as other hosts: exactly one runs, the others exit naming it', async () => {
    const r = await runner('race');
    const hosts = ['', '', '', 'host-b', 'host-c'];
    const started = await Promise.all(hosts.map((host) => startRunnerProcess({ ...r.options(host ? { BENCHLINE_HOSTNAME: host } : {}), waitForPolling: false })));
    started.forEach(track);
    const outcomes = await Promise.all(started.map((d) => settled(d)));
    expect(outcomes.filter((o) => o === 'polling')).toHaveLength(1);
    const holder = started[outcomes.indexOf('polling')];
    const held = await lease(r.id);
    expect(held.pid).toBe(holder.child.pid);
    for (const refused of started.filter((d) => d !== holder)) {
      expect(await refused.exited).toBe(1);
      expect(refused.output()).toContain(`runner ${r.slug} already has an active daemon: host ${held.host}, pid ${held.pid}, since ${held.started_at.toISOString()}`);
    }
    expect(await metricValue(stack.apiUrl, 'benchline_runner_lease_conflicts_total', { runner: r.slug })).toBe(4);
    // One start counted (its second registration, after the executor probe, renews); the holder's uptime shows.
    expect(await metricValue(stack.apiUrl, 'benchline_runner_daemon_starts_total', { runner: r.slug })).toBe(1);
    expect(await metricValue(stack.apiUrl, 'benchline_runner_daemon_uptime_seconds', { runner: r.slug })).toBeGreaterThanOrEqual(0);
    expect(await view(r.slug)).toMatchObject({ state: 'idle', daemon: { host: held.host, pid: held.pid, live: true, stopping: null } });
    // A clean stop gives the lease back at once: the next daemon need not wait for it to expire.
    holder.child.kill('SIGTERM');
    expect(await holder.exited).toBe(0);
    expect(await lease(r.id)).toBeUndefined();
    expect(await metricValue(stack.apiUrl, 'benchline_runner_daemon_uptime_seconds', { runner: r.slug })).toBeUndefined();
    const next = track(await startRunnerProcess(r.options()));
    expect(await metricValue(stack.apiUrl, 'benchline_runner_daemon_starts_total', { runner: r.slug })).toBe(2);
    next.child.kill('SIGTERM');
    expect(await next.exited).toBe(0);
  });

  it('kill -9 of the holder: a restarted daemon is refused until the lease expires, then takes over', async () => {
    const r = await runner('crash');
    const first = track(await startRunnerProcess(r.options({ BENCHLINE_HOSTNAME: 'host-a' })));
    first.child.kill('SIGKILL');
    await first.exited;
    const dead = await lease(r.id);
    expect(dead.pid).toBe(first.child.pid);
    const { daemon, refused } = await superviseUntilRunning(r.options({ BENCHLINE_HOSTNAME: 'host-b' }));
    track(daemon);
    for (const d of refused) expect(d.output()).toContain(`host host-a, pid ${first.child.pid}`);
    const taken = await lease(r.id);
    expect(taken).toMatchObject({ host: 'host-b', pid: daemon.child.pid, stopping_at: null });
    // Taken over only once the dead holder's last renewal was STALE_SECONDS old (the database's clock).
    expect(taken.started_at.getTime() - dead.renewed_at.getTime()).toBeGreaterThanOrEqual(STALE_SECONDS * 1000);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  });

  it('a daemon killed while draining a job is replaced only after the stopping timeout', async () => {
    const image = await stack.pushImage('window', { entrypoint: ['/window.sh'], files: { '/window.sh': WINDOW_SH } });
    const r = await runner('draining');
    const first = track(await startRunnerProcess(r.options()));
    const accepted = await stack.submit({ image, cmd: ['40'] });
    await stack.waitForJob(accepted.job, (j) => j.status === 'running');
    first.child.kill('SIGTERM');
    // Its pings now say it is draining; the job runs on.
    const stopping = await waitFor('the lease to say stopping', async () => (await lease(r.id)).stopping_at ?? undefined, 30000, 200);
    expect(await view(r.slug)).toMatchObject({ state: 'busy', daemon: { stopping: stopping.toISOString(), live: true } });
    await waitFor('the stopping gauge', async () => ((await metricValue(stack.apiUrl, 'benchline_runner_stopping_seconds', { runner: r.slug })) ?? 0) > 0 || undefined, 10000, 200);
    first.child.kill('SIGKILL');
    await first.exited;
    const dead = await lease(r.id);
    const { daemon } = await superviseUntilRunning(r.options({ BENCHLINE_HOSTNAME: 'host-d' }));
    track(daemon);
    const taken = await lease(r.id);
    expect(taken).toMatchObject({ host: 'host-d', stopping_at: null });
    // Not after the ordinary STALE_SECONDS: a draining daemon's lease lasts STOPPING_SECONDS.
    expect(taken.started_at.getTime() - dead.renewed_at.getTime()).toBeGreaterThanOrEqual(STOPPING_SECONDS * 1000);
    expect(await metricValue(stack.apiUrl, 'benchline_runner_stopping_seconds', { runner: r.slug })).toBe(0);
    daemon.child.kill('SIGKILL');
    await daemon.exited;
  });

  it('a holder whose lease another daemon took stops taking jobs and exits non-zero', async () => {
    const r = await runner('deposed');
    const holder = track(await startRunnerProcess(r.options()));
    // As if it had been cut off past its lease and another daemon had taken over meanwhile.
    await stack.db('runner_lease').where({ runner_id: r.id }).update({ instance_id: '00000000-0000-4000-8000-000000000000', host: 'elsewhere', pid: 4242, renewed_at: stack.db.fn.now() });
    expect(await holder.exited).toBe(1);
    expect(holder.output()).toContain('already has an active daemon: host elsewhere, pid 4242');
    expect(holder.output()).toContain('no longer taking jobs');
    // It did not give back a lease that is not its own.
    expect(await lease(r.id)).toMatchObject({ host: 'elsewhere', pid: 4242 });
  });
});
