import { hashToken } from '../../common/tokens';
import { getOrCreateBranch } from '../../db/projects';
import { createOrganization, createUser, grantAdmin } from '../../db/seed';
import { issueClaimToken } from '../../db/organizations';
import { registrationBody } from '../harness/fleet';
import { Stack } from '../harness/stack';

// Response bodies are checked field by field; their exact types are the schemas' business.
type Body = Record<string, any>;

/**
 * The resource API: organizations, members, tokens, projects, branches, testbeds, specs and runners,
 * with their pagination and access rules. One stack; each test creates what it needs under names
 * unique to the stack, because every test file of the run shares one database.
 */
describe('resource API', () => {
  let stack: Stack;
  let leader: string;
  let member: string;
  let outsider: string;
  let admin: string;
  let memberSlug: string;
  let org: string;
  let previousDefault: string | undefined;

  const req = (method: string, path: string, token: string | null, body?: unknown) => stack.request<Body>(method, path, body, token);

  /** A list request, with the X-Total-Count header the harness's request() does not return. */
  async function list(path: string, token: string | null): Promise<{ status: number; total: number; rows: Body[] }> {
    const response = await fetch(`${stack.apiUrl}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: response.status, total: Number(response.headers.get('x-total-count')), rows: (await response.json()) as Body[] };
  }

  beforeAll(async () => {
    stack = await Stack.start();
    leader = stack.userToken;
    org = `org-${stack.id}`;
    memberSlug = `member-${stack.id}`;
    member = (await createUser(stack.db, { slug: memberSlug })).token;
    outsider = (await createUser(stack.db, { slug: `outsider-${stack.id}` })).token;
    const created = await createUser(stack.db, { slug: `admin-${stack.id}` });
    await grantAdmin(stack.db, created.user.id);
    admin = created.token;
    previousDefault = (await stack.db('spec').where({ is_default: true }).first('id'))?.id;
    expect((await req('POST', `/v0/organizations/${org}/members`, leader, { user: memberSlug })).status).toBe(201);
  });

  afterAll(async () => {
    // The database is shared with the run's other files: put the server default back as it was.
    if (stack) {
      await stack.db.transaction(async (trx) => {
        await trx('spec').where({ is_default: true }).update({ is_default: false });
        if (previousDefault) await trx('spec').where({ id: previousDefault }).update({ is_default: true });
      });
      await stack.stop();
    }
  });

  it('answers bad bodies and queries with a 400 naming the field', async () => {
    const cases: Array<[string, string, string, unknown, string]> = [
      ['POST', '/v0/organizations', leader, {}, 'body.name'],
      ['POST', '/v0/organizations', leader, { name: 'x', slug: 'Not A Slug' }, 'body.slug'],
      ['POST', `/v0/organizations/${org}/members`, leader, { user: memberSlug, role: 'boss' }, 'body.role'],
      ['POST', '/v0/tokens', leader, { name: 't', ttl_seconds: 1 }, 'body.ttl_seconds'],
      ['POST', `/v0/organizations/${org}/projects`, leader, { name: 'p', visibility: 'secret' }, 'body.visibility'],
      ['POST', '/v0/specs', admin, { name: 's', cpus: 0, memory_mib: 1, disk_mib: 1 }, 'body.cpus'],
      ['POST', '/v0/runners', admin, { name: 'r', specs: 'all' }, 'body.specs'],
      ['POST', '/v0/runners', admin, { name: 'r', specs: ['no-such-spec'] }, 'body.specs.0'],
      ['POST', '/v0/organizations', leader, { name: '!!!' }, 'body.slug'],
      ['GET', '/v0/runners?per_page=256', admin, undefined, 'querystring.per_page'],
      ['GET', '/v0/specs?archived=maybe', leader, undefined, 'querystring.archived'],
    ];
    for (const [method, path, token, body, field] of cases) {
      const res = await req(method, path, token, body);
      expect({ path, status: res.status, error: res.body.error }).toEqual({ path, status: 400, error: 'bad_request' });
      expect(res.body.message).toContain(field);
    }
  });

  describe('organizations and members', () => {
    it('creates an organization led by its creator, on the free plan, with a slug from its name', async () => {
      const res = await req('POST', '/v0/organizations', outsider, { name: `Acme Labs ${stack.id}` });
      expect(res).toMatchObject({ status: 201, body: { slug: `acme-labs-${stack.id}`, plan: 'free', claimed: true, role: 'leader' } });
      expect((await req('POST', '/v0/organizations', leader, { name: 'again', slug: `acme-labs-${stack.id}` })).status).toBe(409);
    });

    it('lists only my organizations, paginated, with X-Total-Count', async () => {
      const { token } = await createUser(stack.db, { slug: `lister-${stack.id}` });
      for (const n of [3, 1, 2]) expect((await req('POST', '/v0/organizations', token, { name: `list ${stack.id} ${n}` })).status).toBe(201);
      const first = await list('/v0/organizations?per_page=2', token);
      const second = await list('/v0/organizations?per_page=2&page=2', token);
      expect([first.total, second.total]).toEqual([3, 3]);
      expect([...first.rows, ...second.rows].map((o) => o.slug)).toEqual([1, 2, 3].map((n) => `list-${stack.id}-${n}`));
    });

    it('lets only server admins set a plan', async () => {
      const refused = await req('POST', '/v0/organizations', outsider, { name: `rich ${stack.id}`, plan: 'enterprise' });
      expect(refused.status).toBe(403);
      expect(refused.body.message).toContain('body.plan');
      expect((await req('PATCH', `/v0/organizations/${org}`, leader, { plan: 'enterprise' })).status).toBe(403);
      expect((await req('PATCH', `/v0/organizations/${org}`, leader, { name: 'Renamed' })).body).toMatchObject({ name: 'Renamed', plan: 'team' });
      // Admins act as leaders of any organization, without being members.
      expect((await req('PATCH', `/v0/organizations/${org}`, admin, { plan: 'enterprise' })).body).toMatchObject({ plan: 'enterprise', role: null });
    });

    it('hides an organization from non-members and keeps leader actions from members', async () => {
      expect((await req('GET', `/v0/organizations/${org}`, outsider)).status).toBe(404);
      expect((await req('GET', `/v0/organizations/${org}`, null)).status).toBe(401);
      expect((await req('GET', `/v0/organizations/${org}`, member)).body).toMatchObject({ slug: org, role: 'member' });
      expect((await req('PATCH', `/v0/organizations/${org}`, member, { name: 'mine now' })).status).toBe(403);
      expect((await req('POST', `/v0/organizations/${org}/members`, member, { user: `outsider-${stack.id}` })).status).toBe(403);
      expect((await req('PATCH', `/v0/organizations/${org}/members/user-${stack.id}`, member, { role: 'member' })).status).toBe(403);
      expect((await req('DELETE', `/v0/organizations/${org}/members/user-${stack.id}`, member)).status).toBe(403);
    });

    it('adds, lists, promotes and removes members, never the last leader', async () => {
      const team = (await req('POST', '/v0/organizations', outsider, { name: `team ${stack.id}` })).body.slug;
      const { user, token } = await createUser(stack.db, { slug: `joiner-${stack.id}` });
      expect((await req('POST', `/v0/organizations/${team}/members`, outsider, { user: user.slug })).body).toMatchObject({ slug: user.slug, role: 'member' });
      expect((await req('POST', `/v0/organizations/${team}/members`, outsider, { user: user.slug })).status).toBe(409);
      expect((await req('POST', `/v0/organizations/${team}/members`, outsider, { user: 'nobody-at-all' })).status).toBe(404);
      const members = await list(`/v0/organizations/${team}/members`, token);
      expect(members.total).toBe(2);
      expect(members.rows.map((m) => [m.slug, m.role])).toEqual([[user.slug, 'member'], [`outsider-${stack.id}`, 'leader']]);

      // The only leader can neither step down nor leave.
      const lastLeader = await req('PATCH', `/v0/organizations/${team}/members/outsider-${stack.id}`, outsider, { role: 'member' });
      expect(lastLeader).toMatchObject({ status: 409, body: { message: expect.stringContaining('last leader') } });
      expect((await req('DELETE', `/v0/organizations/${team}/members/outsider-${stack.id}`, outsider)).status).toBe(409);
      // With a second leader, the first may leave.
      expect((await req('PATCH', `/v0/organizations/${team}/members/${user.id}`, outsider, { role: 'leader' })).body.role).toBe('leader');
      expect((await req('DELETE', `/v0/organizations/${team}/members/outsider-${stack.id}`, outsider)).status).toBe(204);
      expect((await req('GET', `/v0/organizations/${team}`, outsider)).status).toBe(404);
      expect((await list(`/v0/organizations/${team}/members`, token)).total).toBe(1);
    });

    it('lets a user claim an unclaimed organization once', async () => {
      const anonymous = await createOrganization(stack.db, { slug: `anon-${stack.id}`, plan: 'free', claimed: false });
      const claimToken = await issueClaimToken(stack.db, anonymous.id);
      const { token: claimer } = await createUser(stack.db, { slug: `claimer-${stack.id}` });
      expect((await req('POST', `/v0/organizations/${anonymous.id}/claim`, null, { claim_token: claimToken })).status).toBe(401);
      // Knowing the organization is not enough: the claim token is.
      expect((await req('POST', `/v0/organizations/${anonymous.id}/claim`, outsider, { claim_token: `benchline_claim_${'0'.repeat(64)}` })).status).toBe(403);
      expect((await req('POST', `/v0/organizations/${anonymous.id}/claim`, outsider, {})).status).toBe(400);
      expect((await req('POST', `/v0/organizations/${anonymous.id}/claim`, claimer, { claim_token: claimToken })).body).toMatchObject({ slug: anonymous.slug, claimed: true, role: 'leader' });
      expect((await req('POST', `/v0/organizations/${anonymous.slug}/claim`, outsider, { claim_token: claimToken })).status).toBe(409);
      expect((await req('POST', `/v0/organizations/${org}/claim`, outsider, { claim_token: claimToken })).status).toBe(409);
      expect((await req('GET', `/v0/organizations/${anonymous.slug}`, claimer)).body.role).toBe('leader');
    });
  });

  describe('API tokens', () => {
    it('shows a new token once, lists it without secrets, and refuses it once revoked', async () => {
      const created = await req('POST', '/v0/tokens', member, { name: 'ci', ttl_seconds: 3600 });
      expect(created.status).toBe(201);
      const { token, uuid } = created.body;
      expect(token).toMatch(/^benchline_user_[0-9a-f]{64}$/);
      expect(created.body.expires).not.toBeNull();
      expect((await stack.db('api_token').where({ id: uuid }).first()).token_hash).toBe(hashToken(token));

      const listed = await list('/v0/tokens', token);
      expect(listed.status).toBe(200);
      expect(listed.total).toBe(2); // the seeded token and this one
      // Listed with the new token itself: it shows as used, to the minute.
      expect(listed.rows[0]).toEqual({ uuid, name: 'ci', created: expect.any(String), expires: expect.any(String), revoked: null, last_used: expect.any(String) });
      expect(JSON.stringify(listed.rows)).not.toMatch(/benchline_user_|token_hash/);

      // Another user's token does not exist for you.
      expect((await req('POST', `/v0/tokens/${uuid}/revoke`, outsider)).status).toBe(404);
      const revokedNow = await req('POST', `/v0/tokens/${uuid}/revoke`, member);
      expect(revokedNow.status).toBe(200);
      expect(revokedNow.body.revoked).not.toBeNull();
      // Revoking again changes nothing.
      expect((await req('POST', `/v0/tokens/${uuid}/revoke`, member)).body).toEqual(revokedNow.body);
      expect((await req('GET', '/v0/tokens', token)).status).toBe(401);
      const revoked = await list('/v0/tokens?revoked=true', member);
      expect(revoked.rows.map((t) => t.uuid)).toEqual([uuid]);
      expect(revoked.rows[0].revoked).not.toBeNull();
    });
  });

  describe('projects, branches and testbeds', () => {
    let pub: string;
    let priv: string;

    beforeAll(async () => {
      pub = `pub-${stack.id}`;
      priv = `priv-${stack.id}`;
      expect((await req('POST', `/v0/organizations/${org}/projects`, leader, { name: pub, visibility: 'public' })).status).toBe(201);
      expect((await req('POST', `/v0/organizations/${org}/projects`, leader, { name: priv })).body).toMatchObject({ slug: priv, visibility: 'private', organization: org });
    });

    it('lets only leaders create and change projects', async () => {
      expect((await req('POST', `/v0/organizations/${org}/projects`, member, { name: `nope-${stack.id}` })).status).toBe(403);
      expect((await req('POST', `/v0/organizations/${org}/projects`, outsider, { name: `nope-${stack.id}` })).status).toBe(404);
      expect((await req('PATCH', `/v0/projects/${pub}`, member, { name: 'x' })).status).toBe(403);
      expect((await req('PATCH', `/v0/projects/${priv}`, outsider, { name: 'x' })).status).toBe(404);
      expect((await req('PATCH', `/v0/projects/${pub}`, leader, { name: 'Public bench' })).body).toMatchObject({ slug: pub, name: 'Public bench' });
      expect((await req('POST', `/v0/organizations/${org}/projects`, leader, { name: pub })).status).toBe(409);
    });

    it('shows public projects to anyone and private ones to members only', async () => {
      const anonymous = await list(`/v0/organizations/${org}/projects`, null);
      expect(anonymous.rows.map((p) => p.slug)).toEqual([pub]);
      expect(anonymous.total).toBe(1);
      const asMember = await list(`/v0/organizations/${org}/projects?per_page=1`, member);
      expect(asMember.total).toBe(3); // the stack's project too
      expect(asMember.rows).toHaveLength(1);
      expect((await req('GET', `/v0/projects/${pub}`, null)).status).toBe(200);
      expect((await req('GET', `/v0/projects/${priv}`, null)).status).toBe(404);
      expect((await req('GET', `/v0/projects/${priv}`, outsider)).status).toBe(404);
      expect((await req('GET', `/v0/projects/${priv}/testbeds`, outsider)).status).toBe(404);
      expect((await req('GET', `/v0/projects/${priv}`, member)).body.slug).toBe(priv);
    });

    it('creates, lists, views and renames branches', async () => {
      const created = await req('POST', `/v0/projects/${pub}/branches`, member, { name: 'Feature X' });
      expect(created).toMatchObject({ status: 201, body: { slug: 'feature-x', project: pub } });
      expect((await req('POST', `/v0/projects/${pub}/branches`, member, { name: 'feature-x' })).status).toBe(409);
      expect((await req('POST', `/v0/projects/${pub}/branches`, outsider, { name: 'y' })).status).toBe(403);
      await req('POST', `/v0/projects/${pub}/branches`, member, { name: 'main' });
      const branches = await list(`/v0/projects/${pub}/branches`, null);
      expect(branches.rows.map((b) => b.slug)).toEqual(['feature-x', 'main']);
      expect(branches.total).toBe(2);
      expect((await req('GET', `/v0/projects/${pub}/branches/${created.body.uuid}`, null)).body.slug).toBe('feature-x');
      expect((await req('PATCH', `/v0/projects/${pub}/branches/feature-x`, member, { name: 'Feature X!', slug: 'feature-x2' })).body).toMatchObject({ slug: 'feature-x2', name: 'Feature X!' });
      expect((await req('GET', `/v0/projects/${pub}/branches/feature-x`, member)).status).toBe(404);
    });

    it("keeps a testbed's spec, a private field, from non-members; sets and clears it", async () => {
      const created = await req('POST', `/v0/projects/${pub}/testbeds`, member, { name: 'bare metal', spec: stack.spec.slug });
      expect(created).toMatchObject({ status: 201, body: { slug: 'bare-metal', spec: stack.spec.slug } });
      const publicView = await req('GET', `/v0/projects/${pub}/testbeds/bare-metal`, null);
      expect(publicView.status).toBe(200);
      expect(publicView.body).not.toHaveProperty('spec');
      expect((await list(`/v0/projects/${pub}/testbeds`, outsider)).rows[0]).not.toHaveProperty('spec');
      expect((await req('GET', `/v0/projects/${pub}/testbeds/bare-metal`, member)).body.spec).toBe(stack.spec.slug);

      expect((await req('PATCH', `/v0/projects/${pub}/testbeds/bare-metal`, member, { spec: null })).body.spec).toBeNull();
      const unknown = await req('PATCH', `/v0/projects/${pub}/testbeds/bare-metal`, member, { spec: 'no-such-spec' });
      expect(unknown).toMatchObject({ status: 400, body: { message: 'body.spec: spec "no-such-spec" does not exist' } });
      const archived = (await req('POST', '/v0/specs', admin, { name: `old ${stack.id}`, cpus: 1, memory_mib: 1, disk_mib: 1 })).body.slug;
      await req('PATCH', `/v0/specs/${archived}`, admin, { archived: true });
      expect((await req('PATCH', `/v0/projects/${pub}/testbeds/bare-metal`, member, { spec: archived })).body.message).toContain('is archived');
    });
  });

  describe('specs', () => {
    it('lets only server admins create and change specs, and anyone signed in read them', async () => {
      const body = { name: `Small ${stack.id}`, cpus: 2, memory_mib: 2048, disk_mib: 10240 };
      expect((await req('POST', '/v0/specs', leader, body)).status).toBe(403);
      const created = await req('POST', '/v0/specs', admin, body);
      expect(created).toMatchObject({ status: 201, body: { slug: `small-${stack.id}`, architecture: 'x86_64', network: false, default: false, archived: null } });
      expect((await req('PATCH', `/v0/specs/${created.body.slug}`, member, { cpus: 4 })).status).toBe(403);
      expect((await req('PATCH', `/v0/specs/${created.body.uuid}`, admin, { cpus: 4 })).body.cpus).toBe(4);
      expect((await req('GET', `/v0/specs/${created.body.slug}`, outsider)).body.cpus).toBe(4);
      expect((await req('GET', `/v0/specs/${created.body.slug}`, null)).status).toBe(401);
      expect((await req('POST', '/v0/specs', admin, body)).status).toBe(409);
    });

    it('keeps exactly one default, moved atomically', async () => {
      const specs: string[] = [];
      for (const n of [1, 2, 3]) {
        const res = await req('POST', '/v0/specs', admin, { name: `default ${stack.id} ${n}`, cpus: 1, memory_mib: 1, disk_mib: 1, default: n === 1 });
        specs.push(res.body.slug);
      }
      const defaults = async () => (await stack.db('spec').where({ is_default: true }).select('slug')).map((s) => s.slug);
      expect(await defaults()).toEqual([specs[0]]);
      expect((await req('PATCH', `/v0/specs/${specs[1]}`, admin, { default: true })).body.default).toBe(true);
      expect(await defaults()).toEqual([specs[1]]);
      // Racing moves: whichever commits last wins, and there is never more than one.
      const moves = await Promise.all([0, 1, 2, 0, 1, 2].map((i) => req('PATCH', `/v0/specs/${specs[i]}`, admin, { default: true })));
      expect(moves.map((m) => m.status)).toEqual([200, 200, 200, 200, 200, 200]);
      expect(await defaults()).toHaveLength(1);

      const current = (await defaults())[0];
      expect((await req('PATCH', `/v0/specs/${current}`, admin, { default: false })).body.message).toContain('body.default');
      expect((await req('PATCH', `/v0/specs/${current}`, admin, { archived: true })).status).toBe(409);
      const other = specs.find((s) => s !== current)!;
      expect((await req('PATCH', `/v0/specs/${other}`, admin, { archived: true })).body.archived).not.toBeNull();
      expect((await req('PATCH', `/v0/specs/${other}`, admin, { default: true })).status).toBe(409);
      const active = await list(`/v0/specs?archived=false&per_page=${255}`, member);
      expect(active.rows.map((s) => s.slug)).toContain(current);
      expect(active.rows.map((s) => s.slug)).not.toContain(other);
      expect(active.rows.every((s) => s.archived === null)).toBe(true);
    });
  });

  describe('runners', () => {
    // Every call as the same daemon instance: a later one renews the lease the first took.
    const daemon = registrationBody({ version: '1.2.3', host: { cpus: 8 } });
    const register = (slug: string, token: string) => req('POST', `/v0/runners/${slug}/register`, token, daemon);

    it('lets only server admins manage runners', async () => {
      expect((await req('POST', '/v0/runners', leader, { name: 'mine' })).status).toBe(403);
      expect((await req('GET', '/v0/runners', member)).status).toBe(403);
    });

    it('creates a runner with its token once, then rotates it: the old token stops working', async () => {
      const created = await req('POST', '/v0/runners', admin, { name: `Rack ${stack.id} A`, specs: [stack.spec.slug], organization: org });
      expect(created).toMatchObject({
        status: 201,
        body: { slug: `rack-${stack.id}-a`, specs: [stack.spec.slug], organization: org, locked: null, archived: null, last_seen: null, current_job: null },
      });
      const { slug, token } = created.body;
      expect(token).toMatch(/^benchline_runner_[0-9a-f]{64}$/);
      expect((await stack.db('runner').where({ slug }).first()).token_hash).toBe(hashToken(token));

      expect((await register(slug, token)).status).toBe(200);
      expect((await req('GET', `/v0/runners/${slug}`, admin)).body).toMatchObject({ version: '1.2.3', executor: 'sandbox', host: { cpus: 8 }, last_seen: expect.any(String) });

      const rotated = await req('POST', `/v0/runners/${slug}/token`, admin);
      expect(rotated.status).toBe(201);
      expect(rotated.body.token).not.toBe(token);
      expect(await register(slug, token)).toMatchObject({ status: 401, body: { message: 'unknown runner token' } });
      expect((await register(slug, rotated.body.token)).status).toBe(200);
    });

    it('locks, unlocks and archives a runner; filters the list by those states', async () => {
      const { slug, token } = (await req('POST', '/v0/runners', admin, { name: `Rack ${stack.id} B`, specs: [stack.spec.slug] })).body;
      expect((await req('PATCH', `/v0/runners/${slug}`, admin, { locked: true })).body.locked).not.toBeNull();
      expect((await register(slug, token)).body.message).toBe(`runner ${slug} is locked`);
      expect((await req('PATCH', `/v0/runners/${slug}`, admin, { locked: false, name: 'renamed' })).body).toMatchObject({ locked: null, name: 'renamed' });
      expect((await register(slug, token)).status).toBe(200);

      expect((await req('PATCH', `/v0/runners/${slug}`, admin, { archived: true })).body.archived).not.toBeNull();
      expect(await register(slug, token)).toMatchObject({ status: 403, body: { message: `runner ${slug} is archived` } });

      const archived = await list('/v0/runners?archived=true&per_page=255', admin);
      expect(archived.rows.map((r) => r.slug)).toContain(slug);
      expect(archived.total).toBe(archived.rows.length);
      const active = await list('/v0/runners?archived=false&locked=false&per_page=255', admin);
      expect(active.rows.map((r) => r.slug)).not.toContain(slug);
      expect(active.rows.every((r) => r.archived === null && r.locked === null)).toBe(true);
      const page = await list('/v0/runners?per_page=1', admin);
      expect(page.rows).toHaveLength(1);
      expect(page.total).toBeGreaterThanOrEqual(2); // the two above, plus other files' (they share the database)
    });

    it('sets served specs and shows the job a runner holds', async () => {
      const { slug, uuid } = (await req('POST', '/v0/runners', admin, { name: `Rack ${stack.id} C` })).body;
      const second = (await req('POST', '/v0/specs', admin, { name: `served ${stack.id}`, cpus: 1, memory_mib: 1, disk_mib: 1 })).body.slug;
      const set = await req('PUT', `/v0/runners/${slug}/specs`, admin, { specs: [second, stack.spec.id] });
      expect(set.body.specs).toEqual([second, stack.spec.slug].sort());
      expect((await req('PUT', `/v0/runners/${slug}/specs`, admin, { specs: ['nope'] })).body.message).toContain('body.specs.0');

      const project = stack.project;
      const branch = await getOrCreateBranch(stack.db, project.id, 'main');
      const testbed = await stack.db('testbed').where({ project_id: project.id, slug: 'ci' }).first();
      const [report] = await stack.db('report').insert({ project_id: project.id, branch_id: branch.id, testbed_id: testbed.id, adapter: 'json' }).returning('id');
      const [job] = await stack.db('job')
        .insert({
          report_id: report.id, project_id: project.id, organization_id: project.organization_id, spec_id: stack.spec.id, status: 'running',
          tier: 'paid', priority: 1, timeout_seconds: 60, config: { image: 'x/y' }, source_ip: '127.0.0.1', runner_id: uuid, attempt: 1,
        })
        .returning('id');
      expect((await req('GET', `/v0/runners/${uuid}`, admin)).body.current_job).toEqual({ uuid: job.id, project: project.slug, status: 'running' });
      await stack.db('job').where({ id: job.id }).update({ status: 'completed' });
      expect((await req('GET', `/v0/runners/${slug}`, admin)).body.current_job).toBeNull();
    });
  });

  it('documents every resource route in the OpenAPI document', async () => {
    const paths = Object.keys((await req('GET', '/v0/openapi.json', null)).body.paths);
    for (const path of [
      '/v0/organizations', '/v0/organizations/{organization}/claim', '/v0/organizations/{organization}/members/{user}', '/v0/tokens/{uuid}', '/v0/tokens/{uuid}/revoke',
      '/v0/organizations/{organization}/projects', '/v0/projects/{project}/testbeds/{testbed}', '/v0/specs/{spec}', '/v0/runners/{runner}/token',
    ]) {
      expect(paths).toContain(path);
    }
  });
});
