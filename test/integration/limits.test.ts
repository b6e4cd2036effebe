import { createRunner, createSpec } from '../../db/seed';
import { resolveSpec } from '../../db/specs';
import { Stack, type Tenant } from '../harness/stack';

describe('limits', () => {
  let stack: Stack;
  let image: string;
  beforeAll(async () => {
    stack = await Stack.start({ queueLimitSeconds: 2 });
    // A registered runner that never polls: submissions are accepted, nothing runs them.
    await createRunner(stack.db, { slug: `idle-${stack.id}`, specIds: [stack.spec.id], seen: true });
    image = await stack.pushImage('noop', { entrypoint: ['/bin/true'] });
  });
  afterAll(() => stack?.stop());

  describe('job timeout per tier', () => {
    const cases: [string, { plan: 'team' | 'free'; claimed?: boolean }, number, number | undefined][] = [
      ['paid', { plan: 'team' }, 86400, undefined],
      ['free', { plan: 'free' }, 300, 301],
      ['unclaimed', { plan: 'free', claimed: false }, 60, 61],
    ];
    it.each(cases)('%s tier: its longest timeout is accepted, one second more is refused', async (name, org, limit, over) => {
      const tenant: Tenant = await stack.tenant(`t-${name}`, org);
      expect((await stack.submitAs(tenant, { image, timeout: limit })).status).toBe(202);
      if (over === undefined) return;
      const refused = await stack.submitAs(tenant, { image, timeout: over });
      expect(refused.status).toBe(400);
      expect((refused.body as unknown as { message: string }).message).toBe(
        `body.job.timeout: the ${name} tier allows at most ${limit} seconds, got ${over}`,
      );
    });
  });

  it('a job no runner takes within the queue limit fails with "no runner available"', async () => {
    const accepted = await stack.submit({ image });
    const job = await stack.waitForJob(accepted.job);
    expect(job.status).toBe('failed');
    expect(job.error).toBe(`no runner available for spec ${stack.spec.slug} within 2s`);
  });

  it('refuses runs on an archived spec or a spec no runner serves, naming it', async () => {
    const archived = await createSpec(stack.db, { slug: `archived-${stack.id}` });
    await createRunner(stack.db, { slug: `arch-runner-${stack.id}`, specIds: [archived.id], seen: true });
    await stack.db('spec').where({ id: archived.id }).update({ archived_at: new Date() });
    const unserved = await createSpec(stack.db, { slug: `unserved-${stack.id}` });
    for (const [spec, why] of [[archived.slug, 'is archived'], [unserved.slug, 'no active runner serves']] as const) {
      const res = await stack.request<{ message: string }>('POST', '/v0/run', { project: stack.project.slug, branch: 'main', testbed: 'ci', job: { image, spec } });
      expect(res.status).toBe(400);
      expect(res.body.message).toContain(why);
      expect(res.body.message).toContain(spec);
    }
  });

  it('resolves the spec: explicit, else the testbed’s, else the default, else a clear error', async () => {
    const explicit = await createSpec(stack.db, { slug: `explicit-${stack.id}` });
    const fallback = await createSpec(stack.db, { slug: `fallback-${stack.id}` });
    for (const s of [explicit, fallback]) await createRunner(stack.db, { slug: `r-${s.slug}`, specIds: [s.id], seen: true });
    // In a transaction rolled back at the end: other test files may own the server's default spec.
    await stack.db.transaction(async (trx) => {
      await trx('spec').update({ is_default: false });
      await expect(resolveSpec(trx, undefined, { spec_id: null })).rejects.toThrow('no spec given, the testbed has none and no default spec is configured');
      await trx('spec').where({ id: fallback.id }).update({ is_default: true });
      expect((await resolveSpec(trx, undefined, { spec_id: null })).slug).toBe(fallback.slug);
      expect((await resolveSpec(trx, undefined, { spec_id: stack.spec.id })).slug).toBe(stack.spec.slug);
      expect((await resolveSpec(trx, explicit.slug, { spec_id: stack.spec.id })).slug).toBe(explicit.slug);
      await expect(resolveSpec(trx, 'no-such-spec', { spec_id: null })).rejects.toThrow('spec "no-such-spec" does not exist');
      await trx.rollback();
    }).catch((err) => {
      if (err) throw err;
    });
  });

  it('an explicit spec becomes the testbed’s current spec', async () => {
    const explicit = await createSpec(stack.db, { slug: `sticky-${stack.id}` });
    await createRunner(stack.db, { slug: `r-sticky-${stack.id}`, specIds: [explicit.id], seen: true });
    const accepted = await stack.submit({ image, spec: explicit.slug });
    await stack.waitForJob(accepted.job, (j) => j.spec === explicit.slug);
    expect((await stack.db('testbed').where({ project_id: stack.project.id, slug: 'ci' }).first()).spec_id).toBe(explicit.id);
  });

  /** Submits three times as `who` on a stack with the given limits; returns the statuses and the last Retry-After. */
  async function burst(limits: { perToken: number; perIp: number }, who: (s: Stack) => Promise<Tenant>, ip?: string) {
    const limited = await Stack.start({ rateLimits: limits });
    try {
      await createRunner(limited.db, { slug: `idle-${limited.id}`, specIds: [limited.spec.id], seen: true });
      const tenant = await who(limited);
      const statuses = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 3; i++) {
        const res = await limited.submitAs(tenant, { image }, ip);
        statuses.push(res.status);
        retryAfter = res.headers.get('retry-after');
      }
      const elsewhere = ip ? (await limited.submitAs(tenant, { image }, '192.0.2.77')).status : undefined;
      return { statuses, retryAfter: Number(retryAfter), elsewhere };
    } finally {
      await limited.stop();
    }
  }

  it('rate-limits submissions per token, with Retry-After', async () => {
    const { statuses, retryAfter } = await burst({ perToken: 2, perIp: 10000 }, async (s) => ({ project: s.project.slug, token: s.userToken }));
    expect(statuses).toEqual([202, 202, 429]);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('rate-limits anonymous submissions per source IP; another IP is unaffected', async () => {
    const { statuses, elsewhere } = await burst({ perToken: 10000, perIp: 2 }, (s) => s.tenant('anon', { plan: 'free', claimed: false }), '198.51.100.7');
    expect(statuses).toEqual([202, 202, 429]);
    expect(elsewhere).toBe(202);
  });

  it('counts a token holder against its token only: neither the shared IP nor another token', async () => {
    // A CI fleet behind one NAT: one source IP, a token per pipeline.
    const { statuses } = await burst({ perToken: 10000, perIp: 2 }, async (s) => ({ project: s.project.slug, token: s.userToken }), '198.51.100.8');
    expect(statuses).toEqual([202, 202, 202]);

    const limited = await Stack.start({ rateLimits: { perToken: 2, perIp: 10000 } });
    try {
      await createRunner(limited.db, { slug: `idle-${limited.id}`, specIds: [limited.spec.id], seen: true });
      const first = { project: limited.project.slug, token: limited.userToken };
      const second = await limited.tenant('second', { plan: 'team' });
      const ip = '198.51.100.9';
      const firstStatuses = [];
      for (let i = 0; i < 3; i++) firstStatuses.push((await limited.submitAs(first, { image }, ip)).status);
      expect(firstStatuses).toEqual([202, 202, 429]);
      expect((await limited.submitAs(second, { image }, ip)).status).toBe(202);
      // An invalid token is refused as such, and is no way around the limit of a valid one.
      expect((await limited.submitAs({ ...first, token: `${first.token}x` }, { image }, ip)).status).toBe(401);
    } finally {
      await limited.stop();
    }
  });

  it('refuses images from registries outside the allow-list, naming the registry', async () => {
    const guarded = await Stack.start({ allowedRegistries: [stack.registry] });
    try {
      await createRunner(guarded.db, { slug: `idle-${guarded.id}`, specIds: [guarded.spec.id], seen: true });
      const elsewhere = await guarded.request<{ message: string }>('POST', '/v0/run', { project: guarded.project.slug, branch: 'main', testbed: 'ci', job: { image: '169.254.169.254/latest/meta-data:x' } });
      expect(elsewhere.status).toBe(400);
      expect(elsewhere.body.message).toBe(`body.job.image: registry 169.254.169.254 is not one this server pulls from (${stack.registry})`);
      expect((await guarded.submitAs({ project: guarded.project.slug, token: guarded.userToken }, { image })).status).toBe(202);
    } finally {
      await guarded.stop();
    }
  });

  it('anonymous submissions may only name the server’s own registry, refused before anything is written', async () => {
    const project = `anon-registry-${stack.id}`;
    const refused = await stack.submitAs({ project, token: null }, { image: 'registry.example.com/team/bench:v1' });
    expect(refused.status).toBe(400);
    expect((refused.body as unknown as { message: string }).message).toBe(
      `body.job.image: anonymous submissions may only use images from ${stack.registry}; submit with an API token to use registry registry.example.com`,
    );
    expect(await stack.db('project').where({ slug: project }).first()).toBeUndefined();
    expect((await stack.submitAs({ project, token: null }, { image, spec: stack.spec.slug })).status).toBe(202);
  });
});
