import { createRunner } from '../../db/seed';
import { waitFor } from '../../devenv/wait';
import { processesMatching } from '../harness/processes';
import { Stack } from '../harness/stack';


describe('cancellation', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start();
    // A registered runner that never polls: the spec counts as served, nothing takes the jobs.
    await createRunner(stack.db, { slug: `parked-${stack.id}`, specIds: [stack.spec.id], seen: true });
  });
  afterAll(() => stack?.stop());

  const cancel = (jobId: string) => stack.request('POST', `/v0/projects/${stack.project.slug}/jobs/${jobId}/cancel`, {});

  it('cancelling a queued job removes it from the queue; no runner ever claims it', async () => {
    const image = await stack.pushImage('quick', { entrypoint: ['/bin/echo', '{}'] });
    const accepted = await stack.submit({ image });
    await stack.waitUntilScheduled(accepted.workflow_id);
    expect((await cancel(accepted.job)).status).toBe(202);
    const job = await stack.waitForJob(accepted.job);
    expect(job).toMatchObject({ status: 'canceled', runner: null, claimed: null });
    // The withdrawn task is really gone: a runner that starts now finds nothing to do.
    await stack.startRunner();
    expect(await stack.closedStatus(accepted.workflow_id)).toBe('CANCELLED');
    expect((await stack.job(accepted.job)).claimed).toBeNull();
  });

  it('cancelling a running job kills its sandbox within seconds and ends canceled', async () => {
    await stack.startRunner();
    const image = await stack.pushImage('long', { entrypoint: ['/bin/sleep', '617'] });
    const accepted = await stack.submit({ image });
    await stack.waitForJob(accepted.job, (j) => j.status === 'running');
    await waitFor('the benchmark process', async () => processesMatching('sleep 617').length > 0 || undefined, 10000);
    const asked = Date.now();
    expect((await cancel(accepted.job)).status).toBe(202);
    const job = await stack.waitForJob(accepted.job);
    expect(job.status).toBe('canceled');
    expect(Date.now() - asked).toBeLessThan(10000);
    expect(processesMatching('sleep 617')).toEqual([]);
  });

  it('refuses to cancel a finished job', async () => {
    // A tag that does not exist ends the job before any runner is involved.
    const accepted = await stack.submit({ image: `${stack.registry}/${stack.id}/missing:none` });
    expect((await stack.waitForJob(accepted.job)).status).toBe('failed');
    const res = await cancel(accepted.job);
    expect(res.status).toBe(409);
    expect((res.body as { message: string }).message).toMatch(/already failed/);
  });
});
