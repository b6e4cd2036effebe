import { failingToBoot } from '../harness/executors';
import { Stack } from '../harness/stack';

describe('infrastructure failures before the benchmark starts', () => {
  let stack: Stack;
  let image: string;
  beforeAll(async () => {
    stack = await Stack.start();
    image = await stack.pushImage('bmf', { entrypoint: ['/bin/echo', '{"b": {"latency": {"value": 5}}}'] });
  });
  afterAll(() => stack?.stop());

  it('a boot failure is retried, and the job still runs once and completes', async () => {
    const runner = await stack.startRunner({ executor: failingToBoot(1) });
    const accepted = await stack.submit({ image });
    const job = await stack.waitForJob(accepted.job);
    expect(job).toMatchObject({ status: 'processed', attempt: 2, runner: runner.slug });
    await runner.stop();
  });

  it('a runner that never boots fails the job after its tries, with the boot error, never marked running', async () => {
    await stack.startRunner({ executor: failingToBoot(Infinity) });
    const accepted = await stack.submit({ image });
    const job = await stack.waitForJob(accepted.job);
    expect(job).toMatchObject({ status: 'failed', attempt: 3, started: null });
    expect(job.error).toBe('microVM failed to boot: injected fault');
  });
});
