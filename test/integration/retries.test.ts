import { CLAIM_TICKET_HEADER, type AttemptView, type JobView } from '../../common/schemas';
import type { PipelineView } from '../../common/schemas/pipelines';
import type { RunJobInput } from '../../common/contracts';
import { waitFor } from '../../devenv/wait';
import { failingToBoot } from '../harness/executors';
import { Stack, type TestRunner } from '../harness/stack';

/** Retry policies against the real services: attempts stored and shown, backoff kept, benchmark failures retried only when asked. */
describe('retry policies', () => {
  let stack: Stack;
  let ok: string;
  let failing: string;

  beforeAll(async () => {
    stack = await Stack.start();
    [ok, failing] = await Promise.all([
      stack.pushImage('ok', { entrypoint: ['/bin/echo', '{"b": {"latency": {"value": 1}}}'] }),
      stack.pushImage('exit3', { entrypoint: ['/bin/sh', '-c', 'echo "boom" >&2; exit 3'] }),
    ]);
  });
  afterAll(() => stack?.stop());

  const run = (job: Record<string, unknown>) => stack.request<{ job: string; message: string; details: { field: string }[] }>('POST', '/v0/run', {
    project: stack.project.slug, branch: 'main', testbed: 'ci', adapter: 'json', job,
  });
  const ms = (t: string | null) => Date.parse(t!);

  it('refuses a bad policy with a 400 naming the field, on a run and on a pipeline job, writing nothing', async () => {
    const before = await stack.db('job').count<{ count: string }[]>({ count: '*' });
    const cases: [Record<string, unknown>, string][] = [
      [{ max_attempts: 0 }, 'body.job.retry.max_attempts'],
      [{ max_attempts: 11 }, 'body.job.retry.max_attempts'],
      [{ max_attempts: 2.5 }, 'body.job.retry.max_attempts'],
      [{ backoff_seconds: -1 }, 'body.job.retry.backoff_seconds'],
      [{ backoff_seconds: 3601 }, 'body.job.retry.backoff_seconds'],
      [{ on: ['benchmark_failure'] }, 'body.job.retry.on'],
      [{ on: [] }, 'body.job.retry.on'],
      [{ on: ['flaky'] }, 'body.job.retry.on.0'],
      [{ tries: 3 }, 'body.job.retry'],
    ];
    for (const [retry, field] of cases) {
      const response = await run({ image: ok, retry });
      expect([response.status, response.body.details.map((d) => d.field)]).toEqual([400, [field]]);
    }
    const pipeline = await stack.request<{ details: { field: string }[] }>('POST', '/v0/pipelines', {
      project: stack.project.slug,
      jobs: [{ key: 'a', branch: 'main', testbed: 'ci', job: { image: ok, retry: { max_attempts: 99 } } }],
    });
    expect([pipeline.status, pipeline.body.details.map((d) => d.field)]).toEqual([400, ['body.jobs.0.job.retry.max_attempts']]);
    expect(await stack.db('job').count<{ count: string }[]>({ count: '*' })).toEqual(before);
  });

  it('infrastructure failures: every attempt counted and shown, each retry after its backoff (by the stored timestamps)', async () => {
    const runner = await stack.startRunner({ executor: failingToBoot(2) });
    const accepted = await run({ image: ok, retry: { max_attempts: 3, backoff_seconds: 2 } });
    expect(accepted.status).toBe(202);
    const job = await stack.waitForJob(accepted.body.job);
    await runner.stop();

    expect(job).toMatchObject({ status: 'processed', attempt: 3, runner: runner.slug });
    expect(job.attempts.map(({ attempt, status, kind, error }) => ({ attempt, status, kind, error }))).toEqual([
      { attempt: 1, status: 'failed', kind: 'infrastructure', error: 'microVM failed to boot: injected fault' },
      { attempt: 2, status: 'failed', kind: 'infrastructure', error: 'microVM failed to boot: injected fault' },
      { attempt: 3, status: 'current', kind: null, error: null },
    ]);
    const [first, second, last] = job.attempts;
    // Each failed attempt had claimed the job; the n-th retry waited n × 2 s after its failure.
    for (const a of [first, second]) expect(ms(a.claimed)).toBeGreaterThanOrEqual(ms(a.dispatched));
    expect(ms(first.retry_at) - ms(first.ended)).toBe(2000);
    expect(ms(second.retry_at) - ms(second.ended)).toBe(4000);
    expect(ms(second.claimed) - ms(first.ended)).toBeGreaterThanOrEqual(2000);
    expect(ms(last.claimed) - ms(second.ended)).toBeGreaterThanOrEqual(4000);
    expect(ms(second.dispatched)).toBeGreaterThanOrEqual(ms(first.retry_at));
  });

  describe('benchmark failures', () => {
    let runner: TestRunner;
    const delivered: RunJobInput[] = [];
    let holdAttempt2: Promise<void> | undefined;
    let releaseAttempt2 = () => {};

    beforeAll(async () => {
      // A real runner that records what it was handed and can hold a second attempt back.
      runner = await stack.startRunner({
        wrap: (activities) => ({
          async runJob(input) {
            delivered.push(input);
            if (input.attempt === 2 && holdAttempt2) await holdAttempt2;
            return activities.runJob(input);
          },
        }),
      });
    });

    it('are not retried by default', async () => {
      const accepted = await run({ image: failing });
      const job = await stack.waitForJob(accepted.body.job);
      expect(job).toMatchObject({ status: 'failed', attempt: 1, exit_code: 3, error: 'the benchmark exited with code 3' });
      expect(job.attempts).toEqual([expect.objectContaining({ attempt: 1, status: 'current', exit_code: 3, runner: runner.slug })]);
      expect(delivered.filter((d) => d.jobId === accepted.body.job)).toHaveLength(1);
    });

    it("are run again on a new claim when `on` names them; the stale attempt's ticket claims and uploads nothing", async () => {
      holdAttempt2 = new Promise((resolve) => (releaseAttempt2 = resolve));
      const accepted = await run({ image: failing, retry: { max_attempts: 2, backoff_seconds: 1, on: ['infrastructure', 'benchmark_failure'] } });
      const jobId = accepted.body.job;
      await waitFor('attempt 2 to be delivered', async () => delivered.some((d) => d.jobId === jobId && d.attempt === 2) || undefined, 60000, 100);
      const [first, second] = delivered.filter((d) => d.jobId === jobId);
      expect(second.ticket).not.toBe(first.ticket);

      // Attempt 1's benchmark ran and failed; attempt 2 holds the job's ticket now.
      const call = (method: string, path: string, ticket: string, body: string, type = 'application/json') =>
        fetch(`${stack.apiUrl}/v0/runners/${runner.slug}/jobs/${jobId}/${path}`, {
          method,
          headers: { authorization: `Bearer ${runner.token}`, [CLAIM_TICKET_HEADER]: ticket, 'content-type': type },
          body,
        }).then((r) => r.status);
      expect(await call('POST', 'claim', first.ticket, '{}')).toBe(403);
      expect(await call('POST', 'running', first.ticket, '{"executor": "sandbox"}')).toBe(403);
      expect(await call('PUT', 'outputs?kind=stdout', first.ticket, 'forged', 'application/octet-stream')).toBe(403);
      releaseAttempt2();

      const job = await stack.waitForJob(jobId);
      expect(job).toMatchObject({ status: 'failed', attempt: 2, exit_code: 3, error: 'the benchmark exited with code 3' });
      expect(job.attempts.map(({ attempt, status, kind, exit_code, runner: r }) => ({ attempt, status, kind, exit_code, runner: r }))).toEqual([
        { attempt: 1, status: 'failed', kind: 'benchmark_failure', exit_code: 3, runner: runner.slug },
        { attempt: 2, status: 'current', kind: null, exit_code: 3, runner: runner.slug },
      ]);
      const [a1, a2] = job.attempts;
      // Both attempts ran the benchmark: each was claimed and started on its own.
      expect(ms(a1.started)).toBeLessThanOrEqual(ms(a1.ended));
      expect(ms(a2.claimed)).toBeGreaterThanOrEqual(ms(a1.retry_at));
      expect(ms(a1.retry_at) - ms(a1.ended)).toBe(1000);
    });

    it("a pipeline job's policy applies to it, and the pipeline view shows its attempts", async () => {
      const submitted = await stack.request<PipelineView>('POST', '/v0/pipelines', {
        project: stack.project.slug,
        jobs: [
          { key: 'flaky', branch: 'main', testbed: 'ci', adapter: 'json', job: { image: failing, retry: { max_attempts: 2, backoff_seconds: 0, on: ['infrastructure', 'benchmark_failure'] } } },
          { key: 'after', branch: 'main', testbed: 'ci', adapter: 'json', job: { image: ok }, needs: [{ job: 'flaky', requires_success: false }] },
        ],
      });
      expect(submitted.status).toBe(202);
      const view = await waitFor('the pipeline to end', async () => {
        const p = (await stack.request<PipelineView>('GET', `/v0/pipelines/${submitted.body.uuid}`)).body;
        return p.status !== 'running' ? p : undefined;
      }, 60000, 200);
      const jobs = Object.fromEntries(view.jobs.map((j) => [j.key, j]));
      expect(jobs.flaky.attempts.map((a: AttemptView) => [a.attempt, a.status, a.kind])).toEqual([[1, 'failed', 'benchmark_failure'], [2, 'current', null]]);
      expect(jobs.after.attempts.map((a: AttemptView) => [a.attempt, a.status])).toEqual([[1, 'current']]);
      const single: JobView = await stack.job(jobs.flaky.uuid);
      expect(single.attempts).toEqual(jobs.flaky.attempts);
    });
  });
});
