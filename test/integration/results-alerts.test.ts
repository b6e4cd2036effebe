import type { AlertView, JobView, MetricPoint, ReportView, RunAccepted, ThresholdView } from '../../common/schemas';
import { Stack } from '../harness/stack';

/**
 * Thresholds and alerts on real jobs: an image whose benchmark prints the latency it is given as its
 * argument, run again and again on main through POST /v0/run, the runner and processResults.
 */
describe('results: thresholds and alerts on image runs', () => {
  let stack: Stack;
  let image: string;
  const thresholds = [{ measure: 'latency', test: 't_test', upper_boundary: 0.99 }];

  // Prints one benchmark (named by $NAME) with the latency in $1, and its _bencher_ignore twin.
  const BENCH_SH = `#!/bin/sh
name="\${NAME:-parse}"
printf '{"%s": {"latency": {"value": %s}}, "%s_bencher_ignore": {"latency": {"value": %s}}}\\n' "$name" "$1" "$name" "$1"
`;

  beforeAll(async () => {
    stack = await Stack.start();
    await stack.startRunner();
    image = await stack.pushImage('latency', { entrypoint: ['/bench.sh'], files: { '/bench.sh': BENCH_SH } });
  });
  afterAll(() => stack?.stop());

  async function run(body: Record<string, unknown>): Promise<{ job: JobView; report: ReportView }> {
    const response = await stack.request<RunAccepted>('POST', '/v0/run', { project: stack.project.slug, branch: 'main', testbed: 'ci', adapter: 'json', ...body });
    if (response.status !== 202) throw new Error(`run: HTTP ${response.status} ${JSON.stringify(response.body)}`);
    const job = await stack.waitForJob(response.body.job);
    return { job, report: await stack.report(response.body.report) };
  }
  const result = (r: ReportView, benchmark: string, measure = 'latency') => r.results.find((m) => m.benchmark === benchmark && m.measure === measure)!;

  const noise = [100, 101.5, 98.7, 100.9, 99.4, 100.3];
  const regression = 135;
  const reports: ReportView[] = [];
  let regressed: ReportView;

  it('creates the thresholds given on the run; noise stays inside the boundary, a regression alerts', async () => {
    for (const value of noise) {
      const { job, report } = await run({ thresholds, job: { image, cmd: [String(value)] } });
      expect(job.status).toBe('processed');
      reports.push(report);
    }
    const created = await stack.request<ThresholdView[]>('GET', `/v0/projects/${stack.project.slug}/thresholds?branch=main&testbed=ci`);
    expect(created.body).toEqual([expect.objectContaining({ measure: 'latency', model: expect.objectContaining({ test: 't_test', upper_boundary: 0.99, replaced: null }) })]);
    // Repeating the same thresholds on every run kept one model.
    const detail = await stack.request<{ models: unknown[] }>('GET', `/v0/projects/${stack.project.slug}/thresholds/${created.body[0].uuid}`);
    expect(detail.body.models).toHaveLength(1);

    // t_test needs two samples: the first two runs are judged by nothing yet.
    expect(result(reports[0], 'parse').boundary).toMatchObject({ skipped: 'only 0 samples, t_test needs 2', upper_limit: null });
    expect(result(reports[1], 'parse').boundary!.skipped).toBe('only 1 samples, t_test needs 2');
    for (const [i, report] of reports.entries()) {
      expect(report.alerts).toEqual([]);
      if (i < 2) continue;
      const judged = result(report, 'parse');
      expect(judged.boundary!.upper_limit!).toBeGreaterThan(judged.value);
      expect(judged.boundary!.lower_limit).toBeNull();
      expect(judged.boundary!.baseline).toBeCloseTo(noise.slice(0, i).reduce((a, b) => a + b) / i, 9);
    }

    const { job, report } = await run({ thresholds, job: { image, cmd: [String(regression)] } });
    regressed = report;
    expect(job.status).toBe('processed');
    const judged = result(report, 'parse');
    expect(judged.boundary!.upper_limit!).toBeLessThan(110);
    expect(judged.change_percent).toBeCloseTo((regression / judged.boundary!.baseline! - 1) * 100, 9);
    expect(judged.alerts).toEqual([{ uuid: expect.any(String), side: 'upper', status: 'active', limit: judged.boundary!.upper_limit, value: regression }]);
    // The ignored twin crossed the same limit, and is stored with its boundary, but never alerts.
    const ignored = result(report, 'parse_bencher_ignore');
    expect(ignored.boundary!.upper_limit!).toBeLessThan(regression);
    expect(ignored.alerts).toEqual([]);
    expect(report.alerts).toEqual([expect.objectContaining({ benchmark: 'parse', branch: 'main', testbed: 'ci', side: 'upper', status: 'active', report: report.uuid })]);
    // Stored per report with the spec and image digest it ran on.
    expect(report.spec).toBe(stack.spec.slug);
    expect(report.image_digest).toBe(job.image_digest);
    expect(report.settings).toMatchObject({ thresholds });
  });

  it('returns the series with its boundaries and alert for a plot', async () => {
    const path = `/v0/projects/${stack.project.slug}/metrics?benchmark=parse&measure=latency&branch=main&testbed=ci`;
    const { body: points } = await stack.request<MetricPoint[]>('GET', path);
    expect(points.map((p) => p.value)).toEqual([...noise, regression]);
    expect(points.map((p) => p.report)).toEqual([...reports, regressed].map((r) => r.uuid));
    expect(points.every((p) => p.job !== null && p.branch === 'main')).toBe(true);
    expect(points.slice(0, 2).map((p) => p.boundary!.upper_limit)).toEqual([null, null]);
    for (const [i, p] of points.entries()) {
      if (i >= 2) expect(p.boundary!.upper_limit).toBe(result([...reports, regressed][i], 'parse').boundary!.upper_limit);
      expect(p.alert === null).toBe(i < noise.length);
    }
    expect(points[noise.length].alert).toMatchObject({ side: 'upper', status: 'active' });

    const page = await fetch(`${stack.apiUrl}${path}&per_page=2&page=2`, { headers: { authorization: `Bearer ${stack.userToken}` } });
    expect(page.headers.get('x-total-count')).toBe(String(noise.length + 1));
    expect(((await page.json()) as MetricPoint[]).map((p) => p.value)).toEqual(noise.slice(2, 4));
    expect((await stack.request('GET', path.replace('benchmark=parse', 'benchmark=nope'))).status).toBe(404);
  });

  it('dismisses an alert, and lists alerts by status', async () => {
    const alerts = `/v0/projects/${stack.project.slug}/alerts`;
    const active = await stack.request<AlertView[]>('GET', `${alerts}?status=active`);
    expect(active.body.map((a) => a.report)).toEqual([regressed.uuid]);
    const [alert] = active.body;

    const badStatus = await stack.request<{ message: string }>('PATCH', `${alerts}/${alert.uuid}`, { status: 'gone' });
    expect(badStatus.status).toBe(400);
    expect(badStatus.body.message).toMatch(/^body\.status: /);

    const dismissed = await stack.request<AlertView>('PATCH', `${alerts}/${alert.uuid}`, { status: 'dismissed' });
    expect(dismissed.status).toBe(200);
    expect(dismissed.body).toMatchObject({ uuid: alert.uuid, status: 'dismissed' });
    expect(Date.parse(dismissed.body.modified)).toBeGreaterThanOrEqual(Date.parse(alert.modified));
    expect((await stack.request<AlertView[]>('GET', `${alerts}?status=active`)).body).toEqual([]);
    const listed = await fetch(`${stack.apiUrl}${alerts}?status=dismissed&status=silenced`, { headers: { authorization: `Bearer ${stack.userToken}` } });
    expect(listed.headers.get('x-total-count')).toBe('1');
    expect(((await listed.json()) as AlertView[])[0].uuid).toBe(alert.uuid);
    expect(result(await stack.report(regressed.uuid), 'parse').alerts[0].status).toBe('dismissed');

    // Anonymous callers read nothing of a private project, and nobody but members changes alerts.
    expect((await stack.request('PATCH', `${alerts}/${alert.uuid}`, { status: 'active' }, null)).status).toBe(401);
    const back = await stack.request<AlertView>('PATCH', `${alerts}/${alert.uuid}`, { status: 'active' });
    expect(back.body.status).toBe('active');
  });

  it('takes several output files as iterations, folds them, and measures file size and build time', async () => {
    const script = `#!/bin/sh
i=1; for v in 30 10 20; do printf '{"fold": {"latency": {"value": %s}}}' "$v" > /work/out-$i.json; i=$((i+1)); done
head -c 1234 /dev/zero > /work/artifact.bin
`;
    const multi = await stack.pushImage('multi', { entrypoint: ['/run.sh'], workingDir: '/work', files: { '/run.sh': script, '/work/.keep': '' } });
    const { job, report } = await run({
      fold: 'min',
      file_size: ['artifact.bin'],
      build_time: true,
      job: { image: multi, file_paths: ['out-1.json', 'out-2.json', 'out-3.json'] },
    });
    expect(job.status).toBe('processed');
    expect(result(report, 'fold').value).toBe(10);
    expect(result(report, 'artifact.bin', 'file-size').value).toBe(1234);
    const build = result(report, `${stack.id}/multi`, 'build-time');
    expect(build.units).toBe('seconds (s)');
    expect(build.value).toBeGreaterThan(0);
    expect(build.value).toBeLessThan(60);
    expect(report.results).toHaveLength(3);
  });

  it('applies --average to a harness that reports both', async () => {
    const hyperfine = JSON.stringify({ results: [{ command: 'sleep', mean: 0.003, stddev: 0.0005, median: 0.002, min: 0.001, max: 0.006 }] });
    const img = await stack.pushImage('hyperfine', { entrypoint: ['/bin/cat', '/out.json'], files: { '/out.json': hyperfine } });
    const median = await run({ adapter: 'shell_hyperfine', average: 'median', job: { image: img } });
    expect(result(median.report, 'sleep')).toMatchObject({ value: 2e6, lower_value: 1e6, upper_value: 6e6 });
    const mean = await run({ adapter: 'shell_hyperfine', job: { image: img } });
    expect(result(mean.report, 'sleep').value).toBeCloseTo(3e6, 3);
  });
});
