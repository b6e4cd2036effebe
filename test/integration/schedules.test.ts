import { ScheduleNotFoundError } from '@temporalio/client';
import { createScheduledRunActivities } from '../../activities/scheduled-run';
import { DEFAULT_RUNNER_ACTIVE_SECONDS } from '../../common/runner-activity';
import { temporalScheduleId } from '../../common/contracts';
import type { PipelineView } from '../../common/schemas/pipelines';
import type { ScheduleView } from '../../common/schemas/schedules';
import { waitFor } from '../../devenv/wait';
import { runCli } from '../harness/cli';
import { Stack } from '../harness/stack';

describe('schedules', () => {
  let stack: Stack;
  let image: string;
  beforeAll(async () => {
    stack = await Stack.start();
    image = await stack.pushImage('nightly', { entrypoint: ['/bin/echo', '{"nightly": {"latency": {"value": 7}}}'] });
    await stack.startRunner();
  });
  afterAll(() => stack?.stop());

  const base = () => `/v0/projects/${stack.project.slug}/schedules`;
  const create = (body: Record<string, unknown>) =>
    stack.request<ScheduleView & { message: string }>('POST', base(), { template: { kind: 'run', run: { branch: 'main', testbed: 'ci', adapter: 'json', job: { image } } }, ...body });
  const view = async (id: string) => (await stack.request<ScheduleView>('GET', `${base()}/${id}`)).body;
  const hourIn = (iso: string, timeZone: string) => new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));

  it('creates, lists, views (next run times from Temporal), triggers a run to a processed job, pauses, resumes and deletes', async () => {
    const created = await create({ cron: '30 3 * * *', timezone: 'Europe/Paris' });
    expect(created.status).toBe(201);
    const id = created.body.uuid;
    expect(created.body).toMatchObject({ cron: '30 3 * * *', timezone: 'Europe/Paris', overlap: 'SKIP', paused: false, last_runs: [] });
    expect(created.body.next_runs.length).toBeGreaterThan(1);
    for (const next of created.body.next_runs) expect(hourIn(next, 'Europe/Paris')).toBe('03:30');
    expect(Date.parse(created.body.next_runs[0])).toBeGreaterThan(Date.now());

    const listed = await stack.request<ScheduleView[]>('GET', base());
    expect(listed.body.map((s) => s.uuid)).toContain(id);

    const triggered = await stack.request<ScheduleView>('POST', `${base()}/${id}/trigger`);
    expect(triggered.status).toBe(202);
    const run = await waitFor('the triggered run to submit its job', async () => (await view(id)).last_runs.find((r) => r.job), 30000, 200);
    expect(run.workflow_id.startsWith(temporalScheduleId(id))).toBe(true);
    const job = await stack.waitForJob(run.job!);
    expect(job.status).toBe('processed');
    expect((await stack.report(job.report)).results.map((r) => r.benchmark)).toEqual(['nightly']);
    // The run's workflow waits for its job: it completes once the job has processed.
    expect(await stack.closedStatus(run.workflow_id)).toBe('COMPLETED');
    expect((await view(id)).last_runs[0]).toMatchObject({ job: run.job, job_status: 'processed' });

    const paused = await stack.request<ScheduleView>('POST', `${base()}/${id}/pause`, { note: 'hardware maintenance' });
    expect(paused.body).toMatchObject({ paused: true, note: 'hardware maintenance' });
    expect((await stack.client.schedule.getHandle(temporalScheduleId(id)).describe()).state.paused).toBe(true);
    const resumed = await stack.request<ScheduleView>('POST', `${base()}/${id}/resume`, {});
    expect(resumed.body.paused).toBe(false);
    expect((await stack.client.schedule.getHandle(temporalScheduleId(id)).describe()).state.paused).toBe(false);

    expect((await stack.request('DELETE', `${base()}/${id}`)).status).toBe(204);
    await expect(stack.client.schedule.getHandle(temporalScheduleId(id)).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    expect((await stack.request('GET', `${base()}/${id}`)).status).toBe(404);
    expect((await stack.request<ScheduleView[]>('GET', base())).body.map((s) => s.uuid)).not.toContain(id);
  });

  it('takes the overlap policy as a field and can be created paused', async () => {
    const created = await create({ cron: '@daily', overlap: 'BUFFER_ONE', paused: true });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ overlap: 'BUFFER_ONE', paused: true, timezone: 'UTC' });
    expect((await stack.request('DELETE', `${base()}/${created.body.uuid}`)).status).toBe(204);
  });

  const template = (run: Record<string, unknown>, job: Record<string, unknown> = {}) => ({ kind: 'run', run: { branch: 'main', testbed: 'ci', job: { image, ...job }, ...run } });
  it.each([
    ['an out-of-range cron field', () => ({ cron: '61 3 * * *' }), /^body\.cron: not a valid cron expression/],
    ['a four-field cron expression', () => ({ cron: '0 3 * *' }), /^body\.cron: not a valid cron expression: expected five fields/],
    ['an unknown time zone', () => ({ cron: '0 3 * * *', timezone: 'Mars/Olympus_Mons' }), /^body\.timezone: not an IANA time zone/],
    ['an unknown overlap policy', () => ({ cron: '0 3 * * *', overlap: 'SOMETIMES' }), /^body\.overlap/],
    ['a template with start_after', () => ({ cron: '0 3 * * *', template: template({ start_after: '2030-01-01T00:00:00Z' }) }), /^body\.template\.run: Unrecognized key: "start_after"/],
    ['a template whose spec does not exist', () => ({ cron: '0 3 * * *', template: template({}, { spec: 'no-such-spec' }) }), /^body\.template\.run\.job\.spec: spec "no-such-spec" does not exist/],
  ])('refuses %s before writing anything, naming the field', async (_what, body, message) => {
    const before = await stack.db('schedule').count<{ count: string }[]>({ count: '*' });
    const response = await create(body());
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(message);
    expect(await stack.db('schedule').count<{ count: string }[]>({ count: '*' })).toEqual(before);
  });

  it('a run submits one job per scheduled time, however often its activity is retried; a deleted schedule submits none', async () => {
    const created = await create({ cron: '0 3 * * *', paused: true });
    const { submitScheduledRun } = createScheduledRunActivities(stack.db, DEFAULT_RUNNER_ACTIVE_SECONDS);
    const runId = `${temporalScheduleId(created.body.uuid)}-2030-01-01T03:00:00Z`;
    // Two tries racing (a retry while the first is still writing) and a third after both.
    const [first, second] = await Promise.all([0, 1].map(() => submitScheduledRun(created.body.uuid, runId, 'control')));
    const third = await submitScheduledRun(created.body.uuid, runId, 'control');
    expect(new Set([first.jobId, second.jobId, third.jobId]).size).toBe(1);
    expect(await stack.db('job').where({ idempotency_key: runId }).pluck('id')).toEqual([first.jobId]);
    expect(first).toMatchObject({ timeoutSeconds: 3600, labels: { project: stack.project.slug, branch: 'main', testbed: 'ci', image } });

    expect((await stack.request('DELETE', `${base()}/${created.body.uuid}`)).status).toBe(204);
    await expect(submitScheduledRun(created.body.uuid, `${runId}-later`, 'control')).rejects.toMatchObject({ type: 'ScheduleGone', nonRetryable: true });
    expect(await stack.db('job').where({ idempotency_key: `${runId}-later` }).count<{ count: string }[]>({ count: '*' })).toEqual([{ count: '0' }]);
  });

  const pipelineTemplate = (jobs: Record<string, unknown>[]) => ({ kind: 'pipeline', pipeline: { max_parallel: 2, jobs } });
  const pipelineJob = (key: string, needs: string[] = []) => ({ key, branch: 'main', testbed: 'ci', adapter: 'json', job: { image }, needs: needs.map((job) => ({ job })) });

  it('a pipeline template: trigger now runs the pipeline as the run’s child, every job processed, shown in last_runs', async () => {
    const created = await create({ cron: '0 4 * * *', paused: true, template: pipelineTemplate([pipelineJob('build'), pipelineJob('bench', ['build'])]) });
    expect(created.status).toBe(201);
    const id = created.body.uuid;
    expect(created.body.template).toMatchObject({ kind: 'pipeline', pipeline: { jobs: [{ key: 'build' }, { key: 'bench' }] } });

    expect((await stack.request('POST', `${base()}/${id}/trigger`)).status).toBe(202);
    const run = await waitFor('the triggered run to submit its pipeline', async () => (await view(id)).last_runs.find((r) => r.pipeline), 30000, 200);
    expect(run).toMatchObject({ job: null, job_status: null });
    const pipeline = await waitFor('the pipeline to end', async () => {
      const p = (await stack.request<PipelineView>('GET', `/v0/pipelines/${run.pipeline}`)).body;
      return p.status === 'running' ? undefined : p;
    }, 60000, 200);
    expect(pipeline.status).toBe('succeeded');
    expect(pipeline.jobs.map((j) => [j.key, j.status])).toEqual([['bench', 'processed'], ['build', 'processed']]);
    // Submitted idempotently under the run's id, by the schedule's creator; the pipeline's workflow is the run's child.
    expect(await stack.db('pipeline').where({ idempotency_key: run.workflow_id }).pluck('id')).toEqual([run.pipeline]);
    const child = await stack.client.workflow.getHandle(`pipeline-${run.pipeline}`).describe();
    expect(child.parentExecution?.workflowId).toBe(run.workflow_id);
    expect(await stack.closedStatus(run.workflow_id)).toBe('COMPLETED');
    expect((await view(id)).last_runs[0]).toMatchObject({ pipeline: run.pipeline, pipeline_status: 'succeeded' });
    const shown = await runCli(['schedule', 'view', id, '--project', stack.project.slug], { env: { BENCHLINE_API_URL: stack.apiUrl, BENCHLINE_TOKEN: stack.userToken } });
    expect(shown.stdout).toContain('  runs a pipeline of 2 jobs (build, bench)\n');
    expect(shown.stdout).toContain(`: pipeline ${run.pipeline} succeeded\n`);

    // A retried submission answers the same pipeline and input.
    const { submitScheduledPipeline } = createScheduledRunActivities(stack.db, DEFAULT_RUNNER_ACTIVE_SECONDS);
    const again = await submitScheduledPipeline(id, run.workflow_id, 'control', {});
    expect(again.input.pipelineId).toBe(run.pipeline);
    expect(again.input.jobs.map((j) => [j.key, j.input.jobId, j.needs])).toEqual(
      [['build', pipeline.jobs[1].uuid, []], ['bench', pipeline.jobs[0].uuid, [{ job: 0, requiresSuccess: true }]]],
    );
    expect((await stack.request('DELETE', `${base()}/${id}`)).status).toBe(204);
  });

  it.each([
    ['a cyclic pipeline template', () => [pipelineJob('a', ['c']), pipelineJob('b', ['a']), pipelineJob('c', ['b'])], /^body\.template\.pipeline\.jobs: the needs form a cycle: a → c → b → a/],
    ['a pipeline job whose spec does not exist', () => [{ ...pipelineJob('a'), job: { image, spec: 'no-such-spec' } }], /^body\.template\.pipeline\.jobs\[0\]\.job\.spec: spec "no-such-spec" does not exist/],
  ])('refuses %s before writing anything, naming the field', async (_what, jobs, message) => {
    const before = await stack.db('schedule').count<{ count: string }[]>({ count: '*' });
    const response = await create({ cron: '0 3 * * *', template: pipelineTemplate(jobs()) });
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(message);
    expect(await stack.db('schedule').count<{ count: string }[]>({ count: '*' })).toEqual(before);
  });

  it('a schedule gone from Temporal behind its row hides no other from the list, and deleting it removes the row', async () => {
    const [kept, lost] = [(await create({ cron: '0 4 * * *' })).body, (await create({ cron: '0 5 * * *' })).body];
    await stack.client.schedule.getHandle(temporalScheduleId(lost.uuid)).delete();
    const listed = (await stack.request<ScheduleView[]>('GET', base())).body.map((s) => s.uuid);
    expect(listed).toContain(kept.uuid);
    expect(listed).not.toContain(lost.uuid);
    expect((await stack.request('GET', `${base()}/${lost.uuid}`)).status).toBe(404);
    expect((await stack.request('DELETE', `${base()}/${lost.uuid}`)).status).toBe(204);
    expect(await stack.db('schedule').where({ id: lost.uuid }).first()).toBeUndefined();
    expect((await stack.request('DELETE', `${base()}/${kept.uuid}`)).status).toBe(204);
  });

  it("is managed by the project's members only", async () => {
    const created = await create({ cron: '0 3 * * *' });
    const outsider = await stack.tenant('outsider', { plan: 'team' });
    for (const [method, path] of [['GET', base()], ['GET', `${base()}/${created.body.uuid}`], ['POST', `${base()}/${created.body.uuid}/trigger`], ['DELETE', `${base()}/${created.body.uuid}`]]) {
      expect([method, path, (await stack.request(method, path, undefined, outsider.token)).status]).toEqual([method, path, 404]);
    }
    expect((await stack.request('DELETE', `${base()}/${created.body.uuid}`)).status).toBe(204);
  });
});

describe('benchline schedule', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start();
    await stack.startRunner();
  });
  afterAll(() => stack?.stop());

  const cli = (args: string[]) =>
    runCli(['schedule', ...args, '--project', stack.project.slug], { env: { BENCHLINE_API_URL: stack.apiUrl, BENCHLINE_TOKEN: stack.userToken } });

  it('creates, lists, pauses, triggers, views and deletes a schedule from the command line', async () => {
    const image = await stack.pushImage('cli-nightly', { entrypoint: ['/bin/echo', '{"cli": {"latency": {"value": 1}}}'] });
    const created = await cli(['create', '--cron', '0 2 * * 1-5', '--timezone', 'America/New_York', '--testbed', 'ci', '--adapter', 'json', '--image', image, '--format', 'json']);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const { uuid } = JSON.parse(created.stdout) as ScheduleView;
    expect((await cli(['list'])).stdout).toContain(`${uuid}  0 2 * * 1-5 (America/New_York)  active  overlap SKIP`);
    expect((await cli(['pause', uuid, '--note', 'lab move'])).stdout).toContain('paused: lab move');
    expect((await cli(['trigger', uuid])).code).toBe(0);
    const view = await waitFor('the triggered job', async () => {
      const out = (await cli(['view', uuid])).stdout;
      return / job [0-9a-f-]{36} processed/.test(out) ? out : undefined;
    }, 60000, 500);
    expect(view).toContain(`runs ${image} on main / ci`);
    expect(await cli(['delete', uuid])).toMatchObject({ code: 0, stderr: `schedule ${uuid} deleted\n` });
    const bad = await cli(['create', '--cron', '0 2 * *', '--image', image]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/body\.cron: not a valid cron expression: expected five fields .* \(HTTP 400\)/);
  });
});
