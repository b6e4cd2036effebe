import { join } from 'node:path';
import { DEMO_BENCHMARK_SH } from '../../../devenv/images';
import { waitFor } from '../../../devenv/wait';
import { createMicrovmExecutor } from '../../../runner/executors/microvm';
import { processesMatching } from '../../harness/processes';
import { Stack } from '../../harness/stack';


/** The product path: a job submitted through the api, run by a runner in its own microVM. */
describe('a job in a microVM, end to end through Temporal', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start();
    const executor = await createMicrovmExecutor({ cacheDir: join(process.env.BENCHLINE_TEST_SCRATCH!, 'microvm') });
    await stack.startRunner({ executor });
  });
  afterAll(() => stack?.stop());

  it('boots the image, and its BMF output becomes metrics; the job records how the VM ran', async () => {
    const image = await stack.pushImage('bench', { entrypoint: ['/bench.sh'], files: { '/bench.sh': DEMO_BENCHMARK_SH } });
    const accepted = await stack.submit({ image });
    const job = await stack.waitForJob(accepted.job);
    expect(job).toMatchObject({ status: 'processed', exit_code: 0 });
    const execution = job.execution as Record<string, unknown>;
    expect(execution.executor).toBe('microvm');
    expect(['kvm', 'tcg']).toContain(execution.accel);
    expect(execution.host).toMatchObject({ tuning: expect.objectContaining({ aslr: expect.any(String), thp: expect.any(String) }) });
    const report = await stack.report(accepted.report);
    expect(report.results.map((r) => r.measure).sort()).toEqual(['latency', 'throughput']);
    expect(report.results.every((r) => r.value > 0)).toBe(true);
  });

  it('cancelling a running job kills its VM', async () => {
    const image = await stack.pushImage('sleeper', { entrypoint: ['/bin/sleep', '600'] });
    const accepted = await stack.submit({ image });
    await stack.waitForJob(accepted.job, (j) => j.status === 'running');
    // The VM's scratch directory is named after the job: that is how we find its QEMU.
    await waitFor('the VM', async () => processesMatching('qemu-system', accepted.job).length > 0 || undefined, 60000);
    await stack.request('POST', `/v0/projects/${stack.project.slug}/jobs/${accepted.job}/cancel`, {});
    expect((await stack.waitForJob(accepted.job)).status).toBe('canceled');
    expect(processesMatching('qemu-system', accepted.job)).toEqual([]);
  });
});
