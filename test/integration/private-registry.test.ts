import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type RunningRegistry } from '../../devenv/registry';
import { freePort } from '../../devenv/wait';
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
  });

  it('without credentials the job fails at tag resolution, before any runner time', async () => {
    const accepted = await stack.submit({ image });
    const job = await stack.waitForJob(accepted.job);
    expect(job).toMatchObject({ status: 'failed', runner: null, error: `registry ${registry.address} refused access to team/private-bench` });
  });
});
