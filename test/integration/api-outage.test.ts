import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../devenv/wait';
import { busyQueue } from '../harness/outage';
import { Stack } from '../harness/stack';

/** The api stopped for 15 s under a running job and a queue: nothing fails, no run attempt is spent. */
describe('api outage', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start();
  });
  afterAll(() => stack?.stop());

  it('every job ends processed when the api is down for 15 s while 20 jobs are queued and one runs', async () => {
    // The running job is short enough to finish (and upload) while the api is down.
    const { runner, running, allProcessed } = await busyQueue(stack, { queued: 20, runningSeconds: 4 });

    await stack.stopApi();
    const refused = await fetch(`${stack.apiUrl}/health`).then(() => false, () => true);
    expect(refused).toBe(true);
    // The outage itself: its length is the point, not a wait for some state.
    await sleep(15_000);
    // The running job's benchmark ended during the outage; its runner is still trying to upload (and heartbeating).
    expect((await stack.db('job').where({ id: running.job }).first('status')).status).toBe('running');
    expect(await stack.heartbeatPhase(running.job)).toBe('uploading');
    await stack.startApi();

    await allProcessed();
    await runner.stop();
  });

  it('a job fails, naming the api and what the runner was doing, only once the outage outlasts the window', async () => {
    const image = await stack.pushImage('noop', { entrypoint: ['/bin/true'] });
    let delivered!: () => void;
    const delivery = new Promise<void>((resolve) => (delivered = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    // This runner gives the api 2 s; it holds its task until the api is down.
    await stack.startRunner({
      apiOutageWindowSeconds: 2,
      wrap: (activities) => ({
        async runJob(input) {
          delivered();
          await released;
          return activities.runJob(input);
        },
      }),
    });
    const { job: jobId } = await stack.submit({ image });
    await delivery;
    await stack.stopApi();
    release();
    // The workflow records the failure in the database, which the api's outage does not touch.
    const failed = await waitFor('the job to fail', async () => {
      const row = await stack.db('job').where({ id: jobId }).first('status', 'error', 'attempt');
      return row.status === 'failed' ? row : undefined;
    });
    await stack.startApi();
    expect(failed).toEqual({
      status: 'failed',
      attempt: 0,
      error: expect.stringMatching(new RegExp(`^the api at ${stack.apiUrl} was unreachable for 2 s while claiming the job \\(last: ECONNREFUSED\\)$`)),
    });
  });
});
