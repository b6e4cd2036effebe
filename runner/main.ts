import { parseArgs } from 'node:util';
import { ConfigError, exitOnStartupError } from '../common/env';
import { buildInfo } from '../common/build-info';
import { logger } from '../common/logger';
import { startTracing, stopTracing } from '../common/tracing';
import { installWorkerRuntime } from '../common/worker-runtime';
import { outboundPolicyFromEnv } from '../net/outbound';
import { version } from '../package.json';
import { runnerConfigFromEnv } from './config';
import { runDaemon } from './daemon';
import type { ExecutorName } from './executors/executor';
import { selectExecutor } from './executors/select';

async function main() {
  // Every setting parsed before anything starts: a typo is one line naming the variable, exit 2.
  const config = runnerConfigFromEnv();
  logger.info({ build: buildInfo() }, 'runner daemon starting');
  // `--executor sandbox` (or BENCHLINE_EXECUTOR) for development; microVMs are the default where they can run.
  const { values } = parseArgs({ options: { executor: { type: 'string' } } });
  if (values.executor !== undefined && values.executor !== 'microvm' && values.executor !== 'sandbox') {
    throw new ConfigError(`--executor must be microvm or sandbox, got "${values.executor}"`);
  }
  const requested = (values.executor as ExecutorName | undefined) ?? config.executor;
  startTracing('runner');
  installWorkerRuntime();
  // However the daemon ends (a refusal, a lost lease, a worker failure): its last spans are the telling ones.
  try {
    await runDaemon({
      apiUrl: config.apiUrl,
      runner: config.runner,
      token: config.token,
      temporalAddress: config.temporalAddress,
      namespace: config.namespace,
      cacheDir: config.cacheDir,
      imageCacheMaxBytes: config.imageCacheMaxBytes,
      createExecutor: () => selectExecutor(requested, { cacheDir: config.cacheDir, kernelPath: config.kernelPath }),
      version,
      spec: config.spec,
      apiOutageWindowSeconds: config.apiOutageWindowSeconds,
      pingIntervalMs: config.pingIntervalMs,
      hostname: config.hostname,
      shutdownGraceTime: `${config.shutdownGraceSeconds}s`,
      outbound: outboundPolicyFromEnv(),
    });
  } finally {
    await stopTracing();
  }
}

main().catch((err) => exitOnStartupError('runner', err, () => logger.fatal({ err }, err instanceof Error ? err.message : String(err))));
