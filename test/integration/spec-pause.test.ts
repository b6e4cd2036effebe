import type { JobView, RunAccepted } from '../../common/schemas';
import type { SpecView } from '../../common/schemas/specs';
import { createUser, grantAdmin } from '../../db/seed';
import { waitFor } from '../../devenv/wait';
import { Stack } from '../harness/stack';

/**
 * An operator pauses dispatch of a spec (hardware maintenance), on a real runner: its jobs wait
 * holding no runner and say why, the pause survives an api restart (it is in Postgres), and resume
 * releases them in their order, each run once.
 */
describe('spec pause', () => {
  let stack: Stack;
  let admin: string;
  let image: string;

  beforeAll(async () => {
    stack = await Stack.start({ permitCheckIntervalSeconds: 1 });
    const created = await createUser(stack.db, { slug: `admin-${stack.id}` });
    await grantAdmin(stack.db, created.user.id);
    admin = created.token;
    image = await stack.pushImage('ok', { entrypoint: ['/bin/echo', '{"b": {"latency": {"value": 1}}}'] });
    await stack.startRunner();
  });
  afterAll(() => stack?.stop());

  const specPath = (action: string) => `/v0/specs/${stack.spec.slug}/${action}`;
  const bounced = (job: RunAccepted) =>
    waitFor(`job ${job.job}'s claim to be refused`, async () => {
      const events = (await stack.client.workflow.getHandle(job.workflow_id).fetchHistory()).events!;
      return events.some((e) => e.activityTaskFailedEventAttributes) || undefined;
    });

  it('holds the queued jobs of a paused spec, saying why, and releases them in order on resume; nothing lost', async () => {
    expect((await stack.request('POST', specPath('pause'), { reason: 'for maintenance' })).status).toBe(403);
    const paused = await stack.request<SpecView>('POST', specPath('pause'), { reason: 'for maintenance' }, admin);
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ pause_reason: 'for maintenance' });
    expect(paused.body.paused).not.toBeNull();

    const jobs: RunAccepted[] = [];
    for (let i = 0; i < 3; i++) jobs.push(await stack.submit({ image }));
    // The runner took each from the queue and its claim was refused: the jobs wait in their workflows.
    for (const job of jobs) await bounced(job);
    for (const job of jobs) expect(await stack.job(job.job)).toMatchObject({ status: 'pending', runner: null, waiting: 'spec paused: for maintenance' });

    // The pause is stored, not held by a process: a restarted api still refuses the claims.
    await stack.stopApi();
    await stack.startApi();
    const late = await stack.submit({ image });
    await bounced(late);
    jobs.push(late);

    const resumed = await stack.request<SpecView>('POST', specPath('resume'), {}, admin);
    expect([resumed.status, resumed.body.paused, resumed.body.pause_reason]).toEqual([200, null, null]);
    const done: JobView[] = await Promise.all(jobs.map((j) => stack.waitForJob(j.job)));
    expect(done.map((j) => [j.status, j.attempt, j.waiting])).toEqual(jobs.map(() => ['processed', 1, null]));
    const started = done.map((j) => new Date(j.started!).getTime());
    expect(started).toEqual([...started].sort((a, b) => a - b));
  });
});
