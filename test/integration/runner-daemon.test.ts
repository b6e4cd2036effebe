import { createRunner } from '../../db/seed';
import { startRunnerProcess } from '../harness/runner-process';
import { Stack } from '../harness/stack';
import { WINDOW_SH } from '../harness/benchmarks';

describe('the runner daemon process', () => {
  let stack: Stack;
  let image: string;
  beforeAll(async () => {
    stack = await Stack.start();
    image = await stack.pushImage('window', { entrypoint: ['/window.sh'], files: { '/window.sh': WINDOW_SH } });
  });
  afterAll(() => stack?.stop());

  async function daemon(name: string, graceSeconds: number) {
    const slug = `${name}-${stack.id}`;
    const { token } = await createRunner(stack.db, { slug, specIds: [stack.spec.id], seen: true });
    // The product's executor: SIGTERM must drain a job running in a microVM.
    const env = { BENCHLINE_SHUTDOWN_GRACE_SECONDS: String(graceSeconds), BENCHLINE_EXECUTOR: 'microvm' };
    return { slug, token, process: await startRunnerProcess({ apiUrl: stack.apiUrl, runner: slug, token, env }) };
  }

  it('SIGTERM during a job within the grace period: the job finishes, the daemon exits 0', async () => {
    const { slug, process: runner } = await daemon('graceful', 60);
    const accepted = await stack.submit({ image, cmd: ['2'] });
    await stack.waitForJob(accepted.job, (j) => j.status === 'running');
    runner.child.kill('SIGTERM');
    expect(await runner.exited).toBe(0);
    expect(await stack.waitForJob(accepted.job)).toMatchObject({ status: 'processed', runner: slug });
  });

  it('SIGTERM past the grace period: the job is canceled (sandbox killed), the daemon exits 0', async () => {
    const { process: runner } = await daemon('impatient', 1);
    const accepted = await stack.submit({ image, cmd: ['600'] });
    await stack.waitForJob(accepted.job, (j) => j.status === 'running');
    runner.child.kill('SIGTERM');
    expect(await runner.exited).toBe(0);
    expect(await stack.waitForJob(accepted.job)).toMatchObject({ status: 'canceled', error: 'the runner shut down before the benchmark finished; the job was canceled' });
  });

  it('one daemon per runner (its lease), whatever name it is started under; a clean exit hands it on at once', async () => {
    const first = await daemon('single', 1);
    const second = await startRunnerProcess({ apiUrl: stack.apiUrl, runner: first.slug, token: first.token, waitForPolling: false, env: { BENCHLINE_EXECUTOR: 'sandbox' } });
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(`runner ${first.slug} already has an active daemon`);
    expect(second.output()).toContain(`pid ${first.process.child.pid}`);
    // Named by its UUID instead of its slug: still the same runner, still refused.
    const runnerId = (await stack.db('runner').where({ slug: first.slug }).first('id')).id;
    const byUuid = await startRunnerProcess({ apiUrl: stack.apiUrl, runner: runnerId, token: first.token, waitForPolling: false, env: { BENCHLINE_EXECUTOR: 'sandbox' } });
    expect(await byUuid.exited).toBe(1);
    expect(byUuid.output()).toContain('already has an active daemon');
    // (A crashed holder's lease must expire first: runner-lease.test.ts.)
    first.process.child.kill('SIGTERM');
    expect(await first.process.exited).toBe(0);
    const third = await startRunnerProcess({ apiUrl: stack.apiUrl, runner: first.slug, token: first.token, env: { BENCHLINE_EXECUTOR: 'sandbox' } });
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
  });
});
