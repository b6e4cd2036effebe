import type { JobView } from '../../common/schemas';
import { WINDOW_SH, maxOverlap, type Window } from '../harness/benchmarks';
import { Stack, type Tenant } from '../harness/stack';

/**
 * The free and unclaimed tiers' one-at-a-time rule (db/permits.ts): the permit is taken inside the
 * submission's transaction, waiting jobs hold no runner and are granted in arrival order, and a
 * job that dies gives its permit back, on real runners.
 */
describe('tier permits', () => {
  let stack: Stack;
  let windowImage: string;

  beforeAll(async () => {
    stack = await Stack.start({ permitCheckIntervalSeconds: 1 });
    windowImage = await stack.pushImage('window', { entrypoint: ['/window.sh'], cmd: ['0'], files: { '/window.sh': WINDOW_SH } });
    await stack.startRunner();
    await stack.startRunner();
  });
  afterAll(() => stack?.stop());

  const permits = (jobIds: string[]) => stack.db('tier_permit').whereIn('job_id', jobIds).orderBy('seq').select('job_id', 'held');
  const submit = async (tenant: Tenant, seconds: number) => {
    const res = await stack.submitAs(tenant, { image: windowImage, cmd: [String(seconds)] });
    expect(res.status).toBe(202);
    return res.body;
  };
  const cancel = (tenant: Tenant, jobId: string) => stack.request('POST', `/v0/projects/${tenant.project}/jobs/${jobId}/cancel`, {}, tenant.token);

  async function window(job: JobView): Promise<Window> {
    const results = (await stack.report(job.report)).results;
    const at = (m: string) => results.find((r) => r.measure === m)!.value;
    return { start: at('start'), end: at('end') };
  }

  it('admits one of many concurrent submissions of a free organization; the rest run one at a time, in arrival order', async () => {
    const free = await stack.tenant('free-burst', { plan: 'free' });
    const ids = (await Promise.all(Array.from({ length: 6 }, () => submit(free, 2)))).map((a) => a.job);
    // Arrival order is the order the submissions took their place at the gate. The first holder
    // may have finished already (its row is gone): it ran first.
    const queued = await permits(ids);
    expect(queued.filter((p) => p.held).length).toBeLessThanOrEqual(1);
    expect(queued.length).toBeGreaterThanOrEqual(ids.length - 1);
    const arrival = [...ids.filter((id) => !queued.some((p) => p.job_id === id)), ...queued.map((p) => p.job_id)];

    const jobs = await Promise.all(ids.map((id) => stack.waitForJob(id)));
    expect(jobs.map((j) => j.status)).toEqual(ids.map(() => 'processed'));
    const windows = new Map(await Promise.all(jobs.map(async (j, i) => [ids[i], await window(j)] as const)));
    expect(maxOverlap([...windows.values()])).toBe(1);
    expect([...ids].sort((a, b) => windows.get(a)!.start - windows.get(b)!.start)).toEqual(arrival);
    expect(await permits(ids)).toEqual([]);
  });

  it('a waiting job holds no runner: the other tiers’ jobs run beside the free holder', async () => {
    const free = await stack.tenant('free-beside', { plan: 'free' });
    const holder = await submit(free, 600);
    await stack.waitForJob(holder.job, (j) => j.status === 'running');
    const waiting = await submit(free, 0);
    // The second runner is free: a paid job takes it while the free one still waits.
    const paid = await stack.submit({ image: windowImage, cmd: ['0'] });
    expect((await stack.waitForJob(paid.job)).status).toBe('processed');
    expect(await stack.job(waiting.job)).toMatchObject({ status: 'pending', waiting: 'tier permit: the free tier runs at most 1 at once' });
    expect(await permits([holder.job, waiting.job])).toEqual([
      { job_id: holder.job, held: true },
      { job_id: waiting.job, held: false },
    ]);
    expect((await cancel(free, holder.job)).status).toBe(202);
    expect((await stack.waitForJob(waiting.job)).status).toBe('processed');
  });

  it('a canceled waiting job leaves the queue, and a canceled holder hands its permit on', async () => {
    const free = await stack.tenant('free-cancel', { plan: 'free' });
    const holder = await submit(free, 600);
    await stack.waitForJob(holder.job, (j) => j.status === 'running');
    const [first, second] = [await submit(free, 0), await submit(free, 0)];
    expect((await cancel(free, first.job)).status).toBe(202);
    expect(await stack.waitForJob(first.job)).toMatchObject({ status: 'canceled', runner: null });
    expect(await permits([first.job])).toEqual([]);

    expect((await cancel(free, holder.job)).status).toBe(202);
    expect((await stack.waitForJob(holder.job)).status).toBe('canceled');
    expect((await stack.waitForJob(second.job)).status).toBe('processed');
    expect(await permits([holder.job, first.job, second.job])).toEqual([]);
  });

  it('a job that fails before its run gives back the permit its submission took', async () => {
    const free = await stack.tenant('free-early', { plan: 'free' });
    // A tag that does not exist fails the job before any runner is involved.
    const failing = (await stack.submitAs(free, { image: `${stack.registry}/${stack.id}/missing:none` })).body;
    expect((await stack.waitForJob(failing.job)).status).toBe('failed');
    expect(await permits([failing.job])).toEqual([]);
    // Admitted by its submission, not handed the permit later.
    const next = await submit(free, 0);
    expect(await permits([next.job])).toEqual([{ job_id: next.job, held: true }]);
    expect((await stack.waitForJob(next.job)).status).toBe('processed');
  });

  it('takes back the permits of jobs whose workflow was terminated, holder or waiting', async () => {
    const anon = await stack.tenant('anon-term', { plan: 'free', claimed: false });
    const fromIp = async (seconds: number) => (await stack.submitAs(anon, { image: windowImage, cmd: [String(seconds)] }, '10.9.9.9')).body;
    const holder = await fromIp(600);
    await stack.waitForJob(holder.job, (j) => j.status === 'running');
    const [doomed, next] = [await fromIp(0), await fromIp(0)];
    expect(await permits([doomed.job, next.job])).toEqual([
      { job_id: doomed.job, held: false },
      { job_id: next.job, held: false },
    ]);
    // An operator terminates both in the Temporal UI: no workflow code runs to give anything back.
    await stack.client.workflow.getHandle(doomed.workflow_id).terminate('operator');
    await stack.client.workflow.getHandle(holder.workflow_id).terminate('operator');
    expect((await stack.waitForJob(next.job)).status).toBe('processed');
    expect(await permits([holder.job, doomed.job, next.job])).toEqual([]);
  });
});
