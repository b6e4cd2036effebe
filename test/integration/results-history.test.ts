import type { AlertView, ChangePointView, MetricPoint, ReportView, ThresholdView } from '../../common/schemas';
import { Stack } from '../harness/stack';

/**
 * Results judged against history, through the real api with reports submitted the way a local run
 * (`benchline run -- <command>`) submits them: parsed, stored and judged by the same code that
 * processes a job's output (db/results.ts), without a runner in the way. Image jobs are covered by
 * results-alerts.test.ts.
 */
describe('results: history, change points, start points, thresholds API', () => {
  let stack: Stack;
  let base: string;

  beforeAll(async () => {
    stack = await Stack.start();
    base = `/v0/projects/${stack.project.slug}`;
  });
  afterAll(() => stack?.stop());

  const bmf = (values: Record<string, number>, measure = 'latency') =>
    JSON.stringify(Object.fromEntries(Object.entries(values).map(([name, value]) => [name, { [measure]: { value } }])));

  async function report(body: Record<string, unknown>, expectStatus = 201): Promise<ReportView> {
    const response = await stack.request<ReportView>('POST', `${base}/reports`, { testbed: 'ci', adapter: 'json', ...body });
    if (response.status !== expectStatus) throw new Error(`report: HTTP ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  const result = (r: ReportView, benchmark: string, measure = 'latency') => r.results.find((m) => m.benchmark === benchmark && m.measure === measure)!;

  it('stores a change point where a series steps, and none for stationary noise', async () => {
    const flat = [100, 101.2, 99.1, 100.4, 98.9, 100.8, 99.5, 100.2, 101.0, 99.3, 100.6, 99.8, 100.1];
    const step = [100.3, 99.2, 100.9, 99.7, 100.4, 99.6, 100.1, 130.3, 129.1, 131.0, 130.2, 129.6, 130.8];
    const reports: ReportView[] = [];
    for (let i = 0; i < step.length; i++) reports.push(await report({ branch: 'cp', results: [bmf({ step: step[i], flat: flat[i] })] }));

    const listed = await stack.request<ChangePointView[]>('GET', `${base}/change-points?branch=cp&benchmark=step`);
    expect(listed.status).toBe(200);
    expect(listed.body).toHaveLength(1);
    const [cp] = listed.body;
    // The first metric after the step, in the report that introduced it.
    expect(cp).toMatchObject({ branch: 'cp', testbed: 'ci', benchmark: 'step', measure: 'latency', series_index: 7, report: reports[7].uuid, metric: result(reports[7], 'step').uuid });
    expect(cp.percent_change).toBeCloseTo(30, 0);
    expect(cp.pvalue).toBeLessThan(0.001);
    expect((await stack.request<ChangePointView[]>('GET', `${base}/change-points?branch=cp&benchmark=flat`)).body).toEqual([]);

    // The history endpoint marks the same point.
    const history = await stack.request<MetricPoint[]>('GET', `${base}/metrics?branch=cp&testbed=ci&benchmark=step&measure=latency&per_page=100`);
    expect(history.body.map((p) => p.value)).toEqual(step);
    expect(history.body.map((p) => p.change_point !== null)).toEqual(step.map((_, i) => i === 7));
  });

  it('judges a new branch against its start point: main history, cloned thresholds, alert on the first run', async () => {
    const thresholds = [{ measure: 'latency', test: 't_test', upper_boundary: 0.99 }];
    const main = [50.2, 49.8, 50.5, 49.6, 50.1, 50.3, 49.9];
    for (const v of main) await report({ branch: 'trunk', thresholds, results: [bmf({ parse: v })] });

    const feature = await report({ branch: 'feature-x', start_point: 'trunk', start_point_clone_thresholds: true, results: [bmf({ parse: 65 })] });
    const judged = result(feature, 'parse');
    // No history of its own, yet judged: by trunk's seven metrics, under the cloned threshold.
    expect(judged.boundary).not.toBeNull();
    expect(judged.boundary!.skipped).toBeNull();
    expect(judged.boundary!.model).toMatchObject({ test: 't_test', upper_boundary: 0.99 });
    expect(judged.boundary!.baseline).toBeCloseTo(main.reduce((a, b) => a + b) / main.length, 6);
    expect(judged.baseline_source).toBe('threshold');
    expect(judged.change_percent).toBeCloseTo((65 / judged.boundary!.baseline! - 1) * 100, 6);
    expect(judged.alerts).toEqual([expect.objectContaining({ side: 'upper', status: 'active', value: 65 })]);
    expect(feature.alerts).toEqual([expect.objectContaining({ branch: 'feature-x', benchmark: 'parse', side: 'upper' })]);

    const threshold = await stack.request<ThresholdView[]>('GET', `${base}/thresholds?branch=feature-x`);
    expect(threshold.body).toEqual([expect.objectContaining({ branch: 'feature-x', testbed: 'ci', measure: 'latency', model: expect.objectContaining({ test: 't_test' }) })]);

    // The plot data for the branch: trunk's history (named as such) then the branch's own point.
    const history = await stack.request<MetricPoint[]>('GET', `${base}/metrics?branch=feature-x&testbed=ci&benchmark=parse&measure=latency`);
    expect(history.body.map((p) => [p.branch, p.value])).toEqual([...main.map((v) => ['trunk', v]), ['feature-x', 65]]);
    const own = await stack.request<MetricPoint[]>('GET', `${base}/metrics?branch=feature-x&testbed=ci&benchmark=parse&measure=latency&start_point=false`);
    expect(own.body.map((p) => p.value)).toEqual([65]);

    // The same value on a branch with no start point has no history to be judged by.
    const lonely = await report({ branch: 'lonely', thresholds, results: [bmf({ parse: 65 })] });
    expect(result(lonely, 'parse').boundary).toMatchObject({ lower_limit: null, upper_limit: null, skipped: 'only 0 samples, t_test needs 2' });
    expect(result(lonely, 'parse').alerts).toEqual([]);

    // Metrics trunk gets after the fork are not the branch's history.
    await report({ branch: 'trunk', results: [bmf({ parse: 500 })] });
    const again = await report({ branch: 'feature-x', start_point: 'trunk', results: [bmf({ parse: 50 })] });
    expect(result(again, 'parse').boundary!.baseline).toBeCloseTo((main.reduce((a, b) => a + b) + 65) / (main.length + 1), 6);

    // A start-point reset forks anew: the branch's own 65 and 50 no longer count, trunk's 500 does.
    const reset = await report({ branch: 'feature-x', start_point: 'trunk', start_point_reset: true, results: [bmf({ parse: 60 })] });
    expect(result(reset, 'parse').boundary!.baseline).toBeCloseTo((main.reduce((a, b) => a + b) + 500) / (main.length + 1), 6);
  });

  it('refuses what it cannot use, naming the field', async () => {
    const unknownStart = await stack.request<{ message: string }>('POST', `${base}/reports`, { branch: 'b', testbed: 'ci', adapter: 'json', start_point: 'nope', results: [bmf({ a: 1 })] });
    expect(unknownStart.status).toBe(400);
    expect(unknownStart.body.message).toBe('body.start_point: branch "nope" does not exist in this project');
    expect(await stack.db('branch').where({ project_id: stack.project.id, slug: 'b' }).first()).toBeUndefined();

    const badModel = await stack.request<{ message: string; details: { field: string }[] }>('POST', `${base}/reports`, {
      branch: 'b', testbed: 'ci', adapter: 'json', thresholds: [{ measure: 'latency', test: 'z_score', upper_boundary: 1.5 }], results: [bmf({ a: 1 })],
    });
    expect(badModel.status).toBe(400);
    expect(badModel.body.details[0].field).toBe('body.thresholds.0.upper_boundary');
    expect(badModel.body.message).toContain('z_score upper boundary must be a probability in [0.5, 1), got 1.5');

    const garbage = await stack.request<{ message: string }>('POST', `${base}/reports`, { branch: 'b', testbed: 'ci', adapter: 'json', results: ['hello, not json'] });
    expect(garbage.status).toBe(400);
    expect(garbage.body.message).toMatch(/^body\.results: no benchmark results/);
    expect(garbage.body.message).toContain('hello, not json');

    const runBody = { project: stack.project.slug, branch: 'main', testbed: 'ci', adapter: 'json', job: { image: 'x/y:z' } };
    const badFold = await stack.request<{ message: string }>('POST', '/v0/run', { ...runBody, fold: 'sideways' });
    expect(badFold.status).toBe(400);
    expect(badFold.body.message).toMatch(/^body\.fold: /);
    const noBoundary = await stack.request<{ message: string }>('POST', '/v0/run', { ...runBody, thresholds: [{ measure: 'latency', test: 'percentage' }] });
    expect(noBoundary.status).toBe(400);
    expect(noBoundary.body.message).toBe('body.thresholds.0: percentage needs a lower boundary, an upper boundary or both');
  });

  it('folds iterations and adds file sizes and build time', async () => {
    const r = await report({
      branch: 'fold',
      fold: 'median',
      results: [
        { stdout: bmf({ f: 10 }), build_time: 1.5 },
        { stdout: bmf({ f: 30 }), build_time: 2.5 },
        { stdout: bmf({ f: 20 }), build_time: 9 },
      ],
      file_sizes: { 'target/release/app': 4096 },
      command: 'make bench',
    });
    expect(result(r, 'f').value).toBe(20);
    expect(result(r, 'make bench', 'build-time').value).toBe(2.5);
    expect(result(r, 'app', 'file-size')).toMatchObject({ value: 4096, units: 'bytes (B)' });
    expect(r.settings).toMatchObject({ fold: 'median', iterations: 3, command: 'make bench' });

    // Repeated BMF documents in one stdout are iterations too.
    const docs = await report({ branch: 'fold', fold: 'max', results: [`${bmf({ f: 1 })}\n${bmf({ f: 7 })}\n${bmf({ f: 3 })}\n`] });
    expect(result(docs, 'f').value).toBe(7);
  });

  it('manages thresholds: create, list, new model (old alerts silenced), delete', async () => {
    for (const v of [10, 10.2, 9.9, 10.1]) await report({ branch: 'crud', results: [bmf({ q: v })] });
    const created = await stack.request<ThresholdView & { models: unknown[] }>('POST', `${base}/thresholds`, { branch: 'crud', testbed: 'ci', measure: 'latency', test: 'percentage', upper_boundary: 0.1 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ branch: 'crud', testbed: 'ci', measure: 'latency', model: { test: 'percentage', upper_boundary: 0.1, lower_boundary: null, replaced: null } });
    const duplicate = await stack.request('POST', `${base}/thresholds`, { branch: 'crud', testbed: 'ci', measure: 'latency', test: 'static', upper_boundary: 1 });
    expect(duplicate.status).toBe(409);
    const missingBranch = await stack.request<{ message: string }>('POST', `${base}/thresholds`, { branch: 'nowhere', testbed: 'ci', measure: 'latency', test: 'static', upper_boundary: 1 });
    expect(missingBranch.status).toBe(400);
    expect(missingBranch.body.message).toMatch(/^body\.branch: /);

    const alerted = await report({ branch: 'crud', results: [bmf({ q: 12 })] });
    const [alert] = alerted.alerts;
    expect(alert).toMatchObject({ side: 'upper', status: 'active', threshold: created.body.uuid, model: { uuid: created.body.model!.uuid } });
    expect(alert.limit).toBeCloseTo(10.05 * 1.1, 9);

    const changed = await stack.request<ThresholdView & { models: { uuid: string; replaced: string | null }[] }>('PUT', `${base}/thresholds/${created.body.uuid}`, { test: 'static', upper_boundary: 100 });
    expect(changed.status).toBe(200);
    expect(changed.body.model).toMatchObject({ test: 'static', upper_boundary: 100 });
    expect(changed.body.models).toHaveLength(2);
    expect(changed.body.models[1]).toMatchObject({ uuid: created.body.model!.uuid, replaced: expect.any(String) });
    expect((await stack.request<AlertView>('GET', `${base}/alerts/${alert.uuid}`)).body.status).toBe('silenced');
    // The same model again changes nothing.
    const same = await stack.request<ThresholdView & { models: unknown[] }>('PUT', `${base}/thresholds/${created.body.uuid}`, { test: 'static', upper_boundary: 100 });
    expect(same.body.models).toHaveLength(2);

    const listed = await fetch(`${stack.apiUrl}${base}/thresholds?branch=crud`, { headers: { authorization: `Bearer ${stack.userToken}` } });
    expect(listed.headers.get('x-total-count')).toBe('1');
    expect((await stack.request('DELETE', `${base}/thresholds/${created.body.uuid}`)).status).toBe(204);
    expect((await stack.request('GET', `${base}/thresholds/${created.body.uuid}`)).status).toBe(404);
    expect((await stack.request('GET', `${base}/alerts/${alert.uuid}`)).status).toBe(404);
  });

  it('narrows history by the window and max sample size; --thresholds-reset drops the rest', async () => {
    const day = 24 * 3600 * 1000;
    const at = (daysAgo: number) => new Date(Date.now() - daysAgo * day).toISOString();
    // Old metrics (a week ago) far from the recent ones.
    for (const [i, v] of [1000, 1010].entries()) await report({ branch: 'window', start_time: at(7 - i * 0.1), results: [bmf({ w: v })] });
    for (const [i, v] of [10, 12, 14].entries()) await report({ branch: 'window', start_time: at(0.5 - i * 0.1), results: [bmf({ w: v })] });

    const windowed = await report({ branch: 'window', thresholds: [{ measure: 'latency', test: 'percentage', upper_boundary: 0.5, window: 86400 }], results: [bmf({ w: 12 })] });
    expect(result(windowed, 'w').boundary!.baseline).toBe(12);
    const newest = await report({ branch: 'window', thresholds: [{ measure: 'latency', test: 'percentage', upper_boundary: 0.5, max_sample_size: 2 }], results: [bmf({ w: 12 })] });
    expect(result(newest, 'w').boundary!.baseline).toBe(13); // 14 and the 12 just before
    const all = await report({ branch: 'window', thresholds: [{ measure: 'latency', test: 'percentage', upper_boundary: 0.5 }], results: [bmf({ w: 12 })] });
    expect(result(all, 'w').boundary!.baseline).toBeCloseTo((1000 + 1010 + 10 + 12 + 14 + 12 + 12) / 7, 9);

    await report({ branch: 'window', thresholds: [{ measure: 'throughput', test: 'static', lower_boundary: 1 }], results: [bmf({ w: 12 })] });
    expect((await stack.request<ThresholdView[]>('GET', `${base}/thresholds?branch=window`)).body.map((t) => t.measure).sort()).toEqual(['latency', 'throughput']);
    const reset = await report({ branch: 'window', thresholds: [{ measure: 'throughput', test: 'static', lower_boundary: 1 }], thresholds_reset: true, results: [bmf({ w: 12 })] });
    expect((await stack.request<ThresholdView[]>('GET', `${base}/thresholds?branch=window`)).body.map((t) => t.measure)).toEqual(['throughput']);
    expect(result(reset, 'w').boundary).toBeNull();
  });

  it('lets only members write thresholds and see run options; the OpenAPI document lists the new endpoints', async () => {
    const outsider = await stack.tenant('outsider', { plan: 'team' });
    const refused = await stack.request('POST', `${base}/thresholds`, { branch: 'main', testbed: 'ci', measure: 'latency', test: 'static', upper_boundary: 1 }, outsider.token);
    // The stack's project is private: to an outsider it does not exist.
    expect(refused.status).toBe(404);
    // A public project's reports are readable by anyone, their run options (a local command line) by members only.
    const open = await stack.tenant('open', { plan: 'team' });
    const submitted = await stack.request<ReportView>('POST', `/v0/projects/${open.project}/reports`, { branch: 'main', testbed: 'ci', adapter: 'json', command: 'bench --secret', results: [bmf({ o: 1 })] }, open.token);
    expect(submitted.body.settings).toMatchObject({ command: 'bench --secret' });
    const anonymous = await stack.request<ReportView>('GET', `/v0/projects/${open.project}/reports/${submitted.body.uuid}`, undefined, null);
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.results).toHaveLength(1);
    expect(anonymous.body).not.toHaveProperty('settings');
    const asMember = await stack.request<ReportView>('GET', `/v0/projects/${open.project}/reports/${submitted.body.uuid}`, undefined, open.token);
    expect(asMember.body.settings).toMatchObject({ command: 'bench --secret' });

    const doc = await stack.request<{ paths: Record<string, unknown> }>('GET', '/v0/openapi.json');
    for (const path of ['/v0/projects/{project}/reports', '/v0/projects/{project}/thresholds', '/v0/projects/{project}/thresholds/{threshold}', '/v0/projects/{project}/alerts', '/v0/projects/{project}/alerts/{alert}', '/v0/projects/{project}/change-points', '/v0/projects/{project}/metrics']) {
      expect(doc.body.paths).toHaveProperty([path]);
    }
  });
});
