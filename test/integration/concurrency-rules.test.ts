import type { RunAccepted } from '../../common/schemas';
import type { ConcurrencyRuleView } from '../../common/schemas/concurrency-rules';
import type { PipelineView } from '../../common/schemas/pipelines';
import { waitFor } from '../../devenv/wait';
import { maxOverlap, WINDOW_SH, type Window } from '../harness/benchmarks';
import { Stack } from '../harness/stack';

/**
 * Concurrency beyond the tier limits, on real runners: a project's rules by job labels (permits
 * taken at submission, waiting jobs hold no runner), a pipeline's max_parallel, and pausing a
 * pipeline. Overlap is measured by the benchmarks' own clocks.
 */
describe('concurrency rules, max_parallel and pipeline pause', () => {
  let stack: Stack;
  let windowImage: string;

  beforeAll(async () => {
    stack = await Stack.start({ permitCheckIntervalSeconds: 1 });
    windowImage = await stack.pushImage('window', { entrypoint: ['/window.sh'], cmd: ['1'], files: { '/window.sh': WINDOW_SH } });
    for (let i = 0; i < 3; i++) await stack.startRunner();
  });
  afterAll(() => stack?.stop());

  const rules = () => `/v0/projects/${stack.project.slug}/concurrency-rules`;
  const run = (labels: Record<string, string> | undefined, seconds = 1) =>
    stack.request<RunAccepted & { message: string; details: { field: string }[] }>('POST', '/v0/run', {
      project: stack.project.slug, branch: 'main', testbed: 'ci', adapter: 'json', ...(labels && { labels }), job: { image: windowImage, cmd: [String(seconds)] },
    });
  const windowOf = async (report: string): Promise<Window> => {
    const results = (await stack.report(report)).results;
    const at = (m: string) => results.find((r) => r.measure === m)!.value;
    return { start: at('start'), end: at('end') };
  };
  const pipelineJob = (key: string, extra: Record<string, unknown> = {}) => ({ key, branch: 'main', testbed: 'ci', adapter: 'json', job: { image: windowImage }, ...extra });
  const submitPipeline = (body: Record<string, unknown>) => stack.request<PipelineView>('POST', '/v0/pipelines', { project: stack.project.slug, ...body });
  const view = async (id: string) => (await stack.request<PipelineView>('GET', `/v0/pipelines/${id}`)).body;
  const ended = (id: string) => waitFor(`pipeline ${id} to end`, async () => ((await view(id)).status !== 'running' ? view(id) : undefined), 120000, 200);

  it('validates labels and rules, naming the field; rules are created, listed and deleted through the API', async () => {
    const bad = await run({ 'bad key': 'x' });
    expect([bad.status, bad.body.details[0].field]).toEqual([400, 'body.labels.bad key']);
    const tooMany = await run(Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])));
    expect([tooMany.status, tooMany.body.details[0].field]).toEqual([400, 'body.labels']);
    const long = await run({ suite: 'x'.repeat(129) });
    expect([long.status, long.body.details[0].field]).toEqual([400, 'body.labels.suite']);
    const empty = await stack.request<{ details: { field: string }[] }>('POST', rules(), { match: {}, max: 1 });
    expect([empty.status, empty.body.details[0].field]).toEqual([400, 'body.match']);
    const zero = await stack.request<{ details: { field: string }[] }>('POST', rules(), { match: { suite: 'x' }, max: 0 });
    expect([zero.status, zero.body.details[0].field]).toEqual([400, 'body.max']);

    const created = await stack.request<ConcurrencyRuleView>('POST', rules(), { match: { suite: 'tmp' }, max: 3 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ project: stack.project.slug, match: { suite: 'tmp' }, max: 3 });
    expect((await stack.request<ConcurrencyRuleView[]>('GET', rules())).body.map((r) => r.uuid)).toContain(created.body.uuid);
    const outsider = await stack.tenant('rules-outsider', { plan: 'team' });
    expect((await stack.request('POST', rules(), { match: { suite: 'x' }, max: 1 }, outsider.token)).status).toBe(404);
    expect((await stack.request('DELETE', `${rules()}/${created.body.uuid}`)).status).toBe(204);
    expect((await stack.request('DELETE', `${rules()}/${created.body.uuid}`)).status).toBe(404);
    expect((await stack.request<ConcurrencyRuleView[]>('GET', rules())).body.map((r) => r.uuid)).not.toContain(created.body.uuid);

    const doc = (await stack.request<{ paths: Record<string, unknown> }>('GET', '/v0/openapi.json', undefined, null)).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v0/projects/{project}/concurrency-rules', '/v0/projects/{project}/concurrency-rules/{rule}', '/v0/pipelines/{pipeline}/pause', '/v0/pipelines/{pipeline}/resume']),
    );
  });

  it('a rule of 1 never lets two labelled jobs overlap, in arrival order; unlabelled jobs are unaffected', async () => {
    const rule = await stack.request<ConcurrencyRuleView>('POST', rules(), { match: { suite: 'db' }, max: 1 });
    const labelled: RunAccepted[] = [];
    // One at a time, so arrival order is known; the runners are free for all of them at once.
    for (let i = 0; i < 4; i++) labelled.push((await run({ suite: 'db', size: String(i) })).body);
    const other = (await run({ suite: 'web' })).body;
    const plain = (await run(undefined)).body;
    const jobs = await Promise.all([...labelled, other, plain].map((j) => stack.waitForJob(j.job)));
    expect(jobs.map((j) => j.status)).toEqual(jobs.map(() => 'processed'));
    const windows = await Promise.all(jobs.map((j) => windowOf(j.report)));
    const db = windows.slice(0, 4);
    expect(maxOverlap(db)).toBe(1);
    expect(db.map((w) => w.start)).toEqual([...db.map((w) => w.start)].sort((a, b) => a - b));
    // The other jobs did not queue behind the labelled ones: both started before the last labelled one.
    expect(windows[4].start).toBeLessThan(db[3].start);
    expect(windows[5].start).toBeLessThan(db[3].start);
    expect(await stack.db('tier_permit').whereIn('job_id', jobs.map((j) => j.uuid))).toEqual([]);
    await stack.request('DELETE', `${rules()}/${rule.body.uuid}`);
  });

  it('a waiting labelled job holds no runner and starts when its rule is deleted', async () => {
    const rule = await stack.request<ConcurrencyRuleView>('POST', rules(), { match: { suite: 'hold' }, max: 1 });
    const holder = (await run({ suite: 'hold' }, 600)).body;
    await stack.waitForJob(holder.job, (j) => j.status === 'running');
    const waiting = (await run({ suite: 'hold' }, 0)).body;
    // Two runners are still free: an unlabelled job takes one while the labelled one waits.
    expect((await stack.waitForJob((await run(undefined, 0)).body.job)).status).toBe('processed');
    expect(await stack.job(waiting.job)).toMatchObject({ status: 'pending', runner: null, waiting: 'concurrency rule {"suite":"hold"}: at most 1 at once' });
    expect((await stack.request('DELETE', `${rules()}/${rule.body.uuid}`)).status).toBe(204);
    expect((await stack.waitForJob(waiting.job)).status).toBe('processed');
    expect((await stack.request('POST', `/v0/projects/${stack.project.slug}/jobs/${holder.job}/cancel`, {})).status).toBe(202);
    expect((await stack.waitForJob(holder.job)).status).toBe('canceled');
  });

  it("a pipeline's max_parallel bounds its running jobs; its labelled jobs obey the project's rules", async () => {
    const res = await submitPipeline({ max_parallel: 2, jobs: ['a', 'b', 'c', 'd', 'e'].map((key) => pipelineJob(key)) });
    expect([res.status, res.body.max_parallel]).toEqual([202, 2]);
    const done = await ended(res.body.uuid);
    expect(done.status).toBe('succeeded');
    const windows = await Promise.all(done.jobs.map((j) => windowOf(j.report)));
    expect(maxOverlap(windows)).toBe(2);

    const rule = await stack.request<ConcurrencyRuleView>('POST', rules(), { match: { suite: 'pipe' }, max: 1 });
    const labelled = await submitPipeline({ jobs: ['x', 'y', 'z'].map((key) => pipelineJob(key, { labels: { suite: 'pipe' } })) });
    const labelledDone = await ended(labelled.body.uuid);
    expect(labelledDone.status).toBe('succeeded');
    expect(maxOverlap(await Promise.all(labelledDone.jobs.map((j) => windowOf(j.report))))).toBe(1);
    await stack.request('DELETE', `${rules()}/${rule.body.uuid}`);
  });

  it('pausing a pipeline holds its unstarted jobs while the running one finishes; resume releases them in order, nothing lost', async () => {
    const res = await submitPipeline({
      max_parallel: 1,
      jobs: [pipelineJob('first', { job: { image: windowImage, cmd: ['3'] } }), pipelineJob('second'), pipelineJob('third'), pipelineJob('fourth', { needs: [{ job: 'first' }] })],
    });
    const id = res.body.uuid;
    const jobOf = async (key: string) => (await view(id)).jobs.find((j) => j.key === key)!;
    await waitFor('the first job to run', async () => (await jobOf('first')).status === 'running' || undefined, 60000);
    const paused = await stack.request<PipelineView>('POST', `/v0/pipelines/${id}/pause`, {});
    expect(paused.status).toBe(202);
    expect(paused.body.paused).not.toBeNull();
    expect((await stack.waitForJob((await jobOf('first')).uuid)).status).toBe('processed');

    // Held: once the pipeline's workflow has taken in the first job's end, it started nothing.
    const handle = stack.client.workflow.getHandle(res.body.workflow_id);
    await waitFor('the pipeline to take in the first job’s end', async () => {
      const events = (await handle.fetchHistory()).events!;
      const completed = events.findIndex((e) => e.childWorkflowExecutionCompletedEventAttributes);
      return completed >= 0 && events.slice(completed).some((e) => e.workflowTaskCompletedEventAttributes) ? events : undefined;
    });
    const children = (await handle.fetchHistory()).events!.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
    expect(children).toHaveLength(1);
    expect((await view(id)).jobs.filter((j) => j.key !== 'first').map((j) => j.status)).toEqual(['pending', 'pending', 'pending']);
    expect((await stack.job((await jobOf('second')).uuid)).waiting).toMatch(/^pipeline paused since \S+: none of its jobs starts until it is resumed$/);

    const resumed = await stack.request<PipelineView>('POST', `/v0/pipelines/${id}/resume`, {});
    expect([resumed.status, resumed.body.paused]).toEqual([202, null]);
    const done = await ended(id);
    expect(done).toMatchObject({ status: 'succeeded', counts: { processed: 4, failed: 0, canceled: 0, skipped: 0 } });
    // Released in the order they became due, one at a time.
    const started = (key: string) => new Date(done.jobs.find((j) => j.key === key)!.started!).getTime();
    expect(started('second')).toBeLessThan(started('third'));
    expect(started('third')).toBeLessThan(started('fourth'));
    expect((await stack.request('POST', `/v0/pipelines/${id}/pause`, {})).status).toBe(409);
  });
});
