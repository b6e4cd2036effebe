import type { Page } from 'playwright-core';
import type { BenchmarkTableRow, PerfData } from '../../common/schemas/perf';
import { ConsoleBrowser } from '../harness/browser';
import { Stack, type Tenant } from '../harness/stack';

/**
 * The web console in a real browser, served by the api it reads, on a private project with a known
 * alert: sign-in and visibility, the benchmarks table (sorting and paging on the server), the perf
 * plot (boundary band and alert marker drawn), its URL state through back and forward, and the
 * endpoints behind them. A screenshot of each page is kept under the run's scratch folder (artifacts/).
 */
describe('web console', () => {
  let stack: Stack;
  let browser: ConsoleBrowser;
  let publicTenant: Tenant;
  let base: string;
  const BENCHMARKS = 60;
  const STEP = [100.3, 99.2, 100.9, 99.7, 100.4, 99.6, 100.1, 100.2, 99.8, 100.5, 99.9, 160];
  // Shifts by 30 % half way: a change point at its seventh report.
  const SHIFT = [100.3, 99.2, 100.9, 99.7, 100.4, 99.6, 130.1, 129.2, 130.8, 129.5, 130.3, 129.9];
  const SERIES = BENCHMARKS + 2;

  beforeAll(async () => {
    stack = await Stack.start();
    base = `/v0/projects/${stack.project.slug}`;
    publicTenant = await stack.tenant('public', { plan: 'team' });
    // Sixty benchmarks whose values rank them by number; `step`, which jumps in the last report (the
    // t-test threshold raises an upper alert there); and `shift`, whose level moves half way.
    for (const [i, step] of STEP.entries()) {
      const bmf: Record<string, { latency: { value: number } }> = { step: { latency: { value: step } }, shift: { latency: { value: SHIFT[i] } } };
      for (let b = 0; b < BENCHMARKS; b++) bmf[`bench-${String(b).padStart(3, '0')}`] = { latency: { value: 1000 + b * 10 + (i % 3) } };
      const response = await stack.request('POST', `${base}/reports`, {
        branch: 'main', testbed: 'ci', adapter: 'json', results: [JSON.stringify(bmf)],
        thresholds: [{ measure: 'latency', test: 't_test', upper_boundary: 0.99 }],
      });
      if (response.status !== 201) throw new Error(`report: HTTP ${response.status} ${JSON.stringify(response.body)}`);
    }
    browser = await ConsoleBrowser.launch(stack.apiUrl, 'console');
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  const open = (path: string, token?: string) => browser.open(path, token);
  const firstRow = (page: Page, name: string) => page.locator('#benchmark-table tbody tr:first-child td.name', { hasText: new RegExp(`^${name}$`) }).waitFor();
  const shot = (page: Page, name: string) => browser.shot(page, name);

  describe('endpoints', () => {
    it('pages, sorts and filters the benchmarks table on the server', async () => {
      const first = await fetch(`${stack.apiUrl}${base}/benchmark-table?branch=main&testbed=ci&per_page=25`, { headers: { authorization: `Bearer ${stack.userToken}` } });
      expect(first.headers.get('x-total-count')).toBe(String(SERIES));
      const rows = (await first.json()) as BenchmarkTableRow[];
      expect(rows.map((r) => r.benchmark).slice(0, 2)).toEqual(['bench-000', 'bench-001']);
      expect(rows[0].sparkline).toHaveLength(STEP.length);

      const byValue = await stack.request<BenchmarkTableRow[]>('GET', `${base}/benchmark-table?branch=main&testbed=ci&sort=value&order=desc&per_page=2`);
      expect(byValue.body.map((r) => r.benchmark)).toEqual(['bench-059', 'bench-058']);
      const step = await stack.request<BenchmarkTableRow[]>('GET', `${base}/benchmark-table?branch=main&testbed=ci&q=STEP`);
      expect(step.body).toEqual([
        expect.objectContaining({ benchmark: 'step', measure: 'latency', value: 160, alert: { side: 'upper', status: 'active' }, active_alerts: 1, sparkline: STEP }),
      ]);
      expect(step.body[0].change_percent).toBeGreaterThan(50);
      // A LIKE wildcard in the filter is taken literally.
      expect((await stack.request<BenchmarkTableRow[]>('GET', `${base}/benchmark-table?branch=main&testbed=ci&q=bench_0`)).body).toEqual([]);
      const shift = await stack.request<BenchmarkTableRow[]>('GET', `${base}/benchmark-table?branch=main&testbed=ci&q=shift`);
      const reports = await stack.request<Array<{ uuid: string }>>('GET', `${base}/reports?per_page=${STEP.length}`);
      expect(shift.body[0].change_point).toEqual({ report: reports.body[STEP.length - 1 - 6].uuid, percent_change: expect.closeTo(30, 0) });
      expect(step.body[0].change_point).toBeNull();
      const past = await fetch(`${stack.apiUrl}${base}/benchmark-table?branch=main&testbed=ci&page=9`, { headers: { authorization: `Bearer ${stack.userToken}` } });
      expect([await past.json(), past.headers.get('x-total-count')]).toEqual([[], String(SERIES)]);
    });

    it('gives plot series with limits and alerts by index, their reports listed once, and refuses what names nothing', async () => {
      const plot = await stack.request<PerfData>('GET', `${base}/perf?branch=main&testbed=ci&benchmark=step&benchmark=bench-001&measure=latency`);
      expect(plot.status).toBe(200);
      expect(plot.body.series.map((s) => [s.benchmark, s.values.length, s.total_points])).toEqual([['step', 12, 12], ['bench-001', 12, 12]]);
      // Both series come from the same twelve reports, listed once, oldest first.
      expect(plot.body.reports.uuids).toHaveLength(STEP.length);
      expect(plot.body.reports.times).toEqual([...plot.body.reports.times].sort((a, b) => a - b));
      const [step, other] = plot.body.series;
      expect(other.reports).toEqual(step.reports);
      expect(step.values).toEqual(STEP);
      expect(step.alerts).toEqual([expect.objectContaining({ index: STEP.length - 1, side: 'upper', status: 'active' })]);
      expect(step.upper_limits[STEP.length - 1]).toBeLessThan(160);

      const shifted = await stack.request<PerfData>('GET', `${base}/perf?branch=main&testbed=ci&benchmark=shift&measure=latency`);
      expect(shifted.body.series[0].change_points).toEqual([expect.objectContaining({ index: 6 })]);
      // The same plot as an image at a stable URL: public projects' plots embed in READMEs as they are.
      const svg = await fetch(`${stack.apiUrl}${base}/perf.svg?branch=main&testbed=ci&benchmark=step&measure=latency&width=600`, { headers: { authorization: `Bearer ${stack.userToken}` } });
      expect([svg.status, svg.headers.get('content-type')]).toEqual([200, expect.stringContaining('image/svg+xml')]);
      const image = await svg.text();
      expect(image.match(/class="alert"/g)).toHaveLength(1);
      expect(image).toContain('class="band"');
      expect((await fetch(`${stack.apiUrl}${base}/perf.svg?branch=main&testbed=ci&benchmark=step&measure=latency`)).status).toBe(404);
      const bad = await stack.request<{ message: string }>('GET', `${base}/perf?branch=main&testbed=ci&benchmark=nope&measure=latency`);
      expect(bad.status).toBe(400);
      expect(bad.body.message).toContain('querystring.benchmark');
      const many = Array.from({ length: 65 }, (_, i) => `benchmark=b${i}`).join('&');
      expect((await stack.request('GET', `${base}/perf?branch=main&testbed=ci&${many}&measure=latency`)).status).toBe(400);
    });

    it('hides a private project from outsiders and lists reports with their alert counts', async () => {
      const anonymous = await stack.request<Array<{ slug: string }>>('GET', '/v0/projects?per_page=255', undefined, null);
      expect(anonymous.body.map((p) => p.slug)).toContain(publicTenant.project);
      expect(anonymous.body.map((p) => p.slug)).not.toContain(stack.project.slug);
      expect((await stack.request('GET', `${base}/benchmark-table?branch=main&testbed=ci`, undefined, null)).status).toBe(404);
      expect((await stack.request('GET', `${base}/perf?branch=main&testbed=ci&benchmark=step&measure=latency`, undefined, null)).status).toBe(404);
      expect((await stack.request('GET', `${base}/reports`, undefined, null)).status).toBe(404);
      const reports = await stack.request<Array<{ metrics: number; active_alerts: number }>>('GET', `${base}/reports?per_page=2`);
      expect(reports.body.map((r) => [r.metrics, r.active_alerts])).toEqual([[SERIES, 1], [SERIES, 0]]);
    });

    it('serves the console at / and its client routes, outside the API and its document', async () => {
      for (const path of ['/', `/projects/${stack.project.slug}/perf?benchmark=x`]) {
        const page = await fetch(`${stack.apiUrl}${path}`);
        expect([page.status, page.headers.get('content-type')]).toEqual([200, expect.stringContaining('text/html')]);
        expect(await page.text()).toContain('<div id="app">');
      }
      const html = await (await fetch(`${stack.apiUrl}/`)).text();
      const asset = html.match(/\/assets\/[^"]+\.js/)![0];
      expect((await fetch(`${stack.apiUrl}${asset}`)).status).toBe(200);
      expect((await fetch(`${stack.apiUrl}/assets/missing.js`)).status).toBe(404);
      const unknown = await fetch(`${stack.apiUrl}/v0/no-such-route`);
      expect([unknown.status, await unknown.json()]).toEqual([404, expect.objectContaining({ error: 'not_found' })]);
      const post = await fetch(`${stack.apiUrl}/`, { method: 'POST' });
      expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
      const document = (await (await fetch(`${stack.apiUrl}/v0/openapi.json`)).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(document.paths).filter((p) => p === '/' || p.startsWith('/projects') || p.startsWith('/assets'))).toEqual([]);
      expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/v0/projects/{project}/benchmark-table', '/v0/projects/{project}/perf', '/v0/projects/{project}/perf.svg', '/v0/projects']));
    });
  });

  describe('in chromium', () => {
    it('shows a private project only after signing in with a token of its organization', async () => {
      const page = await open('/');
      await page.locator(`#projects tr[data-project="${publicTenant.project}"]`).waitFor();
      expect(await page.locator(`#projects tr[data-project="${stack.project.slug}"]`).count()).toBe(0);
      await page.goto(`${stack.apiUrl}/projects/${stack.project.slug}`);
      await page.getByText('Not found').waitFor();
      await shot(page, 'project-hidden');

      await page.goto(`${stack.apiUrl}/`);
      await page.fill('input[name=token]', stack.userToken);
      await page.click('.signin button');
      await page.locator(`#projects tr[data-project="${stack.project.slug}"]`).waitFor();
      await shot(page, 'home');
      await page.click(`#projects tr[data-project="${stack.project.slug}"] a`);
      await page.locator('#reports tbody tr').first().waitFor();
      expect(await page.locator('#reports tbody tr').count()).toBe(STEP.length);
      expect(await page.locator('#reports tbody tr td.alerting').first().textContent()).toBe('1');
      expect(await page.locator('#branches li').allTextContents()).toEqual([expect.stringContaining('main')]);
      await shot(page, 'project');
      await page.context().close();
    });

    it('sorts and pages the benchmarks table, and a row opens its plot', async () => {
      const page = await open(`/projects/${stack.project.slug}/benchmarks?branch=main&testbed=ci`, stack.userToken);
      const names = () => page.locator('#benchmark-table tbody td.name').allTextContents();
      await page.locator('#benchmark-table tbody tr').first().waitFor();
      expect((await names()).slice(0, 2)).toEqual(['bench-000', 'bench-001']);
      expect(await page.textContent('#page')).toBe('page 1 of 2');

      await page.click('th[data-sort=value] a');
      await page.waitForURL(/sort=value/);
      await firstRow(page, 'shift');
      await page.click('th[data-sort=value] a');
      await page.waitForURL(/order=desc/);
      await firstRow(page, 'bench-059');
      await page.click('a[rel=next]');
      await page.locator('#page', { hasText: 'page 2 of 2' }).waitFor();
      expect(await names()).toEqual(['bench-009', 'bench-008', 'bench-007', 'bench-006', 'bench-005', 'bench-004', 'bench-003', 'bench-002', 'bench-001', 'bench-000', 'step', 'shift']);
      await shot(page, 'benchmarks');

      await page.goto(`${stack.apiUrl}/projects/${stack.project.slug}/benchmarks?branch=main&testbed=ci&q=step`);
      await page.locator('#benchmark-table tbody tr.alerting').click();
      await page.waitForURL(/\/perf\?.*benchmark=step/);
      await page.locator('#plot[data-alert-markers]').waitFor();
      await page.context().close();
    });

    it('draws the plot with a boundary band and an alert marker, keeps its state in the URL, and opens the report', async () => {
      const path = `/projects/${stack.project.slug}/perf?branch=main&testbed=ci&benchmark=step&measure=latency`;
      const page = await open(path, stack.userToken);
      const plot = page.locator('#plot[data-alert-markers]');
      await plot.waitFor();
      expect(await plot.getAttribute('data-alert-markers')).toBe('1');
      expect(await plot.getAttribute('data-bands')).toBe('1');
      expect(await plot.getAttribute('data-points')).toBe(String(STEP.length));
      await shot(page, 'perf');

      // Log axis on, then back and forward through history: the URL holds the state.
      await page.check('input[name=log]');
      await page.waitForURL(/log=1/);
      await page.goBack();
      await page.waitForURL((url) => !url.search.includes('log=1'));
      expect(await page.isChecked('input[name=log]')).toBe(false);
      await page.goForward();
      await page.waitForURL(/log=1/);
      expect(await page.isChecked('input[name=log]')).toBe(true);
      // The same URL in a fresh page restores the whole view.
      const shared = await open(page.url().replace(stack.apiUrl, ''), stack.userToken);
      await shared.locator('#plot[data-alert-markers="1"]').waitFor();
      expect(await shared.isChecked('input[name=log]')).toBe(true);
      expect(await shared.inputValue('input[name=benchmark]')).toBe('step');
      await shared.context().close();

      // Hover the newest point (the right edge of the time axis): its details; click: its report.
      const over = (await page.locator('#plot .u-over').boundingBox())!;
      await page.mouse.move(over.x + over.width - 2, over.y + over.height / 2);
      await page.getByText('alert: upper').waitFor();
      expect(await page.textContent('#hover')).toContain('160');
      await page.mouse.click(over.x + over.width - 2, over.y + over.height / 2);
      await page.waitForURL(/\/reports\//);
      await page.locator('#report-results tr.alerting').waitFor();
      expect(await page.locator('#report-results tr.alerting td.name').textContent()).toBe('step');
      await shot(page, 'report');
      await page.context().close();
    });

    it("shows a job's report with its phases, outputs, execution facts and Temporal link", async () => {
      await stack.startRunner();
      const image = await stack.pushImage('console-bench', { entrypoint: ['/bench.sh'], files: { '/bench.sh': `#!/bin/sh\necho '{"parse": {"latency": {"value": 42}}}'\necho 'to stderr' >&2\n` } });
      const { job, report } = await stack.submit({ image });
      expect((await stack.waitForJob(job)).status).toBe('processed');
      const page = await open(`/projects/${stack.project.slug}/reports/${report}`, stack.userToken);
      await page.locator('#job .status-processed').waitFor();
      expect(await page.getAttribute('#job a[target=_blank]', 'href')).toContain(`job-${job}`);
      expect(await page.textContent('#report-results td.name')).toBe('parse');
      await page.click('#job .outputs button:has-text("stderr")');
      await page.locator('#job pre.output', { hasText: 'to stderr' }).waitFor();
      expect(await page.locator('#job table.facts th').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/^host\.tuning\./)]));
      await shot(page, 'report-job');
      await page.context().close();
    });

    it('lists jobs with live status: a job canceled from the console ends canceled, seen without a reload', async () => {
      await stack.startRunner();
      const image = await stack.pushImage('console-long', { entrypoint: ['/bin/sleep', '613'] });
      const { job } = await stack.submit({ image });
      await stack.waitForJob(job, (j) => j.status === 'running');
      // Reached from the project home's link, as a visitor would.
      const page = await open(`/projects/${stack.project.slug}`, stack.userToken);
      await page.click('#all-jobs');
      await page.waitForURL(/\/jobs$/);
      const row = page.locator(`#jobs tr[data-job="${job}"]`);
      await row.locator('td.status', { hasText: 'running' }).waitFor();
      await shot(page, 'jobs');

      // A marker on the window survives only if the page is never reloaded.
      await page.evaluate(() => Object.assign(globalThis, { stillThisPage: true }));
      await row.locator('button.cancel').click();
      await row.locator('td.status', { hasText: 'canceled' }).waitFor();
      expect(await page.evaluate(() => (globalThis as { stillThisPage?: boolean }).stillThisPage)).toBe(true);
      expect(await row.locator('button.cancel').count()).toBe(0);
      expect((await stack.waitForJob(job)).status).toBe('canceled');
      await shot(page, 'jobs-canceled');

      // Its detail: the phases it went through, with their times.
      await row.locator('td a').first().click();
      await page.waitForURL(new RegExp(`/jobs/${job}$`));
      await page.locator('#job .status-canceled').waitFor();
      const phases = await page.locator('#job .phase').allTextContents();
      expect(phases.map((p) => p.split(' ')[0])).toEqual(expect.arrayContaining(['created', 'claimed', 'started', 'finished']));
      await shot(page, 'job');
      await page.context().close();
    });
  });
});
