import { ensureReconcileSchedule, RECONCILE_SCHEDULE_ID } from '../../orchestrator/schedules';
import { createRunner } from '../../db/seed';
import { Stack } from '../harness/stack';

describe('the job reconciler', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start();
    await createRunner(stack.db, { slug: `idle-${stack.id}`, specIds: [stack.spec.id] });
  });
  afterAll(() => stack?.stop());

  it('fails jobs whose workflow an operator terminated, and leaves running ones alone', async () => {
    const image = await stack.pushImage('noop', { entrypoint: ['/bin/true'] });
    const orphan = await stack.submit({ image });
    const waiting = await stack.submit({ image });
    await stack.waitUntilScheduled(orphan.workflow_id);
    await stack.client.workflow.getHandle(orphan.workflow_id).terminate('operator');
    // Old enough for the reconciler; every other job in this shared database is minutes younger.
    await stack.db('job').whereIn('id', [orphan.job, waiting.job]).update({ created_at: new Date(Date.now() - 3600_000) });

    const settled = await stack.client.workflow.execute('reconcileJobsWorkflow', {
      workflowId: `reconcile-${stack.id}`,
      taskQueue: `control-${stack.id}`,
      args: [600],
    });
    expect(settled).toBeGreaterThanOrEqual(1);
    expect(await stack.job(orphan.job)).toMatchObject({ status: 'failed', error: "the job's workflow ended (terminated) without settling it" });
    expect((await stack.job(waiting.job)).status).toBe('pending');
  });

  it('hands the tier permit of a job it settles to the organization’s next job', async () => {
    const free = await stack.tenant('free-orphan', { plan: 'free' });
    const image = await stack.pushImage('noop', { entrypoint: ['/bin/true'] });
    const [orphan, next] = [(await stack.submitAs(free, { image })).body, (await stack.submitAs(free, { image })).body];
    await stack.waitUntilScheduled(orphan.workflow_id);
    await stack.client.workflow.getHandle(orphan.workflow_id).terminate('operator');
    await stack.db('job').where({ id: orphan.job }).update({ created_at: new Date(Date.now() - 3600_000) });

    // The waiting job checks again only after the api's interval (60 s): the grant is the reconciler's.
    await stack.client.workflow.execute('reconcileJobsWorkflow', { workflowId: `reconcile-permit-${stack.id}`, taskQueue: `control-${stack.id}`, args: [600] });
    expect(await stack.db('tier_permit').whereIn('job_id', [orphan.job, next.job]).select('job_id', 'held')).toEqual([{ job_id: next.job, held: true }]);
    await stack.waitUntilScheduled(next.workflow_id);
  });

  it('the orchestrator’s schedule is created once, however many replicas start', async () => {
    await ensureReconcileSchedule(stack.client, `control-${stack.id}`);
    await ensureReconcileSchedule(stack.client, `control-${stack.id}`);
    const schedule = await stack.client.schedule.getHandle(RECONCILE_SCHEDULE_ID).describe();
    expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'reconcileJobsWorkflow' });
    await stack.client.schedule.getHandle(RECONCILE_SCHEDULE_ID).delete();
  });
});
