import { createRunner } from '../../db/seed';
import { RunnerApi } from '../../runner/api-client';
import { waitFor } from '../../devenv/wait';
import { Stack } from '../harness/stack';

describe('runner pools', () => {
  let stack: Stack;
  let image: string;
  beforeAll(async () => {
    stack = await Stack.start();
    image = await stack.pushImage('bmf', { entrypoint: ['/bin/echo', '{"b": {"latency": {"value": 1}}}'] });
  });
  afterAll(() => stack?.stop());

  it('a dedicated runner takes its organization’s jobs from its own queue, and no one else’s', async () => {
    const dedicated = await stack.startRunner({ slug: `own-${stack.id}`, organizationId: stack.project.organization_id });
    const accepted = await stack.submit({ image });
    const job = await stack.waitForJob(accepted.job);
    expect(job).toMatchObject({ status: 'processed', runner: dedicated.slug });
    const [scheduled] = (await stack.client.workflow.getHandle(accepted.workflow_id).fetchHistory()).events!
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runJob')
      .map((e) => e.activityTaskScheduledEventAttributes!.taskQueue!.name);
    const org = await stack.db('organization').where({ id: stack.project.organization_id }).first();
    expect(scheduled).toBe(`runner.${stack.spec.slug}.org-${org.slug}`);

    // Another organization's job on the same spec is not the dedicated runner's to claim.
    const other = await stack.tenant('other', { plan: 'team' });
    await createRunner(stack.db, { slug: `shared-${stack.id}`, specIds: [stack.spec.id], seen: true });
    const theirs = await stack.submitAs(other, { image });
    await stack.waitForJob(theirs.body.job, (j) => j.image_digest !== null);
    // Even with the attempt's claim ticket in hand.
    const claim = await new RunnerApi(stack.apiUrl, dedicated.slug, dedicated.token).claim(theirs.body.job, await stack.dispatched(theirs.body.job)).catch((err) => err);
    expect(claim.status).toBe(409);
    // Leave the shared queue empty for the next test.
    await stack.request('POST', `/v0/projects/${other.project}/jobs/${theirs.body.job}/cancel`, {}, other.token);
    await stack.waitForJob(theirs.body.job);
  });

  it('a locked runner stops taking work; its job goes to another runner', async () => {
    const orgless = await stack.tenant('pool', { plan: 'team' });
    const locked = await stack.startRunner({ slug: `locked-${stack.id}` });
    await stack.db('runner').where({ slug: locked.slug }).update({ locked_at: new Date() });
    const accepted = await stack.submitAs(orgless, { image });
    // The locked runner picks the task up, is refused by the api, and shuts its worker down.
    await waitFor('the locked runner to stop', async () => locked.worker.getState() === 'STOPPED' || undefined, 30000);
    const healthy = await stack.startRunner({ slug: `healthy-${stack.id}` });
    const job = await stack.waitForJob(accepted.body.job);
    expect(job).toMatchObject({ status: 'processed', runner: healthy.slug, attempt: 2 });
  });
});
