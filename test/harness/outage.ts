import type { JobView, RunAccepted } from '../../common/schemas';
import { WINDOW_SH } from './benchmarks';
import type { Stack, TestRunner } from './stack';

/** What an outage test interrupts: one runner, its job running, and a queue of short jobs behind it. */
export interface BusyQueue {
  runner: TestRunner;
  running: RunAccepted;
  queued: RunAccepted[];
  /** Waits for every job to end; each must be processed on its first attempt, by the runner. */
  allProcessed(): Promise<JobView[]>;
}

/**
 * Starts a runner, a job that runs `runningSeconds` (running when this returns, so that an outage
 * begun now meets its uploads) and `queued` short jobs, each with its runJob scheduled.
 */
export async function busyQueue(stack: Stack, options: { queued: number; runningSeconds: number }): Promise<BusyQueue> {
  const image = await stack.pushImage('window', { entrypoint: ['/window.sh'], files: { '/window.sh': WINDOW_SH } });
  const runner = await stack.startRunner();
  const running = await stack.submit({ image, cmd: [String(options.runningSeconds)] });
  await stack.waitForJob(running.job, (j) => j.status === 'running');
  const queued: RunAccepted[] = [];
  for (let i = 0; i < options.queued; i++) queued.push(await stack.submit({ image, cmd: ['0'] }));
  await Promise.all(queued.map((q) => stack.waitUntilScheduled(q.workflow_id)));
  return {
    runner,
    running,
    queued,
    allProcessed: async () => {
      const jobs = await Promise.all([running, ...queued].map((j) => stack.waitForJob(j.job, undefined, 90_000)));
      for (const job of jobs) expect(job).toMatchObject({ status: 'processed', error: null, attempt: 1, runner: runner.slug });
      return jobs;
    },
  };
}
