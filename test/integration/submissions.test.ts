import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Knex } from 'knex';
import { buildApp } from '../../api/app';
import type { JobSummary, JobView, ReportCreated, RunAccepted } from '../../common/schemas';
import { createRunner, createSpec, createUser, grantAdmin } from '../../db/seed';
import { freePort } from '../../devenv/wait';
import { RunnerApi } from '../../runner/api-client';
import { isTerminal, JOB_WORKFLOW, jobWorkflowId, runnerTaskQueue, type JobWorkflowInput } from '../../common/contracts';
import { Stack, type Tenant } from '../harness/stack';

type ErrorBody = { error: string; message: string };

describe('submissions: all or nothing, eligible runners, who may cancel, what others see', () => {
  let stack: Stack;
  let unreachable: string;
  beforeAll(async () => {
    // Jobs that must stay pending name a registry nobody listens on: they never reach a runner,
    // their digest lookup is retried. Anonymous submissions may name it too (as the server's own).
    const nobody = `127.0.0.1:${await freePort()}`;
    stack = await Stack.start({ anonymousRegistries: [process.env.BENCHLINE_TEST_REGISTRY!, nobody] });
    await stack.startRunner();
    unreachable = `${nobody}/${stack.id}/app:v1`;
  });
  afterAll(() => stack?.stop());

  const noActiveRunner = (spec: string) =>
    `body.job.spec: no active runner serves spec "${spec}": none that is unlocked, open to this organization and seen in the last ${stack.app.config.runnerActiveSeconds} s`;
  /** What a job's workflow was started with. */
  const startInput = async (workflowId: string): Promise<JobWorkflowInput> => {
    const [start] = (await stack.client.workflow.getHandle(workflowId).fetchHistory()).events!;
    const [payload] = start.workflowExecutionStartedEventAttributes!.input!.payloads!;
    return defaultPayloadConverter.fromPayload<JobWorkflowInput>(payload as Parameters<typeof defaultPayloadConverter.fromPayload>[0]);
  };
  const body = (project: string, job: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ project, branch: 'main', testbed: 'ci', adapter: 'json', job, ...extra });

  /** What an anonymous submission to `slug` could have written: its organization, project, reports and jobs. */
  async function footprint(slug: string) {
    const count = async (q: Knex.QueryBuilder) => Number((await q.count<{ n: string }[]>({ n: '*' }))[0].n);
    return {
      organizations: await count(stack.db('organization').where({ name: `Unclaimed (${slug})` })),
      projects: await count(stack.db('project').where({ slug })),
      reports: await count(stack.db('report').join('project', 'project.id', 'report.project_id').where('project.slug', slug)),
      jobs: await count(stack.db('job').join('project', 'project.id', 'job.project_id').where('project.slug', slug)),
    };
  }
  const nothing = { organizations: 0, projects: 0, reports: 0, jobs: 0 };

  it('an anonymous submission refused for its spec or timeout creates nothing, and the name stays free', async () => {
    const slug = `anon-${stack.id}`;
    const unserved = await createSpec(stack.db, { slug: `unserved-${stack.id}` });
    const refusals: [Record<string, unknown>, string][] = [
      [{ image: unreachable, spec: 'no-such-spec' }, 'body.job.spec: spec "no-such-spec" does not exist'],
      [{ image: unreachable, spec: unserved.slug }, noActiveRunner(unserved.slug)],
      [{ image: unreachable, timeout: 61 }, 'body.job.timeout: the unclaimed tier allows at most 60 seconds, got 61'],
    ];
    for (const [job, message] of refusals) {
      const res = await stack.request<ErrorBody>('POST', '/v0/run', body(slug, job), null);
      expect(res).toEqual({ status: 400, body: { error: 'bad_request', message, details: { field: message.split(':')[0] } } });
      expect(await footprint(slug)).toEqual(nothing);
    }
    // The name was never taken: a valid submission gets it, with the claim token for its organization.
    const accepted = await stack.request<RunAccepted>('POST', '/v0/run', body(slug, { image: unreachable, spec: stack.spec.slug }), null);
    expect(accepted.status).toBe(202);
    expect(accepted.body.claim?.claim_token).toMatch(/^benchline_claim_/);
    expect(await footprint(slug)).toEqual({ organizations: 1, projects: 1, reports: 1, jobs: 1 });
    await stack.request('POST', `/v0/projects/${slug}/jobs/${accepted.body.job}/cancel`, { claim_token: accepted.body.claim!.claim_token }, null);
  });

  it('an anonymous local report to a new name answers the claim token of the organization it creates; a refused one creates nothing', async () => {
    const slug = `anon-local-${stack.id}`;
    const report = (results: string[]) => stack.request<ReportCreated & ErrorBody>('POST', `/v0/projects/${slug}/reports`, { branch: 'main', testbed: 'ci', adapter: 'json', results }, null);
    expect(await report(['not json'])).toMatchObject({ status: 400, body: { error: 'bad_request' } });
    expect(await footprint(slug)).toEqual(nothing);

    const created = await report(['{"b": {"latency": {"value": 1}}}']);
    expect(created.status).toBe(201);
    expect(created.body.claim).toEqual({ organization: expect.stringMatching(/^unclaimed-/), claim_token: expect.stringMatching(/^benchline_claim_/) });
    expect(await footprint(slug)).toEqual({ organizations: 1, projects: 1, reports: 1, jobs: 0 });
    // Only the run that created the organization learns its token.
    const later = await report(['{"b": {"latency": {"value": 2}}}']);
    expect(later.status).toBe(201);
    expect(later.body).not.toHaveProperty('claim');

    // The token claims the organization: the name is not stranded in an organization nobody can claim.
    const claimer = await createUser(stack.db, { slug: `claimer-${stack.id}` });
    const claimed = await stack.request('POST', `/v0/organizations/${created.body.claim!.organization}/claim`, { claim_token: created.body.claim!.claim_token }, claimer.token);
    expect(claimed.status).toBe(200);
    expect(await stack.db('organization').join('project', 'project.organization_id', 'organization.id').where('project.slug', slug).first('claimed')).toEqual({ claimed: true });
  });

  it('an anonymous submission or local report creates a project only under a valid slug', async () => {
    for (const name of ['My Bench', 'UPPER', 'a:b', '.hidden']) {
      const run = await stack.request<ErrorBody>('POST', '/v0/run', body(name, { image: unreachable, spec: stack.spec.slug }), null);
      expect(run).toMatchObject({ status: 400, body: { error: 'bad_request', message: expect.stringMatching(/^body\.project: no project is named .*lowercase letters/) } });
      const local = await stack.request<ErrorBody>('POST', `/v0/projects/${encodeURIComponent(name)}/reports`, { branch: 'main', testbed: 'ci', adapter: 'json', results: ['{"b": {"latency": {"value": 1}}}'] }, null);
      expect(local).toMatchObject({ status: 400, body: { error: 'bad_request', message: expect.stringMatching(/^params\.project: /) } });
      expect(await footprint(name)).toEqual(nothing);
    }
  });

  it('with Temporal unreachable a submission answers 503 and writes nothing; the same idempotency key later runs the job', async () => {
    const image = await stack.pushImage('bmf', { entrypoint: ['/bin/echo', '{"b": {"latency": {"value": 1}}}'] });
    const temporal = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}` }) });
    const broken = await buildApp({ db: stack.db, temporal, config: { ...stack.app.config, workflowStartTimeoutSeconds: 1 }, logger: false });
    await broken.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(broken.server.address() as { port: number }).port}/v0/run`;
    const key = `key-${stack.id}`;
    const anonymous = `anon-down-${stack.id}`;
    try {
      const submit = async (payload: unknown, token: string | null) => {
        const res = await fetch(url, { method: 'POST', body: JSON.stringify(payload), headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } });
        return { status: res.status, body: await res.json() };
      };
      const reportsBefore = await stack.db('report').where({ project_id: stack.project.id }).count<{ n: string }[]>({ n: '*' });
      const down = await submit(body(stack.project.slug, { image }, { idempotency_key: key }), stack.userToken);
      expect(down).toMatchObject({ status: 503, body: { error: 'unavailable' } });
      expect(await stack.db('job').where({ project_id: stack.project.id, idempotency_key: key }).first()).toBeUndefined();
      expect(await stack.db('report').where({ project_id: stack.project.id }).count<{ n: string }[]>({ n: '*' })).toEqual(reportsBefore);
      // An anonymous one leaves no unclaimed organization behind either.
      expect((await submit(body(anonymous, { image, spec: stack.spec.slug }), null)).status).toBe(503);
      expect(await footprint(anonymous)).toEqual(nothing);
    } finally {
      await broken.close();
      await temporal.connection.close();
    }
    const retried = await stack.request<RunAccepted>('POST', '/v0/run', body(stack.project.slug, { image }, { idempotency_key: key }));
    expect(retried.status).toBe(202);
    expect((await stack.waitForJob(retried.body.job)).status).toBe('processed');
  });

  it('two concurrent submissions with one idempotency key make one job', async () => {
    const key = `race-${stack.id}`;
    const [a, b] = await Promise.all([0, 1].map(() => stack.request<RunAccepted>('POST', '/v0/run', body(stack.project.slug, { image: unreachable }, { idempotency_key: key }))));
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(a.body.job).toBe(b.body.job);
    expect(await stack.db('job').where({ project_id: stack.project.id, idempotency_key: key }).count<{ n: string }[]>({ n: '*' })).toEqual([{ n: '1' }]);
    await stack.request('POST', `/v0/projects/${stack.project.slug}/jobs/${a.body.job}/cancel`, {});
    await stack.waitForJob(a.body.job);
  });

  it('two concurrent anonymous submissions with one idempotency key to a new name make one project and one job', async () => {
    const slug = `anon-race-${stack.id}`;
    const key = `race-${stack.id}`;
    const [a, b] = await Promise.all([0, 1].map(() => stack.request<RunAccepted>('POST', '/v0/run', body(slug, { image: unreachable, spec: stack.spec.slug }, { idempotency_key: key }), null)));
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(a.body.job).toBe(b.body.job);
    expect(await footprint(slug)).toEqual({ organizations: 1, projects: 1, reports: 1, jobs: 1 });
    // Only the one that created the organization gets its claim token.
    const claims = [a.body.claim, b.body.claim].filter(Boolean);
    expect(claims).toHaveLength(1);
    await stack.request('POST', `/v0/projects/${slug}/jobs/${a.body.job}/cancel`, { claim_token: claims[0]!.claim_token }, null);
  });

  it('a registry that does not answer within the budget only delays the job: 202, unpinned, resolved by the workflow', async () => {
    // Accepts connections and never answers: the worst a registry outage looks like to the api.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const image = `127.0.0.1:${(silent.address() as AddressInfo).port}/${stack.id}/app:v1`;
      const started = Date.now();
      const accepted = await stack.submit({ image });
      const budget = stack.app.config.imageResolveBudgetMs;
      expect(Date.now() - started).toBeGreaterThanOrEqual(budget);
      expect(Date.now() - started).toBeLessThan(budget + 5000);
      expect(await stack.db('job').where({ id: accepted.job }).first('status', 'image_digest', 'claim_ticket_hash')).toEqual({ status: 'pending', image_digest: null, claim_ticket_hash: null });
      // No ticket in the workflow's input: it resolves the image itself (retried) before dispatching.
      const input = await startInput(accepted.workflow_id);
      expect(input).toMatchObject({ jobId: accepted.job });
      expect(input.firstClaimTicket).toBeUndefined();
      await stack.request('POST', `/v0/projects/${stack.project.slug}/jobs/${accepted.job}/cancel`, {});
    } finally {
      silent.close();
    }
  });

  it('an idempotent repeat starts the workflow of a job that has none (written before submissions started it)', async () => {
    const first = await stack.submit({ image: unreachable });
    const report = await stack.db('report').where({ id: first.report }).first();
    const [copy] = await stack.db('report').insert({ project_id: report.project_id, branch_id: report.branch_id, testbed_id: report.testbed_id, adapter: 'json', settings: '{}' }).returning('id');
    const key = `legacy-${stack.id}`;
    const [legacy] = await stack.db('job')
      .insert({ ...(await stack.db('job').where({ id: first.job }).first(['project_id', 'organization_id', 'spec_id', 'tier', 'priority', 'timeout_seconds', 'config', 'source_ip'])), report_id: copy.id, idempotency_key: key })
      .returning('id');
    const repeat = await stack.request<RunAccepted>('POST', '/v0/run', body(stack.project.slug, { image: unreachable }, { idempotency_key: key }));
    expect(repeat).toMatchObject({ status: 202, body: { job: legacy.id } });
    await stack.waitUntilScheduled(repeat.body.workflow_id, ['resolveImageDigest']);
    for (const job of [first.job, legacy.id]) await stack.request('POST', `/v0/projects/${stack.project.slug}/jobs/${job}/cancel`, {});
  });

  it('a spec served only by a locked runner, or only by another organization’s runner, is refused at submission', async () => {
    const lockedOnly = await createSpec(stack.db, { slug: `locked-only-${stack.id}` });
    const { runner } = await createRunner(stack.db, { slug: `locked-${stack.id}`, specIds: [lockedOnly.id], seen: true });
    await stack.db('runner').where({ id: runner.id }).update({ locked_at: new Date() });
    const theirsOnly = await createSpec(stack.db, { slug: `theirs-only-${stack.id}` });
    const other = await stack.tenant('other', { plan: 'team' });
    const otherOrg = await stack.db('project').where({ slug: other.project }).first('organization_id');
    await createRunner(stack.db, { slug: `theirs-${stack.id}`, specIds: [theirsOnly.id], organizationId: otherOrg.organization_id, seen: true });
    for (const spec of [lockedOnly.slug, theirsOnly.slug]) {
      const res = await stack.request<ErrorBody>('POST', '/v0/run', body(stack.project.slug, { image: unreachable, spec }));
      expect(res.status).toBe(400);
      expect(res.body.message).toBe(noActiveRunner(spec));
    }
    // The owner of the dedicated runner is served by it.
    const own = await stack.submitAs(other, { image: unreachable, spec: theirsOnly.slug });
    expect(own.status).toBe(202);
    await stack.request('POST', `/v0/projects/${other.project}/jobs/${own.body.job}/cancel`, {}, other.token);
  });

  it('a spec whose runners were never seen, or not within the active window, is refused until one checks in', async () => {
    const gone = await createSpec(stack.db, { slug: `gone-${stack.id}` });
    const { runner, token } = await createRunner(stack.db, { slug: `gone-${stack.id}`, specIds: [gone.id] });
    // A testbed of its own: a spec named explicitly becomes its testbed's current one.
    const submit = () => stack.request<ErrorBody & RunAccepted>('POST', '/v0/run', body(stack.project.slug, { image: unreachable, spec: gone.slug }, { testbed: `gone-${stack.id}` }));
    const refusal = noActiveRunner(gone.slug);
    // Created, its daemon never started.
    expect(await submit()).toMatchObject({ status: 400, body: { message: refusal } });
    // Seen once, just longer ago than the window.
    await stack.db('runner').where({ id: runner.id }).update({ last_seen_at: stack.db.raw('now() - make_interval(secs => ?)', [stack.app.config.runnerActiveSeconds + 5]) });
    expect(await submit()).toMatchObject({ status: 400, body: { message: refusal } });
    expect(await stack.db('job').where({ spec_id: gone.id }).count('* as n').first()).toEqual({ n: '0' });
    // Its daemon checks in: the spec takes jobs again.
    await new RunnerApi(stack.apiUrl, runner.slug, token).register({ version: 'test', executor: 'sandbox', host: {} });
    const accepted = await submit();
    expect(accepted.status).toBe(202);
    await stack.request('POST', `/v0/projects/${stack.project.slug}/jobs/${accepted.body.job}/cancel`, {});
  });

  it('an organization whose dedicated runner is long gone has its jobs sent to the shared queue', async () => {
    const tenant = await stack.tenant('absent', { plan: 'team' });
    const { organization_id: orgId } = await stack.db('project').where({ slug: tenant.project }).first('organization_id');
    const { runner } = await createRunner(stack.db, { slug: `absent-${stack.id}`, specIds: [stack.spec.id], organizationId: orgId });
    const accepted = await stack.submitAs(tenant, { image: unreachable });
    expect(accepted.status).toBe(202);
    const input = await startInput(accepted.body.workflow_id);
    expect(input.spec.taskQueue).toBe(runnerTaskQueue(stack.spec.slug));
    await stack.request('POST', `/v0/projects/${tenant.project}/jobs/${accepted.body.job}/cancel`, {}, tenant.token);
    // Once it checks in, the organization's jobs go to its own queue again.
    await stack.db('runner').where({ id: runner.id }).update({ last_seen_at: stack.db.fn.now() });
    const own = await stack.submitAs(tenant, { image: unreachable });
    const { slug: organization } = await stack.db('organization').where({ id: orgId }).first('slug');
    expect((await startInput(own.body.workflow_id)).spec.taskQueue).toBe(runnerTaskQueue(stack.spec.slug, organization));
    await stack.request('POST', `/v0/projects/${tenant.project}/jobs/${own.body.job}/cancel`, {}, tenant.token);
  });

  it('a locked dedicated runner gets none of its organization’s jobs: they go to the shared queue', async () => {
    const tenant = await stack.tenant('pool', { plan: 'team' });
    const { organization_id: orgId } = await stack.db('project').where({ slug: tenant.project }).first('organization_id');
    const { runner, token } = await createRunner(stack.db, { slug: `own-locked-${stack.id}`, specIds: [stack.spec.id], organizationId: orgId, seen: true });
    await stack.db('runner').where({ id: runner.id }).update({ locked_at: new Date() });
    const image = await stack.pushImage('pooled', { entrypoint: ['/bin/echo', '{"b": {"latency": {"value": 2}}}'] });
    const accepted = await stack.submitAs(tenant, { image });
    expect(accepted.status).toBe(202);
    expect((await stack.waitForJob(accepted.body.job)).runner).not.toBe(runner.slug);
    const queues = (await stack.client.workflow.getHandle(accepted.body.workflow_id).fetchHistory()).events!
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runJob')
      .map((e) => e.activityTaskScheduledEventAttributes!.taskQueue!.name);
    expect(queues).toEqual([runnerTaskQueue(stack.spec.slug)]);
    // And its claims are refused outright.
    const claim = await new RunnerApi(stack.apiUrl, runner.slug, token).claim(accepted.body.job, await stack.dispatched(accepted.body.job)).catch((err) => err);
    expect(claim.status).toBe(403);
  });

  describe('cancel at any stage', () => {
    let member: { token: string; userId: string };
    /** Another plain member of the organization: not the submitter, not a leader. */
    let otherMember: string;
    /** A server admin who is no member of the organization. */
    let admin: string;
    let outsider: Tenant;
    beforeAll(async () => {
      const created = await createUser(stack.db, { slug: `member-${stack.id}` });
      await stack.db('organization_member').insert({ organization_id: stack.project.organization_id, user_id: created.user.id, role: 'member' });
      member = { token: created.token, userId: created.user.id };
      const other = await createUser(stack.db, { slug: `member2-${stack.id}` });
      await stack.db('organization_member').insert({ organization_id: stack.project.organization_id, user_id: other.user.id, role: 'member' });
      otherMember = other.token;
      const server = await createUser(stack.db, { slug: `admin-${stack.id}` });
      await grantAdmin(stack.db, server.user.id);
      admin = server.token;
      outsider = await stack.tenant('outsider', { plan: 'team' });
    });

    const pendingJob = async (token: string) => (await stack.submitAs({ project: stack.project.slug, token }, { image: unreachable })).body;
    const cancel = (project: string, jobId: string, token: string | null, claimToken?: string) =>
      stack.request<ErrorBody>('POST', `/v0/projects/${project}/jobs/${jobId}/cancel`, claimToken ? { claim_token: claimToken } : {}, token);
    const canceled = async (jobId: string) => expect((await stack.waitForJob(jobId)).status).toBe('canceled');

    /** Neither another member (403) nor an outsider or anonymous caller (404: the project is private, so to them it does not exist) may cancel. */
    const refusedToOthers = async (jobId: string) => {
      expect((await cancel(stack.project.slug, jobId, otherMember)).status).toBe(403);
      expect((await cancel(stack.project.slug, jobId, outsider.token!)).status).toBe(404);
      expect((await cancel(stack.project.slug, jobId, null)).status).toBe(404);
    };

    it('by its submitter, not by another member or an outsider', async () => {
      const job = await pendingJob(member.token);
      await refusedToOthers(job.job);
      expect((await stack.job(job.job)).status).toBe('pending');
      expect((await cancel(stack.project.slug, job.job, member.token)).status).toBe(202);
      await canceled(job.job);
    });

    it('by a leader of its organization and by a server admin who is not a member', async () => {
      const first = await pendingJob(member.token);
      expect((await cancel(stack.project.slug, first.job, stack.userToken)).status).toBe(202);
      await canceled(first.job);
      const second = await pendingJob(member.token);
      expect((await cancel(stack.project.slug, second.job, admin)).status).toBe(202);
      await canceled(second.job);
    });

    it('running, by its submitter and by a server admin who is not a member; others get the answers they get for a pending job', async () => {
      // A benchmark that outlives the test: it ends only by being canceled.
      const image = await stack.pushImage('cancel-running', { entrypoint: ['/bin/sleep', '613'] });
      const runningJob = async () => {
        const accepted = (await stack.submitAs({ project: stack.project.slug, token: member.token }, { image })).body;
        // A job that ended instead (an image or runner failure) stops the wait at once, with its error.
        expect(await stack.waitForJob(accepted.job, (j) => j.status === 'running' || isTerminal(j.status))).toMatchObject({ status: 'running' });
        return accepted.job;
      };
      const first = await runningJob();
      await refusedToOthers(first);
      expect((await stack.job(first)).status).toBe('running');
      expect((await cancel(stack.project.slug, first, member.token)).status).toBe(202);
      await canceled(first);
      // The stack's one runner is free again once the first job's cancel has ended it.
      const second = await runningJob();
      expect((await cancel(stack.project.slug, second, admin)).status).toBe(202);
      await canceled(second);
    });

    it('by an anonymous submitter with the claim token; a public project’s job is 403 to others', async () => {
      const slug = `anon-cancel-${stack.id}`;
      const accepted = (await stack.request<RunAccepted>('POST', '/v0/run', body(slug, { image: unreachable, spec: stack.spec.slug }), null)).body;
      for (const [token, claimToken] of [[null, undefined], [null, 'benchline_claim_wrong'], [outsider.token, undefined]] as const) {
        expect((await cancel(slug, accepted.job, token, claimToken)).status).toBe(403);
      }
      expect((await cancel(slug, accepted.job, null, accepted.claim!.claim_token)).status).toBe(202);
      await canceled(accepted.job);
    });
  });

  it('lists and the job view redact the same fields, for outsiders and members alike', async () => {
    const tenant = await stack.tenant('public', { plan: 'team' });
    const accepted = await stack.submitAs(tenant, { image: `${stack.registry}/${stack.id}/private-repo:none` });
    await stack.waitForJob(accepted.body.job);
    for (const token of [null, tenant.token]) {
      const [list, view] = await Promise.all([
        stack.request<JobSummary[]>('GET', `/v0/projects/${tenant.project}/jobs`, undefined, token),
        stack.request<JobView>('GET', `/v0/projects/${tenant.project}/jobs/${accepted.body.job}`, undefined, token),
      ]);
      const item = list.body.find((j) => j.uuid === accepted.body.job)!;
      expect(item).toEqual(Object.fromEntries(Object.keys(item).map((k) => [k, view.body[k as keyof JobView]])));
      if (token === null) {
        expect(`${JSON.stringify(list.body)}${JSON.stringify(view.body)}`).not.toContain('private-repo');
        expect(item.error).toBe("the job's error is shown to members of its project's organization");
      } else {
        expect(item.error).toContain('private-repo');
      }
    }
  });

  it('an anonymous submission gets one answer for a claimed project, public or private, and for a UUID that names nothing', async () => {
    const pub = await stack.tenant('claimed-pub', { plan: 'team' });
    const priv = await stack.tenant('claimed-priv', { plan: 'team' });
    await stack.db('project').where({ slug: priv.project }).update({ visibility: 'private' });
    const answers = await Promise.all(
      [pub.project, priv.project, randomUUID()].map(async (project) => {
        const res = await stack.request<ErrorBody>('POST', '/v0/run', body(project, { image: unreachable }), null);
        return { status: res.status, body: { ...res.body, message: res.body.message.replace(project, '<project>') } };
      }),
    );
    expect(answers[0]).toEqual({ status: 401, body: { error: 'unauthorized', message: 'project "<project>" does not take anonymous submissions: an API token is required' } });
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
  });

  it('a committed submission’s workflow finds its row with its first activity, waiting for the commit instead of polling', async () => {
    const submitted = await Promise.all(Array.from({ length: 10 }, () => stack.submit({ image: unreachable })));
    for (const s of submitted) {
      await stack.waitUntilScheduled(s.workflow_id, ['resolveImageDigest']);
      const events = (await stack.client.workflow.getHandle(s.workflow_id).fetchHistory()).events!;
      // A second resolveImageDigest would mean the first found no row and the workflow slept to look again.
      expect(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'resolveImageDigest')).toHaveLength(1);
      expect(events.some((e) => e.timerStartedEventAttributes)).toBe(false);
    }
    await Promise.all(submitted.map((s) => stack.request('POST', `/v0/projects/${stack.project.slug}/jobs/${s.job}/cancel`, {})));
  });

  it('a workflow whose submission never committed ends quietly after its window, writing nothing', async () => {
    const jobId = randomUUID();
    const input: JobWorkflowInput = { jobId, spec: { slug: stack.spec.slug, taskQueue: runnerTaskQueue(stack.spec.slug) }, priorityKey: 1, timeoutSeconds: 10, commitWindowSeconds: 2 };
    const started = Date.now();
    const outcome = await stack.client.workflow.execute<(i: JobWorkflowInput) => Promise<unknown>>(JOB_WORKFLOW, { workflowId: jobWorkflowId(jobId), taskQueue: stack.app.config.controlTaskQueue, args: [input] });
    expect(outcome).toEqual({ status: 'not_committed' });
    expect(Date.now() - started).toBeLessThan(15000);
    expect(await stack.db('job').where({ id: jobId }).first()).toBeUndefined();
    // Only local resolveImageDigest looks (markers), each finding no row: nothing was scheduled.
    const events = (await stack.client.workflow.getHandle(jobWorkflowId(jobId)).fetchHistory()).events!;
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes)).toEqual([]);
    expect(events.filter((e) => e.markerRecordedEventAttributes).length).toBeGreaterThan(1);
  });
});
