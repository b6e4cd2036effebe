import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { reportedBuild } from '../../common/build-info';
import { createRunner, createSpec, createUser, grantAdmin } from '../../db/seed';
import { RunnerApi } from '../../runner/api-client';
import { WINDOW_SH } from '../harness/benchmarks';
import { Stack } from '../harness/stack';

/** Debian's chromium (scripts/bootstrap.sh installs it); playwright-core only drives it, it downloads nothing. */
const CHROMIUM = process.env.BENCHLINE_CHROMIUM ?? '/usr/bin/chromium';

/**
 * The console's runner board in a real browser (server admins): each runner's state, current job,
 * build with drift marked, accelerator and host-tuning warnings; members get neither the page nor
 * its link. A screenshot is kept under the run's scratch folder (artifacts/console-runners/).
 */
describe('console runner board', () => {
  let stack: Stack;
  let browser: Browser;
  let adminToken: string;
  const shots = join(process.env.BENCHLINE_TEST_SCRATCH!, 'artifacts', 'console-runners');
  // Slugs that sort first: the board's first page (of 100, by slug) shows them whatever other files' runners share the database.
  const slugs: Record<string, string> = {};

  beforeAll(async () => {
    // Long leases: these runners register once and do not ping.
    stack = await Stack.start({ runnerLease: { staleSeconds: 600, stoppingSeconds: 600 } });
    const { user, token } = await createUser(stack.db, { slug: `admin-${stack.id}` });
    await grantAdmin(stack.db, user.id);
    adminToken = token;
    // Each on a spec of its own, so only the stray one's build is drift (not its spec-mates').
    const register = async (name: string, build: string, host: Record<string, unknown>) => {
      const spec = await createSpec(stack.db, { slug: `${name}-spec-${stack.id}` });
      const slug = (slugs[name] = `0board-${name}-${stack.id}`);
      const { token: runnerToken } = await createRunner(stack.db, { slug, specIds: [spec.id] });
      await new RunnerApi(stack.apiUrl, slug, runnerToken).register({ version: '0.1.0', executor: String(host.executor), host, build: { ...reportedBuild(), id: build } });
    };
    await register('current', reportedBuild().id, { executor: 'microvm', vmm: 'firecracker', accel: 'kvm', tuning: { smt: 'off', turbo: 'off', governor: 'performance' } });
    await register('stray', 'build-from-elsewhere', { executor: 'microvm', vmm: 'qemu', accel: 'tcg', tuning: { smt: 'on', turbo: 'on', governor: 'powersave' } });
    await createRunner(stack.db, { slug: (slugs.never = `0board-never-${stack.id}`), specIds: [] });
    // A busy one: the stack's own runner, running a job.
    const image = await stack.pushImage('window', { entrypoint: ['/window.sh'], files: { '/window.sh': WINDOW_SH } });
    slugs.busy = (await stack.startRunner({ slug: `0board-busy-${stack.id}` })).slug;
    slugs.job = (await stack.submit({ image, cmd: ['120'] })).job;
    await stack.waitForJob(slugs.job, (j) => j.status === 'running');
    await mkdir(shots, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function open(path: string, token: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    await context.addInitScript(`sessionStorage.setItem('benchline.token', ${JSON.stringify(token)})`);
    const page = await context.newPage();
    await page.goto(`${stack.apiUrl}${path}`);
    return page;
  }
  const row = (page: Page, name: string) => page.locator(`#runner-board tr[data-runner="${slugs[name]}"]`);

  it('shows each runner with its state, job, build, accelerator and tuning, and marks the one on another build', async () => {
    const page = await open('/', adminToken);
    // Admins get the board's link in the header; it navigates in place.
    await page.locator('header nav.admin-nav a', { hasText: 'Runners' }).click();
    await row(page, 'stray').locator('.badge.drift').waitFor();
    expect(new URL(page.url()).pathname).toBe('/runners');
    expect(await row(page, 'stray').getAttribute('class')).toContain('drifting');
    expect(await row(page, 'stray').locator('.drift-reason').innerText()).toBe(`runs build build-from-elsewhere; the api runs ${reportedBuild().id.slice(0, 12)}`);
    expect(await row(page, 'stray').locator('td.tuning').innerText()).toBe(['SMT is on', 'turbo is on', 'governor is powersave, not performance'].join(''));
    expect(await row(page, 'stray').innerText()).toContain('emulation (QEMU TCG)');
    expect(await row(page, 'current').locator('.badge.drift').count()).toBe(0);
    expect(await row(page, 'current').innerText()).toContain('Firecracker (KVM)');
    expect(await row(page, 'current').locator('td.tuning').innerText()).toBe('ok');
    expect(await row(page, 'current').locator('td.state').innerText()).toBe('idle');
    expect(await row(page, 'never').locator('td.state').innerText()).toBe('offline');
    expect(await row(page, 'busy').locator('td.state').innerText()).toBe('busy');
    const link = row(page, 'busy').locator('a');
    expect(await link.getAttribute('href')).toBe(`/projects/${stack.project.slug}/jobs/${slugs.job}`);
    await page.screenshot({ path: join(shots, 'runners.png'), fullPage: true });
    // A lock shows at the next refresh, without a reload.
    expect((await stack.request('PATCH', `/v0/runners/${slugs.current}`, { locked: true }, adminToken)).status).toBe(200);
    await row(page, 'current').locator('td.state', { hasText: 'locked' }).waitFor();
  });

  it('is for server admins only: a member gets neither the link nor the board', async () => {
    const page = await open('/runners', stack.userToken);
    await page.locator('p.error', { hasText: 'Only server admins see the runner board.' }).waitFor();
    expect(await page.locator('header nav.admin-nav a').count()).toBe(0);
  });
});
