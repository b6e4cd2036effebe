import { execFileSync } from 'node:child_process';
import { Stack } from '../harness/stack';

/** The sandbox processes of a job still alive on this host (found by the sleep's unique argument). */
const alive = (marker: string) => execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l.includes(marker) && !l.includes('ps -eo'));

describe('cancellation', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start();
  });
  afterAll(() => stack?.stop());

  const cancel = (jobId: string) => stack.request('POST', `/v0/projects/${stack.project.slug}/jobs/${jobId}/cancel`, {});

  it('cancelling a queued job removes it from the queue; no runner ever claims it', async () => {
    const { createRunner } = await import('../../db/seed');
    await createRunner(stack.db, { slug: `parked-${stack.id}`, specIds: [stack.spec.id] });
    const image = await stack.pushImage('quick', { entrypoint: ['/bin/echo', '{}'] });
    const accepted = await stack.submit({ image });
    await stack.waitUntilQueued(accepted.workflow_id);
    expect((await cancel(accepted.job)).status).toBe(202);
    const job = await stack.waitForJob(accepted.job);
    expect(job).toMatchObject({ status: 'canceled', runner: null, claimed: null });
    // The withdrawn task is really gone: a runner that starts now finds nothing to do.
    await stack.startRunner();
    const describe = await stack.client.workflow.getHandle(accepted.workflow_id).describe();
    expect(describe.status.name).toBe('CANCELLED');
    expect((await stack.job(accepted.job)).claimed).toBeNull();
  });

  it('cancelling a running job kills its sandbox within seconds and ends canceled', async () => {
    await stack.startRunner();
    const image = await stack.pushImage('long', { entrypoint: ['/bin/sleep', '617'] });
    const accepted = await stack.submit({ image });
    await stack.waitForJob(accepted.job, (j) => j.status === 'running');
    await stack.waitForJob(accepted.job, () => alive('sleep 617').length > 0, 10000);
    const asked = Date.now();
    expect((await cancel(accepted.job)).status).toBe(202);
    const job = await stack.waitForJob(accepted.job);
    expect(job.status).toBe('canceled');
    expect(Date.now() - asked).toBeLessThan(10000);
    expect(alive('sleep 617')).toEqual([]);
  });

  it('refuses to cancel a finished job', async () => {
    const res = await stack.request<{ message: string }>('POST', `/v0/projects/${stack.project.slug}/jobs/${(await stack.db('job').where({ project_id: stack.project.id, status: 'canceled' }).first()).id}/cancel`, {});
    expect(res.status).toBe(409);
    expect(res.body.message).toMatch(/already canceled/);
  });
});
