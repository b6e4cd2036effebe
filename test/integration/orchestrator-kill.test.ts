import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Service } from '../../bench/chaos-services';
import { polling } from '../../bench/chaos-stack';
import { commandStarts, installBwrapShim } from '../../bench/command-starts';
import { isTerminal, type JobStatus } from '../../common/contracts';
import type { PipelineView } from '../../common/schemas/pipelines';
import { createRunner } from '../../db/seed';
import { ROOT } from '../../devenv/paths';
import { waitFor } from '../../devenv/wait';
import { RECONCILE_SCHEDULE_ID } from '../../orchestrator/schedules';
import { startRunnerProcess, type RunnerProcess } from '../harness/runner-process';
import { Stack } from '../harness/stack';

const MIDDLE = 8;

/**
 * The orchestrator as its own OS process (orchestrator/main.ts), SIGKILLed mid-pipeline and started
 * again: Temporal holds the pipeline's and its jobs' state, so the pipeline ends as if nothing had
 * happened. "Exactly once" is counted outside the product: two real runner processes start every
 * sandbox through a bwrap that logs each start (bench/command-starts.ts).
 */
describe('the orchestrator killed mid-pipeline', () => {
  let stack: Stack;
  let orchestrator: Service;
  const runners: RunnerProcess[] = [];
  const scratch = join(process.env.BENCHLINE_TEST_SCRATCH!, 'orchestrator-kill');
  const startsLog = join(scratch, 'command-starts.log');

  beforeAll(async () => {
    stack = await Stack.start({ orchestrator: false });
    await installBwrapShim(join(scratch, 'shim'), startsLog);
    orchestrator = new Service(
      {
        name: 'orchestrator',
        command: process.execPath,
        args: ['--require', join(ROOT, 'node_modules/tsx/dist/cjs/index.cjs'), join(ROOT, 'orchestrator/main.ts')],
        env: { BENCHLINE_CONTROL_TASK_QUEUE: `control-${stack.id}`, BENCHLINE_ALLOW_PRIVATE_NETWORKS: '1' },
        ready: (s) => polling(stack.client, `control-${stack.id}`, s.pid),
      },
      await mkdir(scratch, { recursive: true }).then(() => scratch),
    );
    await orchestrator.start();
    for (const n of [1, 2]) {
      const slug = `kill-runner-${stack.id}-${n}`;
      const { token } = await createRunner(stack.db, { slug, specIds: [stack.spec.id], seen: true });
      runners.push(await startRunnerProcess({ apiUrl: stack.apiUrl, runner: slug, token, env: { BENCHLINE_EXECUTOR: 'sandbox', PATH: `${join(scratch, 'shim')}:${process.env.PATH}` } }));
    }
  }, 240000);

  afterAll(async () => {
    for (const r of runners) r.child.kill('SIGKILL');
    await orchestrator?.stop();
    // The orchestrator process created the shared server's reconcile schedule for this test's queue.
    const schedule = stack && (await stack.client.schedule.getHandle(RECONCILE_SCHEDULE_ID).describe().catch(() => undefined));
    if (schedule?.action.type === 'startWorkflow' && schedule.action.taskQueue === `control-${stack.id}`) await stack.client.schedule.getHandle(RECONCILE_SCHEDULE_ID).delete();
    await stack?.stop();
  });

  it('finishes the pipeline with every job run exactly once', async () => {
    const [ok, sleepy] = await Promise.all([
      stack.pushImage('ok', { entrypoint: ['/bin/echo', '{"b": {"latency": {"value": 1}}}'] }),
      stack.pushImage('sleepy', { entrypoint: ['/bin/sh', '-c', 'sleep 1; echo \'{"b": {"latency": {"value": 2}}}\''] }),
    ]);
    const job = (key: string, image: string, needs: string[] = []) => ({ key, branch: 'main', testbed: 'ci', adapter: 'json', job: { image }, needs: needs.map((n) => ({ job: n })) });
    const middle = Array.from({ length: MIDDLE }, (_, i) => `mid${i}`);
    const res = await stack.request<PipelineView>('POST', '/v0/pipelines', {
      project: stack.project.slug,
      jobs: [job('root', ok), ...middle.map((k) => job(k, sleepy, ['root'])), job('join', ok, middle)],
    });
    expect(res.status).toBe(202);
    const view = async () => (await stack.request<PipelineView>('GET', `/v0/pipelines/${res.body.uuid}`)).body;
    const statuses = (p: PipelineView) => p.jobs.map((j) => j.status as JobStatus);

    // Mid-pipeline: some of the fan-out ended, some not yet.
    await waitFor('part of the fan-out to end', async () => {
      const s = statuses(await view());
      return (s.filter((x) => x === 'processed').length >= 2 && s.filter((x) => !isTerminal(x)).length >= 4) || undefined;
    }, 120000, 100);
    await orchestrator.kill();
    const atKill = statuses(await view());
    await orchestrator.start();

    const done = await waitFor('the pipeline to end', async () => {
      const p = await view();
      return p.status !== 'running' ? p : undefined;
    }, 300000, 250);
    expect(atKill.filter((s) => !isTerminal(s)).length).toBeGreaterThan(0);
    expect(done).toMatchObject({ status: 'succeeded', counts: { processed: MIDDLE + 2, failed: 0, canceled: 0, skipped: 0 } });

    // Each job's benchmark started once, as the runners' sandbox starts record it.
    const starts = await commandStarts(startsLog);
    expect(done.jobs.map((j) => [j.key, starts.get(j.uuid)])).toEqual(done.jobs.map((j) => [j.key, 1]));
    // Each child workflow was started once by the pipeline's, and completed.
    const history = await stack.client.workflow.getHandle(done.workflow_id).fetchHistory();
    const childStarts = history.events!.flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? []);
    expect(childStarts.sort()).toEqual(done.jobs.map((j) => j.workflow_id).sort());
    for (const j of done.jobs) expect(await stack.closedStatus(j.workflow_id)).toBe('COMPLETED');
    // The fan-in started only after every parent ended.
    const t = (s: string | null) => new Date(s!).getTime();
    const join_ = done.jobs.find((j) => j.key === 'join')!;
    expect(t(join_.started)).toBeGreaterThanOrEqual(Math.max(...done.jobs.filter((j) => j.key.startsWith('mid')).map((j) => t(j.finished))));
  }, 420000);
});
