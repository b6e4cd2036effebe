import type { RunAccepted } from '../../common/schemas';
import { Stack } from '../harness/stack';

/**
 * Two installations on one Temporal namespace and database (here: two stacks on the run's
 * services, each with its own control queue) must not share a tier gate. Before gates were scoped
 * by control queue, the unclaimed tier's per-IP gate (then a workflow) started by the first stack
 * lingered on a queue nobody polled once that stack stopped, and the second stack's anonymous jobs
 * waited for a permit that never came; a permit row left by a stopped installation would hold the
 * next one's jobs until a check reclaimed it.
 */
describe('tier concurrency gates', () => {
  const stacks: Stack[] = [];
  afterAll(() => Promise.all(stacks.map((s) => s.stop())));

  async function anonymousJob(stack: Stack): Promise<string> {
    await stack.startRunner();
    const image = await stack.pushImage('gate-scope', { entrypoint: ['/bin/sh', '-c', 'echo \'{"b":{"latency":{"value":1}}}\''] });
    const res = await stack.request<RunAccepted>('POST', '/v0/run', { project: `gate-scope-${stack.id}`, branch: 'main', testbed: 'ci', adapter: 'json', job: { image, spec: stack.spec.slug } }, null);
    expect(res.status).toBe(202);
    return (await stack.waitForJob(res.body.job, undefined, 30000)).status;
  }

  it("are the installation's own: a stopped installation's gate does not hold another's anonymous jobs", async () => {
    const first = await Stack.start();
    stacks.push(first);
    expect(await anonymousJob(first)).toBe('processed');
    await first.stop();
    stacks.pop();

    const second = await Stack.start();
    stacks.push(second);
    expect(await anonymousJob(second)).toBe('processed');
  });
});
