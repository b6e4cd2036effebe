import { createRunner } from '../../db/seed';
import { waitFor } from '../../devenv/wait';
import { startRunnerProcess, type RunnerProcess } from '../harness/runner-process';
import { processesMatching } from '../harness/processes';
import { Stack } from '../harness/stack';

const HEARTBEAT_TIMEOUT_SECONDS = 3;

describe('a runner that dies mid-job', () => {
  let stack: Stack;
  let doomed: RunnerProcess | undefined;
  beforeAll(async () => {
    stack = await Stack.start({ heartbeatTimeoutSeconds: HEARTBEAT_TIMEOUT_SECONDS });
  });
  afterAll(async () => {
    doomed?.child.kill('SIGKILL');
    await stack?.stop();
  });

  it('fails its job with a heartbeat-timeout reason within the window; the next job goes to the survivor', async () => {
    const doomedSlug = `doomed-${stack.id}`;
    const { token } = await createRunner(stack.db, { slug: doomedSlug, specIds: [stack.spec.id] });
    // The sandbox: its benchmark is a host process this test can watch die with the runner.
    doomed = await startRunnerProcess({ apiUrl: stack.apiUrl, runner: doomedSlug, token, env: { BENCHLINE_EXECUTOR: 'sandbox' } });
    const image = await stack.pushImage('long', { entrypoint: ['/bin/sleep', '619'] });
    const accepted = await stack.submit({ image });
    const running = await stack.waitForJob(accepted.job, (j) => j.status === 'running');
    expect(running.runner).toBe(doomedSlug);
    await waitFor('the benchmark process', async () => processesMatching('sleep 619').length > 0 || undefined);

    // No other runner is free: the loss must still be noticed at the heartbeat timeout, not at the queue limit.
    const killedAt = Date.now();
    doomed.child.kill('SIGKILL');

    const failed = await stack.waitForJob(accepted.job);
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe(`heartbeat timeout: the runner stopped responding for ${HEARTBEAT_TIMEOUT_SECONDS}s after the benchmark started; it is not run twice`);
    expect(Date.now() - killedAt).toBeLessThan((HEARTBEAT_TIMEOUT_SECONDS + 10) * 1000);
    // The sandbox died with its runner (bubblewrap --die-with-parent): nothing runs on unattended.
    await waitFor('orphaned sandbox to die', async () => processesMatching('sleep 619').length === 0 || undefined, 10000);

    const survivor = await stack.startRunner();
    const next = await stack.submit({ image: await stack.pushImage('bmf', { entrypoint: ['/bin/echo', '{"b": {"latency": {"value": 1}}}'] }) });
    expect(await stack.waitForJob(next.job)).toMatchObject({ status: 'processed', runner: survivor.slug });
  });
});
