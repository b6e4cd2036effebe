import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createRunner } from '../../db/seed';
import { waitFor } from '../../devenv/wait';
import { mountPointsUnder } from '../../runner/stale-mounts';
import { startRunnerProcess, type RunnerProcess } from '../harness/runner-process';
import { processesMatching } from '../harness/processes';
import { Stack } from '../harness/stack';

const HEARTBEAT_TIMEOUT_SECONDS = 3;
// A killed daemon's lease must expire before its restart may take over (one daemon per runner).
const LEASE_STALE_SECONDS = 4;
const DAEMON_ENV = { BENCHLINE_EXECUTOR: 'sandbox', BENCHLINE_PING_INTERVAL_MS: '500' };

describe('a runner that dies mid-job', () => {
  let stack: Stack;
  let doomed: RunnerProcess | undefined;
  beforeAll(async () => {
    stack = await Stack.start({ heartbeatTimeoutSeconds: HEARTBEAT_TIMEOUT_SECONDS, runnerLease: { staleSeconds: LEASE_STALE_SECONDS, stoppingSeconds: 2 * LEASE_STALE_SECONDS } });
  });
  afterAll(async () => {
    doomed?.child.kill('SIGKILL');
    await stack?.stop();
  });

  it('fails its job with a heartbeat-timeout reason within the window; the next job goes to the survivor', async () => {
    const doomedSlug = `doomed-${stack.id}`;
    const { token } = await createRunner(stack.db, { slug: doomedSlug, specIds: [stack.spec.id], seen: true });
    // The sandbox: its benchmark is a host process this test can watch die with the runner.
    doomed = await startRunnerProcess({ apiUrl: stack.apiUrl, runner: doomedSlug, token, env: DAEMON_ENV });
    const image = await stack.pushImage('long', { entrypoint: ['/bin/sleep', '619'] });
    const accepted = await stack.submit({ image });
    const running = await stack.waitForJob(accepted.job, (j) => j.status === 'running');
    expect(running.runner).toBe(doomedSlug);
    await waitFor('the benchmark process', async () => processesMatching('sleep 619').length > 0 || undefined);
    // Its scratch directory, with the sandbox's overlay mounted in it: what a crash leaves behind.
    const runnerId = (await stack.db('runner').where({ slug: doomedSlug }).first('id')).id;
    const scratchRoot = join(process.env.BENCHLINE_TEST_SCRATCH!, doomedSlug, 'jobs', runnerId);
    const mountsUnderScratch = () => mountPointsUnder(readFileSync('/proc/self/mounts', 'utf8'), scratchRoot);
    expect(readdirSync(scratchRoot)).toEqual([`${accepted.job}-1`]);
    expect(mountsUnderScratch()).toEqual([join(scratchRoot, `${accepted.job}-1`, 'merged')]);

    // No other runner is free: the loss must still be noticed at the heartbeat timeout, not at the queue limit.
    const killedAt = Date.now();
    doomed.child.kill('SIGKILL');

    const failed = await stack.waitForJob(accepted.job);
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe(`heartbeat timeout: the runner stopped responding for ${HEARTBEAT_TIMEOUT_SECONDS}s after the benchmark started; it is not run twice`);
    expect(Date.now() - killedAt).toBeLessThan((HEARTBEAT_TIMEOUT_SECONDS + 10) * 1000);
    // The sandbox died with its runner (bubblewrap --die-with-parent): nothing runs on unattended.
    await waitFor('orphaned sandbox to die', async () => processesMatching('sleep 619').length === 0 || undefined, 10000);
    expect(existsSync(join(scratchRoot, `${accepted.job}-1`))).toBe(true);
    // Its image pulls worked under a dir named by its pid; a pull the kill cut short would have left files there.
    const pulls = join(process.env.BENCHLINE_TEST_SCRATCH!, doomedSlug, 'images', 'tmp');
    const doomedPulls = `${hostname()}.${doomed.child.pid}`;
    expect(readdirSync(pulls)).toEqual([doomedPulls]);
    writeFileSync(join(pulls, doomedPulls, 'half-a-layer'), 'x');

    // Restarted, the runner clears the dead job's scratch and mount, and the dead runner's pulls, before it polls again.
    await waitFor("the killed daemon's lease to expire", async () => {
      const { rows } = await stack.db.raw(
        `SELECT 1 FROM runner_lease JOIN runner ON runner.id = runner_lease.runner_id WHERE runner.slug = ? AND runner_lease.renewed_at > now() - make_interval(secs => ?)`,
        [doomedSlug, LEASE_STALE_SECONDS],
      );
      return rows.length === 0 || undefined;
    }, 30000, 200);
    const restarted = await startRunnerProcess({ apiUrl: stack.apiUrl, runner: doomedSlug, token, env: DAEMON_ENV });
    expect(readdirSync(scratchRoot)).toEqual([]);
    expect(mountsUnderScratch()).toEqual([]);
    expect(restarted.output()).toContain('removed 1 job scratch dir(s) (1 mount(s)) a previous run left behind');
    expect(readdirSync(pulls)).not.toContain(doomedPulls);
    expect(restarted.output()).toContain(`removed ${join('tmp', doomedPulls)} from the image cache`);
    restarted.child.kill('SIGTERM');
    expect(await restarted.exited).toBe(0);

    const survivor = await stack.startRunner();
    const next = await stack.submit({ image: await stack.pushImage('bmf', { entrypoint: ['/bin/echo', '{"b": {"latency": {"value": 1}}}'] }) });
    expect(await stack.waitForJob(next.job)).toMatchObject({ status: 'processed', runner: survivor.slug });
  });
});
