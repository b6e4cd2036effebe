import { createRunner } from '../../db/seed';
import { WINDOW_SH, maxOverlap, type Window } from '../harness/benchmarks';
import { Stack, type Tenant } from '../harness/stack';

/** Priority, first-come-first-served and the tiers' concurrency limits, on real runners. */
describe('scheduling', () => {
  let stack: Stack;
  let windowImage: string;

  beforeAll(async () => {
    stack = await Stack.start();
    windowImage = await stack.pushImage('window', { entrypoint: ['/window.sh'], cmd: ['0'], files: { '/window.sh': WINDOW_SH } });
  });
  afterAll(() => stack?.stop());

  async function windowsOf(jobIds: string[]): Promise<Window[]> {
    return Promise.all(
      jobIds.map(async (id) => {
        const job = await stack.waitForJob(id);
        expect(job.status).toBe('processed');
        const results = (await stack.report(job.report)).results;
        const at = (m: string) => results.find((r) => r.measure === m)!.value;
        return { start: at('start'), end: at('end') };
      }),
    );
  }

  it('one runner takes queued jobs by priority (paid, free, unclaimed), then in submission order', async () => {
    // The spec must have a runner for submissions to be accepted; this one never polls.
    await createRunner(stack.db, { slug: `idle-${stack.id}`, specIds: [stack.spec.id], seen: true });
    const tenants: Record<string, Tenant> = {
      paid: { project: stack.project.slug, token: stack.userToken },
      free1: await stack.tenant('free1', { plan: 'free' }),
      free2: await stack.tenant('free2', { plan: 'free' }),
      unclaimed1: await stack.tenant('anon1', { plan: 'free', claimed: false }),
    };
    // Interleaved so that submission order and priority order disagree.
    const plan: [string, string, string | undefined][] = [
      ['u-a', 'unclaimed1', '10.0.0.1'], ['f1-a', 'free1', undefined], ['p-a', 'paid', undefined],
      ['u-b', 'unclaimed1', '10.0.0.2'], ['f2-a', 'free2', undefined], ['p-b', 'paid', undefined],
    ];
    const submitted: { label: string; job: string }[] = [];
    for (const [label, tenant, ip] of plan) {
      const res = await stack.submitAs(tenants[tenant], { image: windowImage }, ip);
      expect(res.status).toBe(202);
      submitted.push({ label, job: res.body.job });
      // Submission order must be unambiguous to the server too: wait until this one is queued.
      await stack.waitUntilScheduled(res.body.workflow_id);
    }
    // u-a waits behind p-a, p-b (priority 1) and f1-a, f2-a (priority 3); u-b (same priority, later) is behind it.
    expect((await stack.job(submitted[0].job)).queue_position).toBe(4);

    await stack.startRunner();
    const jobs = await Promise.all(submitted.map(async (s) => ({ ...s, ...(await stack.waitForJob(s.job)) })));
    const order = jobs.sort((a, b) => Date.parse(a.started!) - Date.parse(b.started!)).map((j) => j.label);
    expect(order).toEqual(['p-a', 'p-b', 'f1-a', 'f2-a', 'u-a', 'u-b']);
    expect(jobs.map((j) => j.priority).sort()).toEqual([1, 1, 3, 3, 5, 5]);
  });

  describe('with two idle runners', () => {
    beforeAll(async () => {
      await stack.startRunner();
      await stack.startRunner();
    });

    it('runs a free organization’s three jobs one at a time, and all complete', async () => {
      const free = await stack.tenant('free3', { plan: 'free' });
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push((await stack.submitAs(free, { image: windowImage, cmd: ['1'] })).body.job);
      const windows = await windowsOf(ids);
      expect(maxOverlap(windows)).toBe(1);
    });

    it('runs two unclaimed submissions from one IP one at a time, from two IPs at once', async () => {
      const anon = await stack.tenant('anon2', { plan: 'free', claimed: false });
      const sameIp = [];
      for (let i = 0; i < 2; i++) sameIp.push((await stack.submitAs(anon, { image: windowImage, cmd: ['1'] }, '10.1.1.1')).body.job);
      expect(maxOverlap(await windowsOf(sameIp))).toBe(1);

      const twoIps = [];
      for (const ip of ['10.2.2.1', '10.2.2.2']) twoIps.push((await stack.submitAs(anon, { image: windowImage, cmd: ['3'] }, ip)).body.job);
      expect(await stack.db('job').whereIn('id', twoIps).orderBy('source_ip').pluck('source_ip')).toEqual(['10.2.2.1', '10.2.2.2']);
      expect(maxOverlap(await windowsOf(twoIps))).toBe(2);
    });
  });
});

describe('anonymous submissions', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start();
    await createRunner(stack.db, { slug: `idle-${stack.id}`, specIds: [stack.spec.id], seen: true });
  });
  afterAll(() => stack?.stop());

  it('create an unclaimed project whose claim token, shown once, lets a user claim it', async () => {
    const slug = `anon-new-${stack.id}`;
    const image = await stack.pushImage('noop', { entrypoint: ['/bin/true'] });
    const first = await stack.submitAs({ project: slug, token: null }, { image, spec: stack.spec.slug });
    expect(first.status).toBe(202);
    expect(first.body.claim).toEqual({ organization: expect.stringMatching(/^unclaimed-/), claim_token: expect.stringMatching(/^benchline_claim_[0-9a-f]{64}$/) });
    const again = await stack.submitAs({ project: slug, token: null }, { image, spec: stack.spec.slug });
    expect(again.body.claim).toBeUndefined();
    // An invalid anonymous submission leaves nothing behind.
    const refused = await stack.submitAs({ project: `anon-refused-${stack.id}`, token: null }, { image, timeout: 61 });
    expect(refused.status).toBe(400);
    expect(await stack.db('project').where({ slug: `anon-refused-${stack.id}` }).first()).toBeUndefined();

    const { organization, claim_token } = first.body.claim!;
    const claimed = await stack.request<{ claimed: boolean; role: string }>('POST', `/v0/organizations/${organization}/claim`, { claim_token });
    expect(claimed).toEqual({ status: 200, body: expect.objectContaining({ claimed: true, role: 'leader' }) });
    // Claimed: anonymous submissions to it now need a token.
    expect((await stack.submitAs({ project: slug, token: null }, { image })).status).toBe(401);
  });
});
