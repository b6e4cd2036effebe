import type { CriticalPathView, PipelineView } from '../../common/schemas/pipelines';
import { waitFor } from '../../devenv/wait';
import { Stack } from '../harness/stack';

/** GET /v0/pipelines/{pipeline}/critical-path against the real services: from real timestamps, then estimated from history. */
describe('pipeline critical path', () => {
  let stack: Stack;
  let one: string;
  let two: string;
  let fast: string;

  beforeAll(async () => {
    stack = await Stack.start();
    await stack.startRunner();
    await stack.startRunner();
    const sleeping = (s: number) => ({ entrypoint: ['/bin/sh', '-c', `sleep ${s}; echo '{"b": {"latency": {"value": ${s}}}}'`] });
    [one, two, fast] = await Promise.all([
      stack.pushImage('one', sleeping(1)),
      stack.pushImage('two', sleeping(2)),
      stack.pushImage('fast', { entrypoint: ['/bin/echo', '{"b": {"latency": {"value": 0}}}'] }),
    ]);
  });
  afterAll(() => stack?.stop());

  const submit = async (jobs: { key: string; image: string; needs?: string[] }[], extra: Record<string, unknown> = {}) => {
    const response = await stack.request<PipelineView>('POST', '/v0/pipelines', {
      project: stack.project.slug,
      ...extra,
      jobs: jobs.map((j) => ({ key: j.key, branch: 'main', testbed: 'ci', adapter: 'json', job: { image: j.image }, needs: (j.needs ?? []).map((job) => ({ job })) })),
    });
    expect(response.status).toBe(202);
    return response.body.uuid;
  };
  const criticalPath = async (id: string) => (await stack.request<CriticalPathView>('GET', `/v0/pipelines/${id}/critical-path`)).body;
  const seconds = (at: Date, from: Date) => (at.getTime() - from.getTime()) / 1000;

  it('an ended pipeline: the chain that set its wall time, from the jobs’ own timestamps', async () => {
    // a(1 s) → b(2 s) sets the wall time; a → c(fast) and d(fast) run beside it.
    const id = await submit([{ key: 'a', image: one }, { key: 'b', image: two, needs: ['a'] }, { key: 'c', image: fast, needs: ['a'] }, { key: 'd', image: fast }]);
    await waitFor('the pipeline to end', async () => ((await stack.request<PipelineView>('GET', `/v0/pipelines/${id}`)).body.status === 'succeeded') || undefined, 60000, 200);

    const path = await criticalPath(id);
    expect(path).toMatchObject({ pipeline: id, status: 'succeeded', estimated: false });
    expect(path.path.map((j) => [j.key, j.estimated, j.samples])).toEqual([['a', false, null], ['b', false, null]]);
    const [a, b] = path.path;
    const pipeline = await stack.db('pipeline').where({ id }).first();
    const rows: Record<string, { claimed_at: Date; finished_at: Date }> = Object.fromEntries((await stack.db('job').where({ pipeline_id: id })).map((j) => [j.pipeline_key, j]));
    // Every figure is the jobs' own timestamps, in seconds from the submission.
    expect(a.start_seconds).toBe(0);
    expect(a.queue_wait_seconds).toBeCloseTo(seconds(rows.a.claimed_at, pipeline.created_at), 2);
    expect(a.end_seconds).toBeCloseTo(seconds(rows.a.finished_at, pipeline.created_at), 2);
    expect(b.start_seconds).toBe(a.end_seconds);
    expect(b.queue_wait_seconds).toBeCloseTo(seconds(rows.b.claimed_at, rows.a.finished_at), 2);
    expect(b.run_seconds).toBeCloseTo(seconds(rows.b.finished_at, rows.b.claimed_at), 2);
    expect(b.run_seconds).toBeGreaterThanOrEqual(2);
    expect(path.wall_seconds).toBe(b.end_seconds);
    const lastEnd = Math.max(...Object.values(rows).map((j) => j.finished_at.getTime()));
    expect(path.wall_seconds).toBeCloseTo((lastEnd - pipeline.created_at.getTime()) / 1000, 2);
  });

  it('a running pipeline: estimated from the same commands’ previous run times, marked estimated', async () => {
    const history = await criticalPath((await stack.db('pipeline').where({ project_id: stack.project.id, status: 'succeeded' }).first()).id);
    // Held by a start_after a minute away: no job has started, every one is estimated.
    const startAfter = new Date(Date.now() + 60000);
    const id = await submit([{ key: 'x', image: one }, { key: 'y', image: two, needs: ['x'] }, { key: 'z', image: fast }], { start_after: startAfter.toISOString() });
    const path = await criticalPath(id);
    expect(path).toMatchObject({ status: 'running', estimated: true });
    expect(path.path.map((j) => [j.key, j.status, j.estimated, j.samples])).toEqual([['x', 'scheduled', true, 1], ['y', 'scheduled', true, 1]]);
    const [x, y] = path.path;
    const created = (await stack.db('pipeline').where({ id }).first()).created_at;
    expect(x.start_seconds).toBeCloseTo(seconds(startAfter, created), 2);
    // One previous run each: the median is that run.
    expect(x.run_seconds).toBeCloseTo(history.path[0].run_seconds, 2);
    expect(y.run_seconds).toBeCloseTo(history.path[1].run_seconds, 2);
    expect([x.queue_wait_seconds, y.queue_wait_seconds]).toEqual([0, 0]);
    expect(path.wall_seconds).toBeCloseTo(x.start_seconds + x.run_seconds + y.run_seconds, 2);
    expect((await stack.request('POST', `/v0/pipelines/${id}/cancel`)).status).toBe(202);
  });

  it('an unknown pipeline is a 404', async () => {
    expect((await stack.request('GET', '/v0/pipelines/00000000-0000-4000-8000-000000000000/critical-path')).status).toBe(404);
  });
});
