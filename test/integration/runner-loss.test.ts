import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createRunner } from '../../db/seed';
import { ROOT } from '../../devenv/paths';
import { waitFor } from '../../devenv/wait';
import { Stack } from '../harness/stack';

const HEARTBEAT_TIMEOUT_SECONDS = 3;
const alive = (marker: string) => execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l.includes(marker) && !l.includes('ps -eo'));

/** A real runner daemon process (runner/main.ts), as on a bare-metal host. */
async function startRunnerProcess(stack: Stack, slug: string): Promise<ChildProcess> {
  const { token } = await createRunner(stack.db, { slug, specIds: [stack.spec.id] });
  const child = spawn(process.execPath, ['--require', join(ROOT, 'node_modules/tsx/dist/cjs/index.cjs'), join(ROOT, 'runner/main.ts')], {
    env: {
      ...process.env,
      BENCHLINE_API_URL: stack.apiUrl,
      BENCHLINE_RUNNER: slug,
      BENCHLINE_RUNNER_TOKEN: token,
      BENCHLINE_CACHE_DIR: join(process.env.BENCHLINE_TEST_SCRATCH!, slug),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (b) => (output += b));
  child.stderr!.on('data', (b) => (output += b));
  await waitFor(`runner process ${slug}`, async () => {
    if (child.exitCode !== null) throw new Error(`runner exited: ${output}`);
    return output.includes('polling') || undefined;
  }, 60000, 100);
  return child;
}

describe('a runner that dies mid-job', () => {
  let stack: Stack;
  let doomed: ChildProcess | undefined;
  beforeAll(async () => {
    stack = await Stack.start({ heartbeatTimeoutSeconds: HEARTBEAT_TIMEOUT_SECONDS });
  });
  afterAll(async () => {
    doomed?.kill('SIGKILL');
    await stack?.stop();
  });

  it('fails its job with a heartbeat-timeout reason within the window; the next job goes to the survivor', async () => {
    const doomedSlug = `doomed-${stack.id}`;
    doomed = await startRunnerProcess(stack, doomedSlug);
    const image = await stack.pushImage('long', { entrypoint: ['/bin/sleep', '619'] });
    const accepted = await stack.submit({ image });
    const running = await stack.waitForJob(accepted.job, (j) => j.status === 'running');
    expect(running.runner).toBe(doomedSlug);
    await waitFor('the benchmark process', async () => alive('sleep 619').length > 0 || undefined);

    const survivor = await stack.startRunner();
    const killedAt = Date.now();
    doomed.kill('SIGKILL');

    const failed = await stack.waitForJob(accepted.job);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/^heartbeat timeout: the runner was lost while the benchmark was running/);
    // Detected within the heartbeat timeout plus a retry's dispatch, not after the job's hour-long limit.
    expect(Date.now() - killedAt).toBeLessThan((HEARTBEAT_TIMEOUT_SECONDS + 10) * 1000);
    // The sandbox died with its runner (bubblewrap --die-with-parent): nothing runs on unattended.
    await waitFor('orphaned sandbox to die', async () => alive('sleep 619').length === 0 || undefined, 10000);

    const next = await stack.submit({ image: await stack.pushImage('bmf', { entrypoint: ['/bin/echo', '{"b": {"latency": {"value": 1}}}'] }) });
    expect(await stack.waitForJob(next.job)).toMatchObject({ status: 'processed', runner: survivor.slug });
  });
});
