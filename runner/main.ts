import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { version } from '../package.json';
import { createRunnerActivities } from './activities/run-job';
import { RunnerApi } from './api-client';
import { createSandboxExecutor } from './executors/sandbox';
import { ImageCache } from './images';
import { createRunnerWorker } from './worker';

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is required`);
    process.exit(2);
  }
  return value;
}

async function main() {
  const apiUrl = process.env.BENCHLINE_API_URL ?? 'http://127.0.0.1:8080';
  const runner = required('BENCHLINE_RUNNER');
  const token = required('BENCHLINE_RUNNER_TOKEN');
  const cacheDir = process.env.BENCHLINE_CACHE_DIR ?? join(tmpdir(), 'benchline-runner');
  const api = new RunnerApi(apiUrl, runner, token);
  const executor = createSandboxExecutor();
  const registered = await api.register({ version, executor: executor.name, host: executor.describe() });
  const spec = registered.specs.find((s) => !process.env.BENCHLINE_SPEC || s.slug === process.env.BENCHLINE_SPEC) ?? registered.specs[0];
  if (!spec) throw new Error(`runner ${registered.slug} serves no spec: assign one before starting it`);

  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
  const worker = await createRunnerWorker({
    connection,
    namespace: process.env.TEMPORAL_NAMESPACE,
    taskQueue: spec.task_queue,
    activities: createRunnerActivities({ api, images: new ImageCache(join(cacheDir, 'images')), executor, scratchRoot: join(cacheDir, 'jobs') }),
  });
  console.log(`runner ${registered.slug} (${executor.name}) polling ${spec.task_queue}`);
  await worker.run();
  await connection.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
