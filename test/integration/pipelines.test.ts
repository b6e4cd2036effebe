import { pipelineWorkflowId } from '../../common/contracts';
import type { PipelineSummary, PipelineView } from '../../common/schemas/pipelines';
import { waitFor } from '../../devenv/wait';
import { maxOverlap, WINDOW_SH } from '../harness/benchmarks';
import { processesMatching } from '../harness/processes';
import { Stack } from '../harness/stack';

type Job = { key: string; image: string; needs?: { job: string; requires_success?: boolean }[]; start_after?: string };

/** Pipelines against the real services: validation, fan-out/fan-in, failure cascades, cancel, views. */
describe('pipelines', () => {
  let stack: Stack;
  let ok: string;
  let slow: string;
  let failing: string;

  beforeAll(async () => {
    stack = await Stack.start();
    // Two runners: jobs with no needs run in parallel.
    await stack.startRunner();
    await stack.startRunner();
    [ok, slow, failing] = await Promise.all([
      stack.pushImage('ok', { entrypoint: ['/bin/echo', '{"b": {"latency": {"value": 1}}}'] }),
      stack.pushImage('slow', { entrypoint: ['/bin/sh', '-c', 'sleep 1; echo \'{"b": {"latency": {"value": 2}}}\''] }),
      stack.pushImage('exit3', { entrypoint: ['/bin/sh', '-c', 'echo "boom" >&2; exit 3'] }),
    ]);
  });
  afterAll(() => stack?.stop());

  const body = (jobs: Job[], extra: Record<string, unknown> = {}) => ({
    project: stack.project.slug,
    ...extra,
    jobs: jobs.map(({ key, image, needs, start_after }) => ({ key, branch: 'main', testbed: 'ci', adapter: 'json', job: { image }, ...(needs && { needs }), ...(start_after && { start_after }) })),
  });
  const submit = (jobs: Job[], extra?: Record<string, unknown>) => stack.request<PipelineView & { message: string; details: { field: string } }>('POST', '/v0/pipelines', body(jobs, extra));
  const view = async (id: string) => (await stack.request<PipelineView>('GET', `/v0/pipelines/${id}`)).body;
  const ended = (id: string, timeoutMs = 60000) =>
    waitFor(`pipeline ${id} to end`, async () => {
      const p = await view(id);
      return p.status !== 'running' ? p : undefined;
    }, timeoutMs, 200);
  const byKey = (p: PipelineView) => Object.fromEntries(p.jobs.map((j) => [j.key, j]));
  const pipelineCount = async () => Number((await stack.db('pipeline').where({ project_id: stack.project.id }).count<{ count: string }[]>({ count: '*' }))[0].count);

  describe('validation, before anything is written', () => {
    it('refuses a 3-cycle naming it, a self-edge, unknown and duplicate keys, and too many jobs', async () => {
      const before = await pipelineCount();
      // The database is shared with test files running beside this one: count this project's rows only.
      const jobCount = async () => Number((await stack.db('job').where({ project_id: stack.project.id }).count<{ count: string }[]>({ count: '*' }))[0].count);
      const jobsBefore = await jobCount();

      const cycle = await submit([{ key: 'a', image: ok, needs: [{ job: 'c' }] }, { key: 'b', image: ok, needs: [{ job: 'a' }] }, { key: 'c', image: ok, needs: [{ job: 'b' }] }]);
      expect(cycle.status).toBe(400);
      expect(cycle.body.message).toBe('body.jobs: the needs form a cycle: a → c → b → a (each job needs the next)');

      const self = await submit([{ key: 'a', image: ok }, { key: 'b', image: ok, needs: [{ job: 'b' }] }]);
      expect([self.status, self.body.details.field]).toEqual([400, 'body.jobs[1].needs[0].job']);
      expect(self.body.message).toMatch(/cannot need itself/);

      const unknown = await submit([{ key: 'a', image: ok, needs: [{ job: 'nope' }] }]);
      expect([unknown.status, unknown.body.details.field]).toEqual([400, 'body.jobs[0].needs[0].job']);
      const duplicate = await submit([{ key: 'a', image: ok }, { key: 'a', image: ok }]);
      expect([duplicate.status, duplicate.body.details.field]).toEqual([400, 'body.jobs[1].key']);

      const tooMany = await submit(Array.from({ length: 501 }, (_, i) => ({ key: `j${i}`, image: ok })));
      expect(tooMany.status).toBe(400);
      expect(tooMany.body.message).toMatch(/body\.jobs: a pipeline has at most 500 jobs/);

      // A bad job deep in the list is named by its index, like POST /v0/run names its field.
      const badImage = await submit([{ key: 'a', image: ok }, { key: 'b', image: 'UPPER/case:tag' }]);
      expect([badImage.status, badImage.body.details.field]).toEqual([400, 'body.jobs[1].job.image']);

      expect(await pipelineCount()).toBe(before);
      expect(await jobCount()).toBe(jobsBefore);
    });

    it('accepts a 200-job DAG quickly; its root failing skips the other 199, transitively', async () => {
      // A chain with cross links: every job needs its predecessor and the job at half its index.
      const missing = `${stack.registry}/${stack.id}/missing:none`;
      const jobs: Job[] = Array.from({ length: 200 }, (_, i) => ({
        key: `j${i}`,
        image: i === 0 ? missing : ok,
        needs: i === 0 ? [] : [...new Set([i - 1, Math.floor(i / 2)])].map((p) => ({ job: `j${p}` })),
      }));
      const started = Date.now();
      const res = await submit(jobs);
      const submitMs = Date.now() - started;
      expect(res.status).toBe(202);
      expect(submitMs).toBeLessThan(10000);
      expect(res.body.jobs).toHaveLength(200);
      expect(res.body.edges).toHaveLength(199 + 197);
      const done = await ended(res.body.uuid);
      expect(done.status).toBe('failed');
      expect(done.counts).toEqual({ processed: 0, failed: 1, canceled: 0, skipped: 199 });
      expect(byKey(done).j1.error).toBe('skipped: job "j0" failed');
      expect(byKey(done).j199.status).toBe('skipped');
    });
  });

  it('fans out then in: jobs without needs start at once, the fan-in only after all its parents ended', async () => {
    const res = await submit([
      { key: 'build', image: ok },
      { key: 'x86', image: slow, needs: [{ job: 'build' }] },
      { key: 'arm', image: slow, needs: [{ job: 'build' }] },
      { key: 'big', image: slow, needs: [{ job: 'build' }] },
      { key: 'compare', image: ok, needs: [{ job: 'x86' }, { job: 'arm' }, { job: 'big' }] },
    ]);
    expect(res.status).toBe(202);
    const done = await ended(res.body.uuid);
    expect(done).toMatchObject({ status: 'succeeded', counts: { processed: 5, failed: 0, canceled: 0, skipped: 0 }, finished: expect.any(String) });
    const jobs = byKey(done);
    const t = (s: string | null) => new Date(s!).getTime();
    for (const key of ['x86', 'arm', 'big']) expect(t(jobs[key].started)).toBeGreaterThanOrEqual(t(jobs.build.finished));
    expect(t(jobs.compare.started)).toBeGreaterThanOrEqual(Math.max(...['x86', 'arm', 'big'].map((k) => t(jobs[k].finished))));
    // Two runners: two of the three middle jobs overlapped.
    const middle = ['x86', 'arm', 'big'].map((k) => [t(jobs[k].started), t(jobs[k].finished)]).sort((a, b) => a[0] - b[0]);
    expect(middle[1][0]).toBeLessThan(middle[0][1]);
    // Each job is its own job-<uuid> workflow, a child of the pipeline's (the Temporal UI shows the tree).
    const child = await stack.client.workflow.getHandle(jobs.compare.workflow_id).describe();
    expect(jobs.compare.workflow_id).toBe(`job-${jobs.compare.uuid}`);
    expect(child.parentExecution?.workflowId).toBe(pipelineWorkflowId(done.uuid));
    expect(await stack.closedStatus(done.workflow_id)).toBe('COMPLETED');
  });

  it('cascades a failure three levels deep as skipped, naming the parent; a requires_success: false edge still runs', async () => {
    const res = await submit([
      { key: 'root', image: failing },
      { key: 'l1', image: ok, needs: [{ job: 'root' }] },
      { key: 'l2', image: ok, needs: [{ job: 'l1' }] },
      { key: 'l3', image: ok, needs: [{ job: 'l2' }, { job: 'cleanup' }] },
      { key: 'cleanup', image: ok, needs: [{ job: 'root', requires_success: false }] },
      { key: 'after-cleanup', image: ok, needs: [{ job: 'cleanup' }] },
      { key: 'independent', image: ok },
    ]);
    expect(res.status).toBe(202);
    const done = await ended(res.body.uuid);
    const statuses = Object.fromEntries(done.jobs.map((j) => [j.key, j.status]));
    expect(statuses).toEqual({ root: 'failed', l1: 'skipped', l2: 'skipped', l3: 'skipped', cleanup: 'processed', 'after-cleanup': 'processed', independent: 'processed' });
    const jobs = byKey(done);
    expect([jobs.l1.error, jobs.l2.error, jobs.l3.error]).toEqual(['skipped: job "root" failed', 'skipped: job "l1" skipped', 'skipped: job "l2" skipped']);
    // Skipped jobs never reached a runner.
    expect([jobs.l1.runner, jobs.l1.started, jobs.l3.runner]).toEqual([null, null, null]);
    expect(done).toMatchObject({ status: 'failed', counts: { processed: 3, failed: 1, canceled: 0, skipped: 3 } });
    expect(done.edges).toContainEqual({ job: 'cleanup', needs: 'root', requires_success: false });
    expect(await stack.closedStatus(done.workflow_id)).toBe('FAILED');
  });

  it('cancels mid-pipeline: the running benchmark killed, the queued one withdrawn, the unstarted canceled, no workflow left', async () => {
    // Two runners busy with two of three long benchmarks, the third queued behind them, a fourth waiting on the first.
    const long = await stack.pushImage('long', { entrypoint: ['/bin/sleep', '619'] });
    const res = await submit([
      { key: 'long1', image: long },
      { key: 'long2', image: long },
      { key: 'long3', image: long },
      { key: 'later', image: ok, needs: [{ job: 'long1' }] },
    ]);
    expect(res.status).toBe(202);
    const id = res.body.uuid;
    const longs = ['long1', 'long2', 'long3'];
    const running = await waitFor('two long benchmarks to run', async () => {
      const jobs = byKey(await view(id));
      const keys = longs.filter((k) => jobs[k].status === 'running');
      return (keys.length === 2 && processesMatching('sleep 619').length > 0 && keys) || undefined;
    }, 30000);
    const queued = longs.find((k) => !running.includes(k))!;
    await stack.waitUntilScheduled(byKey(await view(id))[queued].workflow_id);

    const cancel = await stack.request('POST', `/v0/pipelines/${id}/cancel`, {});
    expect(cancel.status).toBe(202);
    const done = await ended(id, 30000);
    expect(done).toMatchObject({ status: 'canceled', counts: { processed: 0, failed: 0, canceled: 4, skipped: 0 } });
    const jobs = byKey(done);
    expect(jobs[queued]).toMatchObject({ status: 'canceled', runner: null, started: null });
    for (const key of running) expect(jobs[key]).toMatchObject({ status: 'canceled', runner: expect.any(String), started: expect.any(String) });
    expect(jobs.later).toMatchObject({ status: 'canceled', error: 'canceled: the pipeline was canceled', runner: null });
    expect(processesMatching('sleep 619')).toEqual([]);
    // Nothing of the pipeline is left running in Temporal.
    const workflows = [done.workflow_id, ...longs.map((k) => jobs[k].workflow_id)];
    const states = await Promise.all(workflows.map((w) => stack.closedStatus(w)));
    expect(states).toEqual(['CANCELLED', 'CANCELLED', 'CANCELLED', 'CANCELLED']);
    await expect(stack.client.workflow.getHandle(jobs.later.workflow_id).describe()).rejects.toThrow(/not found/i);
    expect((await stack.request('POST', `/v0/pipelines/${id}/cancel`, {})).status).toBe(409);
  });

  it('the reconciler leaves a job that waits on its needs alone while its pipeline runs', async () => {
    const long = await stack.pushImage('long', { entrypoint: ['/bin/sleep', '621'] });
    const res = await submit([{ key: 'first', image: long }, { key: 'then', image: ok, needs: [{ job: 'first' }] }]);
    const id = res.body.uuid;
    await waitFor('the first job to run', async () => byKey(await view(id)).first.status === 'running' || undefined, 30000);
    // Old enough for the reconciler: the waiting job has no workflow yet, only its pipeline's.
    await stack.db('job').where({ pipeline_id: id }).update({ created_at: new Date(Date.now() - 3600_000) });
    await stack.client.workflow.execute('reconcileJobsWorkflow', { workflowId: `reconcile-${stack.id}`, taskQueue: `control-${stack.id}`, args: [600] });
    expect(byKey(await view(id)).then).toMatchObject({ status: 'pending', error: null });
    expect((await stack.request('POST', `/v0/pipelines/${id}/cancel`, {})).status).toBe(202);
    expect((await ended(id)).counts).toEqual({ processed: 0, failed: 0, canceled: 2, skipped: 0 });
  });

  it('start_after holds a job on a durable timer, not earlier, while the others start; canceled while scheduled, it never starts', async () => {
    const at = new Date(Date.now() + 5000);
    const res = await submit([{ key: 'now', image: ok }, { key: 'timed', image: ok, start_after: at.toISOString() }]);
    expect(res.status).toBe(202);
    expect(byKey(res.body).timed).toMatchObject({ status: 'scheduled', start_after: at.toISOString() });
    const done = await ended(res.body.uuid);
    const jobs = byKey(done);
    expect(done.status).toBe('succeeded');
    expect(new Date(jobs.timed.started!).getTime()).toBeGreaterThanOrEqual(at.getTime());
    expect(new Date(jobs.now.started!).getTime()).toBeLessThan(new Date(jobs.timed.started!).getTime());
    const history = await stack.client.workflow.getHandle(done.workflow_id).fetchHistory();
    expect(history.events!.filter((e) => e.timerStartedEventAttributes)).toHaveLength(1);

    // A pipeline-wide start_after an hour away, canceled: nothing ever ran.
    const far = await submit([{ key: 'a', image: ok }], { start_after: new Date(Date.now() + 3600_000).toISOString() });
    expect(byKey(far.body).a.status).toBe('scheduled');
    await waitFor('the timer to start', async () => {
      const events = (await stack.client.workflow.getHandle(far.body.workflow_id).fetchHistory()).events!;
      return events.some((e) => e.timerStartedEventAttributes) || undefined;
    });
    expect((await stack.request('POST', `/v0/pipelines/${far.body.uuid}/cancel`, {})).status).toBe(202);
    const canceled = await ended(far.body.uuid);
    expect(byKey(canceled).a).toMatchObject({ status: 'canceled', started: null, error: 'canceled: the pipeline was canceled' });
    await expect(stack.client.workflow.getHandle(byKey(canceled).a.workflow_id).describe()).rejects.toThrow(/not found/i);
  });

  it("obeys the tier rules single jobs obey: a free organization's parallel jobs run one at a time", async () => {
    const free = await stack.tenant('free-pipeline', { plan: 'free' });
    const windowImage = await stack.pushImage('window', { entrypoint: ['/window.sh'], cmd: ['1'], files: { '/window.sh': WINDOW_SH } });
    const jobs = ['a', 'b', 'c'].map((key) => ({ key, branch: 'main', testbed: 'ci', adapter: 'json', job: { image: windowImage } }));
    const res = await stack.request<PipelineView>('POST', '/v0/pipelines', { project: free.project, jobs }, free.token);
    expect(res.status).toBe(202);
    const done = await ended(res.body.uuid);
    expect(done.status).toBe('succeeded');
    // The benchmarks' own clocks: never two at once, though two runners were free.
    const windows = await Promise.all(done.jobs.map(async (j) => {
      const results = (await stack.report(j.report)).results;
      const at = (m: string) => results.find((r) => r.measure === m)!.value;
      return { start: at('start'), end: at('end') };
    }));
    expect(maxOverlap(windows)).toBe(1);
  });

  it('returns the same pipeline for the same idempotency key', async () => {
    const first = await submit([{ key: 'only', image: ok }], { idempotency_key: `idem-${stack.id}` });
    const again = await submit([{ key: 'only', image: ok }], { idempotency_key: `idem-${stack.id}` });
    expect([first.status, again.status]).toEqual([202, 202]);
    expect(again.body.uuid).toBe(first.body.uuid);
    expect(again.body.jobs.map((j) => j.uuid)).toEqual(first.body.jobs.map((j) => j.uuid));
    expect(Number((await stack.db('pipeline').where({ idempotency_key: `idem-${stack.id}` }).count<{ count: string }[]>({ count: '*' }))[0].count)).toBe(1);
    await ended(first.body.uuid);
  });

  it('lists pipelines with filters and pages; a private project’s pipeline is as missing to outsiders', async () => {
    const all = await stack.request<PipelineSummary[]>('GET', `/v0/projects/${stack.project.slug}/pipelines?per_page=2`);
    expect(all.status).toBe(200);
    expect(all.body).toHaveLength(2);
    const failed = await stack.request<PipelineSummary[]>('GET', `/v0/projects/${stack.project.slug}/pipelines?status=failed`);
    expect(failed.body.map((p) => p.status)).toEqual(['failed', 'failed']);
    expect(failed.body.map((p) => p.job_count)).toEqual([7, 200]);

    const outsider = await stack.tenant('outsider', { plan: 'team' });
    const hidden = await stack.request<{ message: string }>('GET', `/v0/pipelines/${failed.body[0].uuid}`, undefined, outsider.token);
    const missing = await stack.request<{ message: string }>('GET', `/v0/pipelines/00000000-0000-4000-8000-000000000000`, undefined, outsider.token);
    expect([hidden.status, missing.status]).toEqual([404, 404]);
    expect(hidden.body.message.replace(failed.body[0].uuid, 'X')).toBe(missing.body.message.replace('00000000-0000-4000-8000-000000000000', 'X'));
    expect((await stack.request('POST', `/v0/pipelines/${failed.body[0].uuid}/cancel`, {}, outsider.token)).status).toBe(404);
    expect((await stack.request('GET', `/v0/projects/${stack.project.slug}/pipelines`, undefined, outsider.token)).status).toBe(404);
    // Anonymous callers may not submit pipelines.
    expect((await stack.request('POST', '/v0/pipelines', body([{ key: 'a', image: ok }]), null)).status).toBe(401);
  });

  it('documents the pipeline routes in the OpenAPI document', async () => {
    const doc = (await stack.request<{ paths: Record<string, Record<string, { security: unknown[] }>> }>('GET', '/v0/openapi.json', undefined, null)).body;
    expect(doc.paths['/v0/pipelines'].post.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v0/pipelines/{pipeline}', '/v0/pipelines/{pipeline}/cancel', '/v0/projects/{project}/pipelines']));
  });
});
