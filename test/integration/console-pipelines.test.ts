import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { CriticalPathView, PipelineView } from '../../common/schemas/pipelines';
import { ConsoleBrowser } from '../harness/browser';
import { Stack } from '../harness/stack';

/**
 * The console's pipeline pages in a real browser against the real services: the project's list,
 * the DAG drawn from the submitted graph (nodes, edges, the critical path marked), a node's status
 * followed live without a reload, a node opening its job, and the pause / resume / cancel controls.
 */
describe('web console: pipelines', () => {
  let stack: Stack;
  let browser: ConsoleBrowser;
  let fast: string;
  let slow: string;

  beforeAll(async () => {
    stack = await Stack.start();
    await stack.startRunner();
    await stack.startRunner();
    [fast, slow] = await Promise.all([
      stack.pushImage('dag-fast', { entrypoint: ['/bin/echo', '{"b": {"latency": {"value": 1}}}'] }),
      // Long enough for the page (polling every 1.5 s) to see it running, short enough to wait for its end.
      stack.pushImage('dag-slow', { entrypoint: ['/bin/sh', '-c', `sleep 12; echo '{"b": {"latency": {"value": 12}}}'`] }),
    ]);
    browser = await ConsoleBrowser.launch(stack.apiUrl, 'console-pipelines');
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  type Job = { key: string; image: string; needs?: { job: string; requires_success?: boolean }[] };
  const submit = async (jobs: Job[], extra: Record<string, unknown> = {}) => {
    const response = await stack.request<PipelineView>('POST', '/v0/pipelines', {
      project: stack.project.slug,
      ...extra,
      jobs: jobs.map((j) => ({ key: j.key, branch: 'main', testbed: 'ci', adapter: 'json', job: { image: j.image }, needs: j.needs ?? [] })),
    });
    if (response.status !== 202) throw new Error(`pipeline: HTTP ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  };
  const pipelinePath = (id: string) => `/projects/${stack.project.slug}/pipelines/${id}`;
  const nodeKeys = (page: Page, selector = '#dag g.node') => page.locator(selector).evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-job')).sort());
  const edgePairs = (page: Page, selector = '#dag path.edge') =>
    page.locator(selector).evaluateAll((edges) => edges.map((e) => [e.getAttribute('data-from'), e.getAttribute('data-to')]).sort());

  it('lists the pipeline, draws its DAG, follows a running node to its end live, marks the critical path, and a node opens its job', async () => {
    // a → b (slow) → d, a → c → d (d needs c only to end), e on its own: a → b → d sets the wall time.
    const jobs: Job[] = [
      { key: 'a', image: fast },
      { key: 'b', image: slow, needs: [{ job: 'a' }] },
      { key: 'c', image: fast, needs: [{ job: 'a' }] },
      { key: 'd', image: fast, needs: [{ job: 'b' }, { job: 'c', requires_success: false }] },
      { key: 'e', image: fast },
    ];
    const pipeline = await submit(jobs);

    const page = await browser.open(`/projects/${stack.project.slug}`, stack.userToken);
    await page.click('#project-nav a:has-text("pipelines")');
    await page.waitForURL(/\/pipelines$/);
    const row = page.locator(`#pipelines tr[data-pipeline="${pipeline.uuid}"]`);
    await row.waitFor();
    expect(await row.locator('td').nth(2).textContent()).toBe('5');
    await browser.shot(page, 'pipelines');
    await row.locator('a').click();
    await page.waitForURL(new RegExp(`/pipelines/${pipeline.uuid}$`));

    // The drawing is the submitted graph: a node per job, an edge per need from the need to the job.
    await page.locator('#dag').waitFor();
    expect(await nodeKeys(page)).toEqual(jobs.map((j) => j.key).sort());
    expect(await edgePairs(page)).toEqual(jobs.flatMap((j) => (j.needs ?? []).map((n) => [n.job, j.key])).sort());
    expect(await edgePairs(page, '#dag path.edge.soft')).toEqual([['c', 'd']]);
    // Laid out left to right: each job right of what it needs.
    const x = async (key: string) => (await page.locator(`#dag g.node[data-job="${key}"]`).boundingBox())!.x;
    expect(await x('a')).toBeLessThan(await x('b'));
    expect(await x('b')).toBeLessThan(await x('d'));

    // Live: the slow job's node turns running, then processed, on the same page (a marker on the window survives only without a reload).
    await page.evaluate(() => Object.assign(globalThis, { stillThisPage: true }));
    await page.locator('#dag g.node[data-job="b"][data-status="running"]').waitFor({ timeout: 60000 });
    await browser.shot(page, 'pipeline-running');
    await page.locator('#dag g.node[data-job="b"][data-status="processed"]').waitFor({ timeout: 60000 });
    await page.locator('#pipeline-status', { hasText: 'succeeded' }).waitFor({ timeout: 60000 });
    expect(await page.evaluate(() => (globalThis as { stillThisPage?: boolean }).stillThisPage)).toBe(true);
    expect(await page.locator('#dag g.node[data-status="processed"]').count()).toBe(jobs.length);
    // No controls on an ended pipeline.
    expect(await page.locator('#pipeline-page .controls button').count()).toBe(0);

    // The critical path as the API computed it for the ended pipeline, marked on its nodes and the edges between them.
    const critical = (await stack.request<CriticalPathView>('GET', `/v0/pipelines/${pipeline.uuid}/critical-path`)).body;
    expect(critical.path.map((j) => j.key)).toEqual(['a', 'b', 'd']);
    await page.locator('#critical-path', { hasText: 'a → b → d' }).waitFor();
    expect(await nodeKeys(page, '#dag g.node[data-critical="true"]')).toEqual(['a', 'b', 'd']);
    expect(await edgePairs(page, '#dag path.edge[data-critical="true"]')).toEqual([['a', 'b'], ['b', 'd']]);
    await browser.shot(page, 'pipeline');

    // A node opens its job.
    await page.click('#dag g.node[data-job="b"]');
    await page.waitForURL(new RegExp(`/jobs/${pipeline.jobs.find((j) => j.key === 'b')!.uuid}$`));
    await page.locator('#job .status-processed').waitFor();
    await page.context().close();
  });

  it('pauses, resumes and cancels a pipeline from its page; an outsider sees nothing', async () => {
    // Held by a start_after a minute away: it stays running (its jobs scheduled) until canceled.
    const pipeline = await submit([{ key: 'x', image: fast }, { key: 'y', image: fast, needs: [{ job: 'x' }] }], { start_after: new Date(Date.now() + 60000).toISOString() });
    const page = await browser.open(pipelinePath(pipeline.uuid), stack.userToken);
    await page.locator('#dag g.node[data-job="x"][data-status="scheduled"]').waitFor();
    await page.click('#pipeline-page button.pause');
    await page.locator('#pipeline-status', { hasText: 'paused' }).waitFor();
    expect((await stack.request<PipelineView>('GET', `/v0/pipelines/${pipeline.uuid}`)).body.paused).not.toBeNull();
    await browser.shot(page, 'pipeline-paused');
    await page.click('#pipeline-page button.resume');
    await page.locator('#pipeline-page button.pause').waitFor();
    expect(await page.textContent('#pipeline-status')).toBe('running');
    await page.click('#pipeline-page button.cancel');
    await page.locator('#pipeline-status', { hasText: 'canceled' }).waitFor({ timeout: 60000 });
    await page.locator('#dag g.node[data-job="y"][data-status="canceled"]').waitFor({ timeout: 60000 });
    expect(await page.locator('#pipeline-page .controls button').count()).toBe(0);
    await browser.shot(page, 'pipeline-canceled');
    await page.context().close();

    // The project is private: without a token its pipelines are not found, as the API answers.
    const outsider = await browser.open(pipelinePath(pipeline.uuid));
    await outsider.getByText('Not found').waitFor();
    await outsider.goto(`${stack.apiUrl}/projects/${stack.project.slug}/pipelines`);
    await outsider.getByText('Not found').waitFor();
    expect(await outsider.locator('#dag').count()).toBe(0);
    await outsider.context().close();
  });

  it('draws a 200-job pipeline whole, and records how long the page took', async () => {
    // Ten jobs a layer, each needing two of the layer before; held scheduled by a start_after, then canceled.
    const jobs: Job[] = Array.from({ length: 200 }, (_, i) => ({
      key: `j${i}`,
      image: fast,
      needs: i < 10 ? [] : [{ job: `j${i - 10}` }, { job: `j${i - 10 + ((i + 1) % 10) - (i % 10)}` }],
    }));
    const pipeline = await submit(jobs, { start_after: new Date(Date.now() + 120000).toISOString() });
    const started = Date.now();
    const page = await browser.open(pipelinePath(pipeline.uuid), stack.userToken);
    await page.locator('#dag[data-nodes="200"]').waitFor({ timeout: 60000 });
    const drawnMs = Date.now() - started;
    expect(await page.getAttribute('#dag', 'data-edges')).toBe(String(jobs.reduce((n, j) => n + j.needs!.length, 0)));
    await browser.shot(page, 'pipeline-200');
    const layoutMs = await page.evaluate(`performance.getEntriesByName('benchline:dag-layout')[0].duration`);
    await writeFile(join(browser.shots, 'pipeline-200.json'), JSON.stringify({ jobs: 200, edges: 380, page_to_dag_ms: drawnMs, layout_ms: layoutMs }));
    await page.context().close();
    expect((await stack.request('POST', `/v0/pipelines/${pipeline.uuid}/cancel`)).status).toBe(202);
  });
});
