import type { Page } from 'playwright-core';
import type { AlertView, JobChanges, JobListItem, RunAccepted } from '../../common/schemas';
import { createRunner } from '../../db/seed';
import { ConsoleBrowser } from '../harness/browser';
import { Stack, type Tenant } from '../harness/stack';

/**
 * The console's live views, in a real browser: the Jobs page kept current from the job-changes
 * endpoint (a job submitted after it loaded appears and runs without a reload or a second list
 * request, queue positions shown while no runner takes the spec's jobs), and the Alerts page
 * (filters, and members' Dismiss reaching the database). Screenshots under artifacts/console-live/.
 */
describe('web console: live jobs and alerts', () => {
  let stack: Stack;
  let browser: ConsoleBrowser;
  let base: string;
  let image: string;
  let outsider: Tenant;

  beforeAll(async () => {
    stack = await Stack.start();
    base = `/v0/projects/${stack.project.slug}`;
    outsider = await stack.tenant('outsider', { plan: 'team' });
    // A runner for the spec that is not polling yet: jobs are accepted and wait in the queue until startRunner.
    await createRunner(stack.db, { slug: `idle-${stack.id}`, specIds: [stack.spec.id], seen: true });
    image = await stack.pushImage('live-bench', { entrypoint: ['/bench.sh'], files: { '/bench.sh': `#!/bin/sh\necho '{"live": {"latency": {"value": 7}}}'\n` } });
    browser = await ConsoleBrowser.launch(stack.apiUrl, 'console-live');
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  const changes = (query: string, token: string | null = stack.userToken) => stack.request<JobChanges>('GET', `${base}/job-changes${query}`, undefined, token);
  /** A job submitted while no runner polls the spec's queue: it waits there once runJob is scheduled. */
  async function queued(): Promise<RunAccepted> {
    const accepted = await stack.submit({ image });
    await stack.waitUntilScheduled(accepted.workflow_id);
    return accepted;
  }

  describe('jobs', () => {
    let first: RunAccepted;
    let second: RunAccepted;

    it('returns only the jobs changed since a cursor, with queue positions, and hides a private project', async () => {
      const start = await changes('');
      expect(start.body).toEqual({ cursor: expect.stringMatching(/^\d+:\d+:/), complete: true, jobs: [], queue_positions: [] });
      first = await queued();
      const afterFirst = (await changes('')).body.cursor;
      second = await queued();

      const since = await changes(`?since=${afterFirst}&queued=${first.job}`);
      expect(since.status).toBe(200);
      // The first job's row did not change after the cursor: only the second comes.
      expect(since.body.jobs.map((j) => [j.uuid, j.status, j.queue_position])).toEqual([[second.job, 'pending', 1]]);
      expect(since.body.queue_positions).toEqual(expect.arrayContaining([{ job: first.job, position: 0 }, { job: second.job, position: 1 }]));
      expect(since.body.queue_positions).toHaveLength(2);
      // Nothing changed since: nothing comes (a cursor is exact, not "at least").
      expect((await changes(`?since=${since.body.cursor}`)).body.jobs).toEqual([]);
      // From the start, both.
      expect((await changes(`?since=${start.body.cursor}`)).body.jobs.map((j) => j.uuid).sort()).toEqual([first.job, second.job].sort());

      // The list shows the same positions, found for the whole page at once.
      const list = await stack.request<JobListItem[]>('GET', `${base}/jobs`);
      expect(list.body.map((j) => [j.uuid, j.queue_position])).toEqual([[second.job, 1], [first.job, 0]]);

      // Another project's job is no business of this one's: asked for, it is left out.
      const theirs = await stack.submitAs(outsider, { image });
      expect((await changes(`?since=${start.body.cursor}&queued=${theirs.body.job}`)).body.queue_positions.map((p) => p.job)).not.toContain(theirs.body.job);
      // Private: not found for the anonymous and for another organization's member, like a missing project.
      expect((await changes('', null)).status).toBe(404);
      expect((await changes('', outsider.token)).status).toBe(404);
      expect((await stack.request('GET', '/v0/projects/no-such-project/job-changes', undefined, null)).status).toBe(404);
      // Not a snapshot Postgres would read (xmax below xmin, an in-progress id outside them, out of order, NUL): refused, never a failed query.
      for (const bad of ['abc', '-1', '1%00', '5:4:', '0:4:', '5:9:10', '5:9:7,6', '5:9:6%00', '99999999999999999999:1:']) {
        const refused = await stack.request<{ message: string }>('GET', `${base}/job-changes?since=${bad}`);
        expect([refused.status, refused.body.message]).toEqual([400, expect.stringContaining('since')]);
      }
    });

    it('shows a job submitted after the page loaded, its queue position, and its run, without a reload or another list request', async () => {
      const listRequests: string[] = [];
      const changeRequests: string[] = [];
      const page = await browser.open(`/projects/${stack.project.slug}/jobs`, stack.userToken, (r) => {
        const { pathname } = new URL(r.url());
        if (pathname === `${base}/jobs`) listRequests.push(r.url());
        if (pathname === `${base}/job-changes`) changeRequests.push(r.url());
      });
      const row = (job: string) => page.locator(`#jobs tr[data-job="${job}"]`);
      await row(first.job).locator('td.queue-position', { hasText: /^0$/ }).waitFor();
      await row(second.job).locator('td.queue-position', { hasText: /^1$/ }).waitFor();
      await page.evaluate(() => Object.assign(globalThis, { stillThisPage: true }));

      // Behind the two, and the other project's job on the same spec (a queue is the spec's, across projects).
      const third = await stack.submit({ image });
      await row(third.job).locator('td.queue-position', { hasText: /^3$/ }).waitFor({ timeout: 60000 });
      expect(await row(third.job).locator('td.status').textContent()).toBe('pending');
      expect(await page.locator('#jobs tbody tr').first().getAttribute('data-job')).toBe(third.job);
      await browser.shot(page, 'jobs-queued');

      // Its detail, live too: queued, then run.
      const detail = await browser.open(`/projects/${stack.project.slug}/jobs/${third.job}`, stack.userToken);
      await detail.locator('#queue-position', { hasText: /^3$/ }).waitFor();
      await browser.shot(detail, 'job-queued');

      await stack.startRunner();
      for (const job of [first.job, second.job, third.job]) await row(job).locator('td.status', { hasText: 'processed' }).waitFor({ timeout: 90000 });
      await detail.locator('#job .status-processed').waitFor({ timeout: 30000 });
      expect(await detail.locator('#queue-position').count()).toBe(0);
      expect(await row(third.job).locator('td.queue-position').textContent()).toBe('');
      await browser.shot(page, 'jobs-processed');

      expect(await page.evaluate(() => (globalThis as { stillThisPage?: boolean }).stillThisPage)).toBe(true);
      // One list request, the page's first load: everything since came from job-changes.
      expect(listRequests).toEqual([expect.stringContaining('page=1')]);
      expect(changeRequests.length).toBeGreaterThan(1);
      await detail.context().close();
      await page.context().close();
    });
  });

  describe('alerts', () => {
    let open: Tenant;
    let project: string;
    // Both series jump in the last report: the t-test raises an upper alert on each.
    const STEADY = [100.3, 99.2, 100.9, 99.7, 100.4, 99.6, 100.1, 100.2, 99.8, 100.5, 99.9];

    beforeAll(async () => {
      // A public project: members act on its alerts, anyone reads them.
      open = await stack.tenant('alerts', { plan: 'team' });
      project = open.project;
      for (const [i, v] of [...STEADY, null].entries()) {
        const bmf = { step: { latency: { value: v ?? 160 } }, jump: { latency: { value: v ?? 170 } } };
        const response = await stack.request('POST', `/v0/projects/${project}/reports`, {
          branch: 'main', testbed: 'ci', adapter: 'json', results: [JSON.stringify(bmf)],
          thresholds: [{ measure: 'latency', test: 't_test', upper_boundary: 0.99 }],
        }, open.token);
        if (response.status !== 201) throw new Error(`report ${i}: HTTP ${response.status} ${JSON.stringify(response.body)}`);
      }
    });

    const rows = (page: Page) => page.locator('#alerts tbody tr');

    it('lists the alerts read-only for the public, and says who is a member', async () => {
      expect((await stack.request<{ member: boolean }>('GET', `/v0/projects/${project}`, undefined, open.token)).body.member).toBe(true);
      expect((await stack.request<{ member: boolean }>('GET', `/v0/projects/${project}`, undefined, null)).body.member).toBe(false);
      const page = await browser.open(`/projects/${project}/alerts`);
      await rows(page).nth(1).waitFor();
      expect((await page.locator('#alerts td.name').allTextContents()).sort()).toEqual(['jump', 'step']);
      expect(await page.locator('#alerts button').count()).toBe(0);
      await browser.shot(page, 'alerts-public');
      await page.context().close();
    });

    it('filters on the server, links each alert to its plot and report, and Dismiss changes it in the database', async () => {
      // Reached from the project's nav, as a member would.
      const page = await browser.open(`/projects/${project}`, open.token!);
      await page.click('#project-nav a:has-text("alerts")');
      await page.waitForURL(/\/alerts$/);
      await rows(page).nth(1).waitFor();

      await page.fill('#alert-filters input[name=benchmark]', 'jump');
      await page.selectOption('#alert-filters select[name=status]', 'active');
      await page.click('#alert-filters button[type=submit]');
      await page.waitForURL(/benchmark=jump/);
      await page.locator('#total', { hasText: /^1 alerts$/ }).waitFor();
      const row = rows(page).first();
      expect(await row.locator('td.name').textContent()).toBe('jump');
      const alert = (await row.getAttribute('data-alert'))!;
      const { body: view } = await stack.request<AlertView>('GET', `/v0/projects/${project}/alerts/${alert}`, undefined, open.token);
      expect(await row.locator('a.report').getAttribute('href')).toBe(`/projects/${project}/reports/${view.report}`);
      expect(await row.locator('a.plot').getAttribute('href')).toBe(`/projects/${project}/perf?branch=main&testbed=ci&benchmark=jump&measure=latency`);

      await row.locator('button.alert-dismiss').click();
      await row.locator('td.alert-status', { hasText: 'dismissed' }).waitFor();
      expect((await stack.db('alert').where({ id: alert }).first('status')).status).toBe('dismissed');
      await browser.shot(page, 'alerts-dismissed');

      // The server's filter agrees: one dismissed alert, and it is this one.
      await page.selectOption('#alert-filters select[name=status]', 'dismissed');
      await page.fill('#alert-filters input[name=benchmark]', '');
      await page.click('#alert-filters button[type=submit]');
      await page.waitForURL((url) => url.searchParams.get('status') === 'dismissed' && !url.searchParams.has('benchmark'));
      await page.locator('#total', { hasText: /^1 alerts$/ }).waitFor();
      expect(await rows(page).first().getAttribute('data-alert')).toBe(alert);

      // The plot link opens the series.
      await rows(page).first().locator('a.plot').click();
      await page.waitForURL(/\/perf\?.*benchmark=jump/);
      await page.locator('#plot[data-points="12"]').waitFor();
      await page.context().close();
    });
  });
});
