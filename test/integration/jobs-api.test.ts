import { createAdmin, createRunner, createUser, grantAdmin } from '../../db/seed';
import { RunnerApi } from '../../runner/api-client';
import { Stack } from '../harness/stack';

describe('job lists and views', () => {
  let stack: Stack;
  let image: string;
  let runner: RunnerApi;
  const jobs: string[] = [];

  beforeAll(async () => {
    stack = await Stack.start();
    const { token } = await createRunner(stack.db, { slug: `idle-${stack.id}`, specIds: [stack.spec.id], seen: true });
    runner = new RunnerApi(stack.apiUrl, `idle-${stack.id}`, token);
    image = await stack.pushImage('noop', { entrypoint: ['/bin/true'] });
    for (let i = 0; i < 3; i++) jobs.push((await stack.submit({ image, env: { SECRET: 'hunter2' } })).job);
    await stack.db('project').where({ id: stack.project.id }).update({ visibility: 'public' });
  });
  afterAll(() => stack?.stop());

  const list = async (query: string, token: string | null = stack.userToken) => {
    const res = await fetch(`${stack.apiUrl}/v0/projects/${stack.project.slug}/jobs?${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, total: res.headers.get('x-total-count'), body: (await res.json()) as { uuid: string; status: string }[] };
  };

  it('pages through a project’s jobs newest first, with X-Total-Count', async () => {
    const first = await list('per_page=2&page=1');
    const second = await list('per_page=2&page=2');
    expect(first.total).toBe('3');
    expect([...first.body, ...second.body].map((j) => j.uuid)).toEqual([...jobs].reverse());
  });

  it('filters by status and time', async () => {
    expect((await list('status=processed')).total).toBe('0');
    expect((await list('status=pending&status=failed')).total).toBe('3');
    expect((await list(`since=${new Date(Date.now() + 60000).toISOString()}`)).total).toBe('0');
    expect((await list('status=bogus')).status).toBe(400);
  });

  it('public views of a public project never show the spec, config or env', async () => {
    const anonymous = await stack.request<Record<string, unknown>>('GET', `/v0/projects/${stack.project.slug}/jobs/${jobs[0]}`, undefined, null);
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).not.toHaveProperty('config');
    expect(anonymous.body).not.toHaveProperty('spec');
    expect(JSON.stringify(anonymous.body)).not.toContain('hunter2');
    const member = await stack.request<Record<string, unknown>>('GET', `/v0/projects/${stack.project.slug}/jobs/${jobs[0]}`);
    expect(member.body.config).toMatchObject({ env: { SECRET: 'hunter2' } });
    expect((await list('', null)).body.length).toBe(3);
  });

  it('shows a spec’s waiting jobs in dispatch order, the next one first, to server admins only', async () => {
    const admin = await createAdmin(stack.db, `queue-admin-${stack.id}`);
    const queue = async () =>
      (await stack.request<{ uuid: string; queue_position: number | null }[]>('GET', `/v0/specs/${stack.spec.slug}/queue`, undefined, admin)).body.map((j) => [j.uuid, j.queue_position]);
    expect(await queue()).toEqual([[jobs[0], 0], [jobs[1], 1], [jobs[2], 2]]);
    // A better priority (a higher tier's job) goes ahead of earlier submissions.
    const { priority } = await stack.db('job').where({ id: jobs[2] }).first('priority');
    await stack.db('job').where({ id: jobs[2] }).update({ priority: priority - 1 });
    try {
      expect(await queue()).toEqual([[jobs[2], 0], [jobs[0], 1], [jobs[1], 2]]);
    } finally {
      await stack.db('job').where({ id: jobs[2] }).update({ priority });
    }
    expect((await stack.request('GET', `/v0/specs/${stack.spec.slug}/queue`)).status).toBe(403);
    expect((await stack.request('GET', '/v0/specs/no-such-spec/queue', undefined, admin)).status).toBe(404);
  });

  it('lists active jobs with their runners for server admins only', async () => {
    await stack.waitForJob(jobs[0], (j) => j.image_digest !== null);
    await runner.claim(jobs[0], await stack.dispatched(jobs[0]));
    const { user, token: adminToken } = await createUser(stack.db, { slug: `admin-${stack.id}` });
    await grantAdmin(stack.db, user.id);
    expect((await stack.request('GET', '/v0/jobs/active')).status).toBe(403);
    const active = await stack.request<{ uuid: string; runner: string; status: string }[]>('GET', '/v0/jobs/active?per_page=255', undefined, adminToken);
    expect(active.body).toContainEqual(expect.objectContaining({ uuid: jobs[0], runner: `idle-${stack.id}`, status: 'claimed' }));
  });

  it('serves Prometheus metrics to loopback scrapers only (no metrics token configured)', async () => {
    const local = await fetch(`${stack.apiUrl}/metrics`);
    expect(local.status).toBe(200);
    const text = await local.text();
    expect(text).toMatch(/benchline_jobs_submitted_total\{tier="paid"\} 3/);
    expect(text).toContain('benchline_api_request_duration_seconds_bucket');
    const remote = await fetch(`${stack.apiUrl}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(remote.status).toBe(403);
  });
});
