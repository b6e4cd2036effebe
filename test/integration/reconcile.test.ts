import { jobWorkflowId } from '../../common/contracts';
import type { PipelineView } from '../../common/schemas/pipelines';
import { ensureReconcileSchedule, RECONCILE_SCHEDULE_ID } from '../../orchestrator/schedules';
import { createRunner } from '../../db/seed';
import { Stack } from '../harness/stack';

describe('the job reconciler', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start();
    await createRunner(stack.db, { slug: `idle-${stack.id}`, specIds: [stack.spec.id], seen: true });
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

  it('ends a pipeline whose workflow an operator terminated: its unstarted jobs canceled, its counts from the job rows; a live pipeline left alone', async () => {
    const image = await stack.pushImage('noop', { entrypoint: ['/bin/true'] });
    const job = (key: string, needs: string[] = []) => ({ key, branch: 'main', testbed: 'ci', adapter: 'json', job: { image }, needs: needs.map((n) => ({ job: n })) });
    const submit = async (jobs: ReturnType<typeof job>[]) => {
      const res = await stack.request<PipelineView>('POST', '/v0/pipelines', { project: stack.project.slug, jobs });
      expect(res.status).toBe(202);
      return res.body;
    };
    // No runner polls: each first job waits at its queue, each second one for its parent.
    const orphan = await submit([job('first'), job('second', ['first'])]);
    const live = await submit([job('first'), job('second', ['first'])]);
    const [first, second] = ['first', 'second'].map((key) => orphan.jobs.find((j) => j.key === key)!.uuid);
    await stack.waitUntilScheduled(jobWorkflowId(first));
    await stack.waitUntilScheduled(jobWorkflowId(live.jobs.find((j) => j.key === 'first')!.uuid));
    await stack.client.workflow.getHandle(orphan.workflow_id).terminate('operator');
    // The parent close policy cancels the running child; the job that never started is left pending, the pipeline running.
    await stack.waitForJob(first);
    expect([(await stack.job(second)).status, (await stack.db('pipeline').where({ id: orphan.uuid }).first()).status]).toEqual(['pending', 'running']);
    await stack.db('pipeline').whereIn('id', [orphan.uuid, live.uuid]).update({ created_at: new Date(Date.now() - 3600_000) });
    await stack.db('job').whereIn('pipeline_id', [orphan.uuid, live.uuid]).update({ created_at: new Date(Date.now() - 3600_000) });

    await stack.client.workflow.execute('reconcileJobsWorkflow', { workflowId: `reconcile-pipelines-${stack.id}`, taskQueue: `control-${stack.id}`, args: [600] });
    expect(await stack.job(second)).toMatchObject({ status: 'canceled', error: "canceled: the pipeline's workflow ended (terminated) before the job started" });
    expect((await stack.request<PipelineView>('GET', `/v0/pipelines/${orphan.uuid}`)).body).toMatchObject({
      status: 'canceled',
      counts: { processed: 0, failed: 0, canceled: 2, skipped: 0 },
      finished: expect.any(String),
    });
    const stillLive = (await stack.request<PipelineView>('GET', `/v0/pipelines/${live.uuid}`)).body;
    expect([stillLive.status, ...stillLive.jobs.map((j) => j.status)]).toEqual(['running', 'pending', 'pending']);
    await stack.request('POST', `/v0/pipelines/${live.uuid}/cancel`);
  });

  it('the orchestrator’s schedule is created once, however many replicas start', async () => {
    await ensureReconcileSchedule(stack.client, `control-${stack.id}`);
    await ensureReconcileSchedule(stack.client, `control-${stack.id}`);
    const schedule = await stack.client.schedule.getHandle(RECONCILE_SCHEDULE_ID).describe();
    expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'reconcileJobsWorkflow' });
    await stack.client.schedule.getHandle(RECONCILE_SCHEDULE_ID).delete();
  });
});
