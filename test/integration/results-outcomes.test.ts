import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createJobStateActivities } from '../../activities/job-state';
import { createProcessResultsActivities } from '../../activities/process-results';
import { JOB_SEARCH_ATTRIBUTES, JOB_SPEC_ATTRIBUTE, JOB_STATUS_ATTRIBUTE } from '../../common/contracts';
import type { ReportView, RunAccepted } from '../../common/schemas';
import { waitFor } from '../../devenv/wait';
import { registerSearchAttributes } from '../../scripts/temporal-setup';
import { Stack, type TestRunner } from '../harness/stack';

/**
 * How jobs end, as the job row, the report and Temporal tell it: output the results pipeline refuses
 * fails the job at once (one processResults attempt, the adapter's words, never SQL); a local report
 * and a job report of the same output are judged alike; failure transitions are idempotent; the
 * workflow's own status, search attributes and summary follow the job.
 */
describe('results outcomes', () => {
  let stack: Stack;
  let runner: TestRunner;

  /** Google Benchmark JSON in a time unit nobody knows: cpp_google throws a RangeError deep inside. */
  const unknownUnit = readFileSync(join(__dirname, '../unit/results/fixtures/google-benchmark.json'), 'utf8').replace(/"time_unit": "[a-z]+"/g, '"time_unit": "fortnights"');
  /** Bencher Metric Format whose benchmark name holds a NUL (JSON's \u0000 escape): Postgres text refuses it. */
  const nulName = '{"parse\\u0000json": {"latency": {"value": 12}}}';
  /** Two iterations of the same benchmark, as a harness run twice prints them. */
  const iterations = ['{"fold": {"latency": {"value": 10}}}', '{"fold": {"latency": {"value": 30}}}'];
  const thresholds = [{ measure: 'latency', test: 'static', upper_boundary: 15 }];

  beforeAll(async () => {
    stack = await Stack.start();
    runner = await stack.startRunner();
  });
  afterAll(() => stack?.stop());

  /** An image that prints `output` (as a file in the image: exactly these bytes, NUL escapes included). */
  const printing = (name: string, output: string) => stack.pushImage(name, { entrypoint: ['/bin/cat', '/out.txt'], files: { '/out.txt': output } });

  async function submit(body: Record<string, unknown>): Promise<RunAccepted> {
    const response = await stack.request<RunAccepted>('POST', '/v0/run', { project: stack.project.slug, branch: 'main', testbed: 'ci', ...body });
    if (response.status !== 202) throw new Error(`run: HTTP ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  /** Attempts of each processResults task the workflow ran, from its history. */
  async function processResultsAttempts(workflowId: string): Promise<number[]> {
    const events = (await stack.client.workflow.getHandle(workflowId).fetchHistory()).events!;
    const scheduled = new Set(
      events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'processResults').map((e) => String(e.eventId)),
    );
    return events
      .filter((e) => e.activityTaskStartedEventAttributes && scheduled.has(String(e.activityTaskStartedEventAttributes.scheduledEventId)))
      .map((e) => e.activityTaskStartedEventAttributes!.attempt!);
  }

  it('an adapter that throws (unknown time unit) fails the job with its message after exactly one processResults attempt; the workflow FAILED', async () => {
    const image = await printing('fortnights', unknownUnit);
    for (const adapter of ['cpp_google', 'magic']) {
      const accepted = await submit({ adapter, job: { image } });
      const job = await stack.waitForJob(accepted.job);
      expect(job.status).toBe('failed');
      expect(job.error).toContain('cpp_google: unknown time unit "fortnights"');
      const closed = await stack.closedStatus(accepted.workflow_id);
      expect(await processResultsAttempts(accepted.workflow_id)).toEqual([1]);
      // Temporal's Failures filter finds it, with the job's own error.
      expect(closed).toBe('FAILED');
      const failure = await stack.client.workflow.getHandle(accepted.workflow_id).result().catch((err: Error & { cause?: Error }) => err.cause);
      expect(failure?.message).toBe(job.error);
      // The report says why it has no results.
      const report = await stack.report(accepted.report);
      expect(report).toMatchObject({ job: accepted.job, job_status: 'failed', job_error: job.error, results: [] });
    }
  });

  it('NUL in benchmark output fails the job at once with a clear message, never SQL; a local report with it is a 400 naming the field', async () => {
    const accepted = await submit({ adapter: 'json', job: { image: await printing('nul', nulName) } });
    const job = await stack.waitForJob(accepted.job);
    expect(job).toMatchObject({ status: 'failed', error: 'benchmark output contains a NUL character in benchmark name "parse\\u0000json"' });
    expect(await processResultsAttempts(accepted.workflow_id)).toEqual([1]);
    // Finished within seconds of the benchmark, not after minutes of retries.
    expect(Date.parse(job.finished!) - Date.parse(job.completed!)).toBeLessThan(10000);

    const local = await stack.request<{ error: string; message: string }>('POST', `/v0/projects/${stack.project.slug}/reports`, {
      branch: 'main', testbed: 'ci', adapter: 'json', results: [nulName],
    });
    expect(local.status).toBe(400);
    expect(local.body.message).toMatch(/^body\.results\b.*NUL/);
  });

  it('a job report and a local report of the same output get the same metrics, boundaries and alerts', async () => {
    const accepted = await submit({ adapter: 'json', branch: 'as-job', thresholds, job: { image: await printing('iterations', iterations.join('\n')) } });
    expect((await stack.waitForJob(accepted.job)).status).toBe('processed');
    const asJob = await stack.report(accepted.report);
    const local = await stack.request<ReportView>('POST', `/v0/projects/${stack.project.slug}/reports`, { branch: 'as-local', testbed: 'ci', adapter: 'json', thresholds, results: iterations });
    expect(local.status).toBe(201);
    const judged = (r: ReportView) =>
      r.results.map((m) => ({ benchmark: m.benchmark, measure: m.measure, value: m.value, limits: [m.boundary?.lower_limit, m.boundary?.upper_limit], alerts: m.alerts.map((a) => [a.side, a.limit, a.value]) }));
    expect(judged(asJob)).toEqual([{ benchmark: 'fold', measure: 'latency', value: 20, limits: [null, 15], alerts: [['upper', 15, 20]] }]);
    expect(judged(local.body)).toEqual(judged(asJob));
    expect(local.body).toMatchObject({ job: null, job_status: null, job_error: null });
  });

  it('workflows end as their jobs do, carry search attributes and a summary; reports of unprocessed jobs say why', async () => {
    const project = stack.project.slug;
    const processed = await submit({ adapter: 'json', branch: 'visible', job: { image: await printing('ok', iterations[0]) } });
    expect((await stack.waitForJob(processed.job)).status).toBe('processed');
    expect(await stack.closedStatus(processed.workflow_id)).toBe('COMPLETED');

    const failed = await submit({ adapter: 'json', branch: 'visible', job: { image: `${stack.registry}/${stack.id}/missing:none` } });
    expect((await stack.waitForJob(failed.job)).status).toBe('failed');
    expect(await stack.closedStatus(failed.workflow_id)).toBe('FAILED');
    // Its report says why it is empty; outsiders of a public project see the error as the job's own view shows it to them.
    const error = `image ${stack.registry}/${stack.id}/missing:none not found in registry ${stack.registry}`;
    expect(await stack.report(failed.report)).toMatchObject({ job_status: 'failed', job_error: error, results: [] });
    await stack.db('project').where({ id: stack.project.id }).update({ visibility: 'public' });
    const outsider = await stack.request<ReportView>('GET', `/v0/projects/${project}/reports/${failed.report}`, undefined, null);
    const outsiderJob = await stack.request<{ error: string }>('GET', `/v0/projects/${project}/jobs/${failed.job}`, undefined, null);
    await stack.db('project').where({ id: stack.project.id }).update({ visibility: 'private' });
    expect(outsider.body).toMatchObject({ job_status: 'failed', job_error: outsiderJob.body.error });
    expect(outsider.body.job_error).not.toContain(stack.id);

    // Canceled while it waits in the queue (no runner polls now): canceled in Temporal too.
    await runner.stop();
    const canceled = await submit({ adapter: 'json', branch: 'visible', job: { image: await printing('never', iterations[0]) } });
    await stack.waitUntilScheduled(canceled.workflow_id);
    const pending = await stack.report(canceled.report);
    expect(pending).toMatchObject({ job_status: 'pending', job_error: null, results: [] });
    expect((await stack.request('POST', `/v0/projects/${project}/jobs/${canceled.job}/cancel`, {})).status).toBe(202);
    expect((await stack.waitForJob(canceled.job)).status).toBe('canceled');
    expect(await stack.closedStatus(canceled.workflow_id)).toBe('CANCELLED');
    expect(await stack.report(canceled.report)).toMatchObject({ job_status: 'canceled', job_error: 'canceled', results: [] });

    // Visibility lags the workflows a little: wait until all three are listed with their final status.
    const query = `BenchlineProject = '${project}' AND BenchlineBranch = 'visible'`;
    const listed = await waitFor('the jobs in visibility', async () => {
      const found = new Map<string, { status?: string; spec?: string }>();
      for await (const w of stack.client.workflow.list({ query })) {
        found.set(w.workflowId, { status: w.typedSearchAttributes.get(JOB_STATUS_ATTRIBUTE), spec: w.typedSearchAttributes.get(JOB_SPEC_ATTRIBUTE) });
      }
      return found.size === 3 && [...found.values()].every((w) => ['processed', 'failed', 'canceled'].includes(w.status!)) ? found : undefined;
    }, 30000, 250);
    expect(listed.get(processed.workflow_id)).toEqual({ status: 'processed', spec: stack.spec.slug });
    expect(listed.get(failed.workflow_id)).toEqual({ status: 'failed', spec: stack.spec.slug });
    expect(listed.get(canceled.workflow_id)).toEqual({ status: 'canceled', spec: stack.spec.slug });
    const byStatus = [];
    for await (const w of stack.client.workflow.list({ query: `${query} AND BenchlineStatus = 'failed'` })) byStatus.push(w.workflowId);
    expect(byStatus).toEqual([failed.workflow_id]);

    const described = await stack.client.workflow.getHandle(processed.workflow_id).describe();
    expect(await described.staticSummary()).toBe(`benchmark ${stack.registry}/${stack.id}/ok:latest · ${project} / visible on ci`);
    // The UI's "current details" line, as the SDK's metadata query serves it (replayed by the worker).
    const details = async (workflowId: string) => (await stack.client.workflow.getHandle(workflowId).query<{ currentDetails?: string }>('__temporal_workflow_metadata')).currentDetails;
    expect(await details(processed.workflow_id)).toBe('processed: 1 metric stored');
    expect(await details(failed.workflow_id)).toBe(`failed: ${error}`);
  });

  /**
   * A job no runner takes (the runner stopped in the test before): its workflow waits on runJob
   * while the test calls the job-state activities on it.
   */
  async function idleJob() {
    const accepted = await submit({ adapter: 'json', job: { image: await printing('idle', iterations[0]) } });
    await stack.waitUntilScheduled(accepted.workflow_id);
    return { accepted, env: new MockActivityEnvironment(), state: createJobStateActivities(stack.db) };
  }

  it('failure and cancel transitions, recordRunResult and processResults are idempotent when retried after they committed', async () => {
    const { accepted, env, state } = await idleJob();
    const first = await env.run(state.markJobFailed, accepted.job, 'the runner was lost');
    const row = await stack.db('job').where({ id: accepted.job }).first();
    // The retry: same answer, no second write (finished_at untouched), no error.
    expect(await env.run(state.markJobFailed, accepted.job, 'the runner was lost')).toEqual(first);
    expect(first).toEqual({ status: 'failed', error: 'the runner was lost' });
    // A cancel racing it keeps what is stored, and says so.
    expect(await env.run(state.markJobCanceled, accepted.job)).toEqual(first);
    expect(await env.run(state.recordRunResult, accepted.job, { exitCode: 0, timedOut: false, durationMs: 1, outputs: [] })).toEqual(first);
    expect(await env.run(createProcessResultsActivities(stack.db).processResults, accepted.job)).toEqual(first);
    expect(await stack.db('job').where({ id: accepted.job }).first()).toEqual(row);
    await stack.client.workflow.getHandle(accepted.workflow_id).terminate('test done');
  });

  it('recordRunResult on a job already canceled (the reconciler settled it first) answers canceled and writes nothing', async () => {
    const { accepted, env, state } = await idleJob();
    const canceled = await env.run(state.markJobCanceled, accepted.job, 'the workflow was gone');
    expect(canceled).toEqual({ status: 'canceled', error: 'the workflow was gone' });
    const row = await stack.db('job').where({ id: accepted.job }).first();
    expect(await env.run(state.recordRunResult, accepted.job, { exitCode: 0, timedOut: false, durationMs: 1, outputs: [] })).toEqual(canceled);
    expect(await env.run(state.recordRunResult, accepted.job, { exitCode: 3, timedOut: false, durationMs: 1, outputs: [] })).toEqual(canceled);
    expect(await stack.db('job').where({ id: accepted.job }).first()).toEqual(row);
    await stack.client.workflow.getHandle(accepted.workflow_id).terminate('test done');
  });

  it('scripts/temporal-setup registers the search attributes a namespace lacks (as docker-compose runs it), and is a no-op the second time', async () => {
    const namespace = `setup-${stack.id}`;
    const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    const names = JOB_SEARCH_ATTRIBUTES.map((k) => k.name);
    const registered = await waitFor('the new namespace', () => registerSearchAttributes(connection, namespace), 30000, 500);
    expect(registered).toEqual(names);
    expect(await registerSearchAttributes(connection, namespace)).toEqual([]);
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    for (const name of names) expect(customAttributes![name]).toBe(2); // INDEXED_VALUE_TYPE_KEYWORD
    await connection.close();
  });
});
