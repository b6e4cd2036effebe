import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { version } from '../package.json';
import { runDaemon } from './daemon';
import { createSandboxExecutor } from './executors/sandbox';

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is required`);
    process.exit(2);
  }
  return value;
}

runDaemon({
  apiUrl: process.env.BENCHLINE_API_URL ?? 'http://127.0.0.1:8080',
  runner: required('BENCHLINE_RUNNER'),
  token: required('BENCHLINE_RUNNER_TOKEN'),
  temporalAddress: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
  namespace: process.env.TEMPORAL_NAMESPACE,
  cacheDir: process.env.BENCHLINE_CACHE_DIR ?? join(tmpdir(), 'benchline-runner'),
  executor: createSandboxExecutor(),
  version,
  spec: process.env.BENCHLINE_SPEC,
  pingIntervalMs: process.env.BENCHLINE_PING_INTERVAL_MS ? Number(process.env.BENCHLINE_PING_INTERVAL_MS) : undefined,
  shutdownGraceTime: `${Number(process.env.BENCHLINE_SHUTDOWN_GRACE_SECONDS ?? 300)}s`,
}).catch((err) => {
  console.error(err);
  process.exit(1);
});
