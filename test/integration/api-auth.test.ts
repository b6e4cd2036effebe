import { randomUUID } from 'node:crypto';
import { generateToken } from '../../common/tokens';
import { createRunner } from '../../db/seed';
import { InvalidTransitionError } from '../../common/contracts';
import { transitionJob } from '../../db/jobs';
import { Stack } from '../harness/stack';

describe('api authorisation and validation', () => {
  let stack: Stack;
  let runnerA: { slug: string; token: string };
  let runnerB: { slug: string; token: string };
  const jobId = randomUUID();

  beforeAll(async () => {
    stack = await Stack.start();
    for (const [slug, set] of [[`ra-${stack.id}`, (r: typeof runnerA) => (runnerA = r)], [`rb-${stack.id}`, (r: typeof runnerB) => (runnerB = r)]] as const) {
      const { token } = await createRunner(stack.db, { slug, specIds: [stack.spec.id], seen: true });
      set({ slug, token });
    }
  });
  afterAll(() => stack?.stop());

  const claim = (runner: string, token: string | null) => stack.request('POST', `/v0/runners/${runner}/jobs/${jobId}/claim`, undefined, token);

  it('refuses a submission without a token', async () => {
    // An image anonymous submissions may name, so that the project alone decides the answer.
    const res = await stack.request('POST', '/v0/run', { project: stack.project.slug, branch: 'main', testbed: 'ci', job: { image: `${stack.registry}/x/y` } }, null);
    expect(res).toEqual({ status: 401, body: { error: 'unauthorized', message: expect.stringContaining('API token is required') } });
  });

  it('refuses a revoked or unknown user token', async () => {
    const res = await stack.request('GET', `/v0/projects/${stack.project.slug}/jobs/${jobId}`, undefined, generateToken('user'));
    expect(res.status).toBe(401);
  });

  it('answers invalid bodies with a 400 naming the field', async () => {
    const res = await stack.request<{ error: string; message: string }>('POST', '/v0/run', {
      project: stack.project.slug, branch: 'main', testbed: 'ci', job: { image: 'x/y', timeout: 'soon' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('bad_request');
    expect(res.body.message).toContain('body.job.timeout');

    const badImage = await stack.request<{ message: string }>('POST', '/v0/run', { project: stack.project.slug, branch: 'main', testbed: 'ci', job: { image: 'Bad Image' } });
    expect(badImage.status).toBe(400);
    expect(badImage.body.message).toMatch(/^body\.job\.image: /);

    const missing = await stack.request<{ message: string }>('POST', '/v0/run', { project: stack.project.slug, branch: 'main', testbed: 'ci' });
    expect(missing.body.message).toContain('body.job');
  });

  it('refuses runner calls with no token, a malformed token, or another runner’s token', async () => {
    expect((await claim(runnerA.slug, null)).status).toBe(401);
    const malformed = await claim(runnerA.slug, 'benchline_runner_not-hex');
    expect(malformed).toEqual({ status: 401, body: { error: 'unauthorized', message: 'malformed runner token' } });
    expect((await claim(runnerA.slug, generateToken('runner'))).body).toMatchObject({ message: 'unknown runner token' });
    const other = await claim(runnerA.slug, runnerB.token);
    expect(other).toEqual({ status: 403, body: { error: 'forbidden', message: 'this token belongs to another runner' } });
    // The right token gets past auth: the job simply does not exist.
    expect((await claim(runnerA.slug, runnerA.token)).status).toBe(404);
  });

  it('refuses a locked runner', async () => {
    await stack.db('runner').where({ slug: runnerB.slug }).update({ locked_at: new Date() });
    expect(await claim(runnerB.slug, runnerB.token)).toEqual({ status: 403, body: { error: 'runner_unavailable', message: `runner ${runnerB.slug} is locked` } });
  });

  it('refuses an archived runner', async () => {
    await stack.db('runner').where({ slug: runnerA.slug }).update({ archived_at: new Date() });
    expect(await claim(runnerA.slug, runnerA.token)).toEqual({ status: 403, body: { error: 'runner_unavailable', message: `runner ${runnerA.slug} is archived` } });
  });

  it('the persisting code refuses transitions outside the state machine', async () => {
    // The runners above are locked and archived now; a submission needs an eligible one.
    await createRunner(stack.db, { slug: `rc-${stack.id}`, specIds: [stack.spec.id], seen: true });
    const accepted = await stack.request<{ job: string }>('POST', '/v0/run', {
      project: stack.project.slug, branch: 'main', testbed: 'ci', adapter: 'json', job: { image: `${stack.registry}/none/x:1` },
    });
    // No orchestrator polls this stack's jobs to completion before we act: the row is pending or failed.
    const id = accepted.body.job;
    await stack.db('job').where({ id }).update({ status: 'pending' });
    await expect(transitionJob(stack.db, id, 'running')).rejects.toThrow(new InvalidTransitionError(id, 'pending', 'running'));
    await expect(transitionJob(stack.db, id, 'processed')).rejects.toThrow('cannot move from pending to processed');
    await transitionJob(stack.db, id, 'canceled');
    await expect(transitionJob(stack.db, id, 'claimed')).rejects.toThrow('cannot move from canceled to claimed');
    expect((await stack.db('job').where({ id }).first()).status).toBe('canceled');
  });
});
