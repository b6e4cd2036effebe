import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { logger } from '../common/logger';
import { installWorkerRuntime } from '../common/worker-runtime';
import { outboundPolicyFromEnv } from '../net/outbound';
import { version } from '../package.json';
import { runDaemon } from './daemon';
import type { ExecutorName } from './executors/executor';
import { selectExecutor } from './executors/select';

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    logger.fatal(`${name} is required`);
    process.exit(2);
  }
  return value;
}

async function main() {
  installWorkerRuntime();
  // `--executor sandbox` (or BENCHLINE_EXECUTOR) for development; microVMs are the default where they can run.
  const { values } = parseArgs({ options: { executor: { type: 'string' } } });
  const requested = (values.executor ?? process.env.BENCHLINE_EXECUTOR) as ExecutorName | undefined;
  if (requested && requested !== 'microvm' && requested !== 'sandbox') throw new Error(`--executor must be microvm or sandbox, got "${requested}"`);
  const cacheDir = process.env.BENCHLINE_CACHE_DIR ?? join(tmpdir(), 'benchline-runner');
  await runDaemon({
    apiUrl: process.env.BENCHLINE_API_URL ?? 'http://127.0.0.1:8080',
    runner: required('BENCHLINE_RUNNER'),
    token: required('BENCHLINE_RUNNER_TOKEN'),
    temporalAddress: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    namespace: process.env.TEMPORAL_NAMESPACE,
    cacheDir,
    createExecutor: () => selectExecutor(requested, { cacheDir, kernelPath: process.env.BENCHLINE_KERNEL }),
    version,
    spec: process.env.BENCHLINE_SPEC,
    apiOutageWindowSeconds: process.env.BENCHLINE_API_OUTAGE_WINDOW_SECONDS ? Number(process.env.BENCHLINE_API_OUTAGE_WINDOW_SECONDS) : undefined,
    pingIntervalMs: process.env.BENCHLINE_PING_INTERVAL_MS ? Number(process.env.BENCHLINE_PING_INTERVAL_MS) : undefined,
    shutdownGraceTime: `${Number(process.env.BENCHLINE_SHUTDOWN_GRACE_SECONDS ?? 300)}s`,
    outbound: outboundPolicyFromEnv(),
  });
}

main().catch((err) => {
  logger.fatal({ err }, err instanceof Error ? err.message : String(err));
  process.exit(1);
});
