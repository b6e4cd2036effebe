import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { commonEnv, exitOnStartupError, parseEnv } from '../common/env';
import { buildInfo } from '../common/build-info';
import { logger } from '../common/logger';
import { startTracing, stopTracing, temporalTracingPlugins } from '../common/tracing';
import { installWorkerRuntime } from '../common/worker-runtime';
import { databaseConfig, databaseEnv } from '../db/config';
import { connect } from '../db/connection';
import { checkDatabaseAtStart } from '../db/startup';
import { ensureReconcileSchedule } from './schedules';
import { createOrchestratorWorker, orchestratorEnv } from './worker';

async function main() {
  // Every setting parsed, the database reached and its migrations current, before any work is taken.
  const env = parseEnv({ ...commonEnv, ...databaseEnv }, process.env);
  // Recorded at start, so a log line says which build handled what (drift shows on the api's runner board).
  logger.info({ build: buildInfo() }, 'orchestrator starting');
  const options = orchestratorEnv();
  startTracing('orchestrator');
  const database = databaseConfig(env);
  await checkDatabaseAtStart(database, logger);
  installWorkerRuntime();
  const db = connect(database.url, undefined, { breaker: database.breaker, slowQueryMs: database.slowQueryMs });
  const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
  const worker = await createOrchestratorWorker({ connection, db, ...options });
  await ensureReconcileSchedule(new Client({ connection, namespace: options.namespace, plugins: temporalTracingPlugins() }), options.taskQueue);
  // Worker.run resolves after SIGINT/SIGTERM, which the SDK turns into a graceful shutdown.
  await worker.run();
  await connection.close();
  await db.destroy();
  await stopTracing();
}

main().catch((err) => exitOnStartupError('orchestrator', err, () => logger.fatal({ err }, 'orchestrator stopped')));
