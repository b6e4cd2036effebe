import { MAX_START_AFTER_DAYS } from '../../common/start-after';
import type { RunAccepted } from '../../common/schemas';
import { waitFor } from '../../devenv/wait';
import { Stack } from '../harness/stack';

describe('delayed start (start_after)', () => {
  let stack: Stack;
  let image: string;
  beforeAll(async () => {
    stack = await Stack.start();
    image = await stack.pushImage('once', { entrypoint: ['/bin/echo', '{"b": {"latency": {"value": 3}}}'] });
  });
  afterAll(() => stack?.stop());

  const run = (startAfter: unknown, token: string | null = stack.userToken, project = stack.project.slug) =>
    stack.request<RunAccepted & { message: string }>('POST', '/v0/run', { project, branch: 'main', testbed: 'ci', adapter: 'json', start_after: startAfter, job: { image } }, token);
  const cancel = (jobId: string, token = stack.userToken, project = stack.project.slug) => stack.request('POST', `/v0/projects/${project}/jobs/${jobId}/cancel`, {}, token);

  it('a job waits, scheduled, until its start time: the runner does not start it earlier', async () => {
    await stack.startRunner();
    const startAfter = new Date(Date.now() + 4000);
    const accepted = await run(startAfter.toISOString());
    expect(accepted.status).toBe(202);
    expect(accepted.body.status).toBe('scheduled');
    const waiting = await stack.job(accepted.body.job);
    expect(waiting).toMatchObject({ status: 'scheduled', start_after: startAfter.toISOString() });
    expect(waiting.starts_in_seconds).toBeGreaterThan(0);
    expect(waiting.starts_in_seconds).toBeLessThanOrEqual(4);

    const job = await stack.waitForJob(accepted.body.job);
    expect(job.status).toBe('processed');
    expect(Date.parse(job.started!)).toBeGreaterThanOrEqual(startAfter.getTime());
    expect(job.starts_in_seconds).toBeNull();
  });

  it('a scheduled job is canceled before it starts, and its workflow with it', async () => {
    const accepted = (await run(new Date(Date.now() + 3600_000).toISOString())).body;
    // The workflow waits on its durable timer, not on a runner.
    await waitFor('the start timer', async () => {
      const history = await stack.client.workflow.getHandle(accepted.workflow_id).fetchHistory();
      return history.events!.some((e) => e.timerStartedEventAttributes) || undefined;
    });
    expect((await cancel(accepted.job)).status).toBe(202);
    const job = await stack.waitForJob(accepted.job);
    expect(job).toMatchObject({ status: 'canceled', started: null, claimed: null });
    expect(await stack.closedStatus(accepted.workflow_id)).toBe('CANCELLED');
  });

  it('a time already past runs the job now', async () => {
    const accepted = await run(new Date(Date.now() - 60_000).toISOString());
    expect(accepted.body.status).toBe('pending');
    expect((await stack.waitForJob(accepted.body.job)).status).toBe('processed');
  });

  it(`refuses a time more than ${MAX_START_AFTER_DAYS} days ahead, and one that is not RFC 3339, naming the field`, async () => {
    const far = await run(new Date(Date.now() + (MAX_START_AFTER_DAYS + 1) * 86_400_000).toISOString());
    expect(far.status).toBe(400);
    expect(far.body.message).toMatch(/^body\.start_after: must be at most 30 days ahead/);
    const malformed = await run('tomorrow');
    expect(malformed.status).toBe(400);
    expect(malformed.body.message).toMatch(/body\.start_after/);
  });

  it("a free tier's scheduled job holds no permit while it waits: the organization's next job runs now", async () => {
    const tenant = await stack.tenant('free', { plan: 'free' });
    const later = await run(new Date(Date.now() + 3600_000).toISOString(), tenant.token, tenant.project);
    expect(later.body.status).toBe('scheduled');
    const now = await run(undefined, tenant.token, tenant.project);
    expect((await stack.waitForJob(now.body.job)).status).toBe('processed');
    expect((await stack.job(later.body.job)).status).toBe('scheduled');
    expect((await cancel(later.body.job, tenant.token!, tenant.project)).status).toBe(202);
  });
});
