import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSecretsKey, seal } from '../../common/secret-box';
import type { PipelineView } from '../../common/schemas/pipelines';
import type { ScheduleView } from '../../common/schemas/schedules';
import type { JobRow } from '../../db/rows';
import { startRegistry, type RunningRegistry } from '../../devenv/registry';
import { freePort, waitFor } from '../../devenv/wait';
import { Stack } from '../harness/stack';

describe('images in a private registry', () => {
  let stack: Stack;
  let registry: RunningRegistry;
  let image: string;
  const credentials = { username: 'ci', password: 'not-for-logs-5f1c' };

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'benchline-private-registry-'));
    writeFileSync(join(dir, 'htpasswd'), execFileSync('htpasswd', ['-Bbn', credentials.username, credentials.password]));
    registry = await startRegistry(dir, await freePort(), { htpasswd: join(dir, 'htpasswd') });
    stack = await Stack.start();
    await stack.startRunner();
    image = `${registry.address}/team/private-bench:latest`;
    const { buildAndPushImage } = await import('../../devenv/images');
    await buildAndPushImage({ reference: image, entrypoint: ['/bin/echo', '{"private": {"latency": {"value": 7}}}'], credentials });
  });
  afterAll(async () => {
    await stack?.stop();
    await registry?.stop();
  });

  it('runs with the job’s credentials, which are never shown back', async () => {
    const accepted = await stack.submit({ image, image_credentials: credentials });
    const job = await stack.waitForJob(accepted.job);
    expect(job.status).toBe('processed');
    expect(job.config).toMatchObject({ image_credentials: { username: 'ci', password: '***' } });
    expect(JSON.stringify(await stack.job(accepted.job))).not.toContain(credentials.password);
    expect((await stack.report(accepted.report)).results[0]).toMatchObject({ benchmark: 'private', value: 7 });
    await expectSealedRow(accepted.job);
  });

  /** The job's row as Postgres holds it: the username readable, the password sealed (BENCHLINE_SECRETS_KEY), nowhere in plaintext. */
  async function expectSealedRow(jobId: string) {
    const row = await stack.db<JobRow>('job').where({ id: jobId }).first();
    expect(row!.config.image_credentials).toEqual({ username: 'ci', password: expect.stringMatching(/^sealed:v1:/) });
    expect(JSON.stringify(row)).not.toContain(credentials.password);
  }

  it("a pipeline's job: stored sealed, its digest resolved by the orchestrator with the opened password", async () => {
    // Pipelines do not resolve digests at submission: the orchestrator's resolveImageDigest opens the password.
    const submitted = await stack.request<PipelineView>('POST', '/v0/pipelines', {
      project: stack.project.slug,
      jobs: [{ key: 'private', branch: 'main', testbed: 'ci', adapter: 'json', job: { image, image_credentials: credentials }, needs: [] }],
    });
    expect(submitted.status).toBe(202);
    const jobId = submitted.body.jobs[0].uuid;
    await expectSealedRow(jobId);
    expect(await stack.waitForJob(jobId)).toMatchObject({ status: 'processed', config: { image_credentials: { password: '***' } } });
  });

  it('a password sealed under another key fails its job at once, naming the credentials, never retried', async () => {
    // Stored as given (it reads as sealed already): as a row written under a key since replaced would be.
    const foreign = { username: 'ci', password: seal(credentials.password, Buffer.from(generateSecretsKey(), 'base64')) };
    const submitted = await stack.request<PipelineView>('POST', '/v0/pipelines', {
      project: stack.project.slug,
      jobs: [{ key: 'foreign', branch: 'main', testbed: 'ci', adapter: 'json', job: { image, image_credentials: foreign }, needs: [] }],
    });
    expect(submitted.status).toBe(202);
    const job = await stack.waitForJob(submitted.body.jobs[0].uuid);
    expect(job).toMatchObject({ status: 'failed', error: expect.stringContaining("the job's registry credentials: a sealed secret does not open with BENCHLINE_SECRETS_KEY") });
    // The lookup's one local try was final: no ordinary, retried resolveImageDigest followed it.
    const history = (await stack.client.workflow.getHandle(job.workflow_id).fetchHistory()).events!;
    expect(history.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'resolveImageDigest')).toHaveLength(0);
  });

  it('a schedule keeps its template sealed; a template written before sealing (plaintext) still runs', async () => {
    const base = `/v0/projects/${stack.project.slug}/schedules`;
    const created = await stack.request<ScheduleView>('POST', base, {
      cron: '0 4 * * *', paused: true, template: { kind: 'run', run: { branch: 'main', testbed: 'ci', adapter: 'json', job: { image, image_credentials: credentials } } },
    });
    expect(created.status).toBe(201);
    expect(created.body.template).toMatchObject({ run: { job: { image_credentials: { username: 'ci', password: '***' } } } });
    const row = await stack.db('schedule').where({ id: created.body.uuid }).first();
    expect(row.template.run.job.image_credentials.password).toMatch(/^sealed:v1:/);
    expect(JSON.stringify(row)).not.toContain(credentials.password);

    // As a row from before this change holds it: the run copies it into the job, which still pulls.
    row.template.run.job.image_credentials.password = credentials.password;
    await stack.db('schedule').where({ id: created.body.uuid }).update({ template: row.template });
    expect((await stack.request('POST', `${base}/${created.body.uuid}/trigger`)).status).toBe(202);
    const run = await waitFor('the triggered run to submit its job', async () => (await stack.request<ScheduleView>('GET', `${base}/${created.body.uuid}`)).body.last_runs.find((r) => r.job), 30000, 200);
    expect(await stack.waitForJob(run.job!)).toMatchObject({ status: 'processed' });
    expect((await stack.db<JobRow>('job').where({ id: run.job! }).first())!.config.image_credentials).toEqual(credentials);
  });

  it('without credentials the job fails at tag resolution, before any runner time', async () => {
    const accepted = await stack.submit({ image });
    const job = await stack.waitForJob(accepted.job);
    expect(job).toMatchObject({ status: 'failed', runner: null, error: `registry ${registry.address} refused access to team/private-bench` });
  });
});
