import type { Page } from 'playwright-core';
import type { PerfData } from '../../common/schemas/perf';
import { ConsoleBrowser } from '../harness/browser';
import { Stack } from '../harness/stack';

/**
 * The perf page's series picker in a real browser (each choice in the URL, the plot's series
 * following it, back and forward through them), a branch's history through its start point, and
 * the hover naming a point's job and version.
 */
describe('web console: perf series picker', () => {
  let stack: Stack;
  let browser: ConsoleBrowser;
  let base: string;
  let job: { job: string; report: string };
  let digest: string;
  const MAIN = [10, 11, 12, 13];
  const FEATURE = [20, 21];

  const post = async (branch: string, value: number, extra: Record<string, unknown> = {}) => {
    const response = await stack.request('POST', `${base}/reports`, {
      branch, testbed: 'ci', adapter: 'json', results: [JSON.stringify({ alpha: { latency: { value } }, beta: { latency: { value: value * 2 } } })], ...extra,
    });
    if (response.status !== 201) throw new Error(`report: HTTP ${response.status} ${JSON.stringify(response.body)}`);
  };

  beforeAll(async () => {
    stack = await Stack.start();
    base = `/v0/projects/${stack.project.slug}`;
    for (const v of MAIN) await post('main', v);
    // The newest point of main/alpha comes from a job: its point has a job and a version (the image digest).
    await stack.startRunner();
    const image = await stack.pushImage('perf-picker', { entrypoint: ['/bin/echo', '{"alpha": {"latency": {"value": 14}}}'] });
    job = await stack.submit({ image });
    const ended = await stack.waitForJob(job.job);
    expect(ended.status).toBe('processed');
    digest = ended.image_digest!;
    // `feature` starts from main now: main's five reports so far are its history before its own two.
    await post('feature', FEATURE[0], { start_point: 'main' });
    await post('feature', FEATURE[1]);
    browser = await ConsoleBrowser.launch(stack.apiUrl, 'console-perf');
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("gives a branch's plot its start point's history before the fork, unless start_point=false", async () => {
    const plot = (extra = '') => stack.request<PerfData>('GET', `${base}/perf?branch=feature&branch=main&testbed=ci&benchmark=alpha&measure=latency${extra}`);
    const { body } = await plot();
    const [feature, main] = body.series;
    expect([feature.branch, main.branch]).toEqual(['feature', 'main']);
    expect(main.values).toEqual([...MAIN, 14]);
    expect(feature.values).toEqual([...MAIN, 14, ...FEATURE]);
    // The shared points are the same reports, listed once.
    expect(feature.reports.slice(0, 5)).toEqual(main.reports);
    expect(body.reports.uuids).toHaveLength(MAIN.length + 1 + FEATURE.length);
    expect(body.reports.jobs[main.reports[4]]).toBe(job.job);
    expect(body.reports.versions[main.reports[4]]).toBe(digest);
    const own = (await plot('&start_point=false')).body;
    expect(own.series.map((s) => s.values)).toEqual([FEATURE, [...MAIN, 14]]);
    expect((await stack.request('GET', `${base}/perf?branch=feature&testbed=ci&benchmark=alpha&measure=latency&start_point=maybe`)).status).toBe(400);
  });

  const series = async (page: Page, n: number) => {
    await page.locator('#plot[data-series]').waitFor();
    await page.waitForFunction(`(document.querySelector('#plot')?.dataset.series ?? '').split('\\n').length === ${n}`);
    return (await page.getAttribute('#plot', 'data-series'))!.split('\n').sort();
  };
  const points = (page: Page) => page.getAttribute('#plot', 'data-points').then(Number);
  /** The plot redrawn with `n` points in all (each redraw sets the count). */
  const drawnPoints = (page: Page, n: number) => page.locator(`#plot[data-points="${n}"]`).waitFor();
  const pick = (page: Page, part: string, name: string) => page.locator(`#pick-${part} input[type=checkbox][value="${name}"]`);

  it('picks series from the project’s lists into the URL; the plot follows, through back and forward', async () => {
    const page = await browser.open(`/projects/${stack.project.slug}/perf`, stack.userToken);
    await page.locator('#series-count', { hasText: '0 series' }).waitFor();
    // Each picker fills from its own list request: wait for both before reading them whole.
    await Promise.all([pick(page, 'branch', 'main').waitFor(), pick(page, 'benchmark', 'beta').waitFor()]);
    expect(await page.locator('#pick-branch input[type=checkbox]').evaluateAll((boxes) => boxes.map((b) => b.getAttribute('value')))).toEqual(['feature', 'main']);
    expect(await page.locator('#pick-benchmark input[type=checkbox]').evaluateAll((boxes) => boxes.map((b) => b.getAttribute('value')))).toEqual(['alpha', 'beta']);
    await pick(page, 'branch', 'main').check();
    await page.waitForURL(/branch=main/);
    await pick(page, 'testbed', 'ci').check();
    await pick(page, 'benchmark', 'alpha').check();
    await pick(page, 'measure', 'latency').check();
    await page.waitForURL(/measure=latency/);
    expect(await series(page, 1)).toEqual(['alpha · latency · main · ci']);
    expect(await points(page)).toBe(MAIN.length + 1);

    // Hover the newest point (the job's): its job and version.
    const over = (await page.locator('#plot .u-over').boundingBox())!;
    await page.mouse.move(over.x + over.width - 2, over.y + over.height / 2);
    await page.locator('#hover', { hasText: `job ${job.job.slice(0, 8)}` }).waitFor();
    expect(await page.textContent('#hover')).toContain(`version ${digest.replace(/^sha256:/, '').slice(0, 12)}`);

    await pick(page, 'benchmark', 'beta').check();
    await page.waitForURL(/benchmark=alpha&benchmark=beta/);
    expect(await series(page, 2)).toEqual(['alpha · latency · main · ci', 'beta · latency · main · ci']);
    await pick(page, 'branch', 'feature').check();
    await page.waitForURL(/branch=main&branch=feature/);
    expect(await series(page, 4)).toEqual(['alpha · latency · feature · ci', 'alpha · latency · main · ci', 'beta · latency · feature · ci', 'beta · latency · main · ci']);
    // main: alpha 5, beta 4; feature: the same through its start point, and its own 2 each.
    await drawnPoints(page, 5 + 4 + 7 + 6);
    expect(await page.inputValue('input[name=benchmark]')).toBe('alpha, beta');
    await browser.shot(page, 'perf-picked');

    // Without start-point history the feature lines hold only their own points.
    await page.uncheck('input[name=start-point]');
    await page.waitForURL(/own=1/);
    await drawnPoints(page, 5 + 4 + 2 + 2);
    await page.goBack();
    await page.waitForURL((url) => !url.search.includes('own=1'));
    await drawnPoints(page, 5 + 4 + 7 + 6);
    await page.goBack();
    await page.waitForURL((url) => !url.search.includes('feature'));
    expect(await series(page, 2)).toEqual(['alpha · latency · main · ci', 'beta · latency · main · ci']);
    expect(await pick(page, 'branch', 'feature').isChecked()).toBe(false);

    // Unticking leaves the URL without it; the list filter narrows what is offered.
    await pick(page, 'benchmark', 'alpha').uncheck();
    await page.waitForURL((url) => url.searchParams.getAll('benchmark').join() === 'beta');
    expect(await series(page, 1)).toEqual(['beta · latency · main · ci']);
    await page.context().close();
  });
});
