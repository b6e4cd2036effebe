import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { exitOnStartupError } from '../common/env';
import { logger } from '../common/logger';
import { startTracing, stopTracing, temporalTracingPlugins } from '../common/tracing';
import { buildInfo } from '../common/build-info';
import { installWorkerRuntime } from '../common/worker-runtime';
import { createOrchestratorWorker, orchestratorEnv } from '../orchestrator/worker';
import { connect } from '../db/connection';
import { checkDatabaseAtStart } from '../db/startup';
import { buildApp } from './app';
import { apiConfigFromEnv } from './config';
import { drain } from './lifecycle';

async function main() {
  // Every setting parsed, the database reached and its migrations current, before the port opens.
  const config = apiConfigFromEnv();
  startTracing('api');
  const orchestrator = config.controlWorker ? orchestratorEnv() : undefined;
  await checkDatabaseAtStart(config.database, logger);
  const { breaker, slowQueryMs } = config.database;
  const db = connect(config.databaseUrl, undefined, { breaker, slowQueryMs });
  if (orchestrator) installWorkerRuntime();
  // A hosted control worker and the client share one native connection: eager workflow start needs it.
  const native = config.controlWorker ? await NativeConnection.connect({ address: config.temporalAddress }) : undefined;
  const connection = native ?? (await Connection.connect({ address: config.temporalAddress }));
  const temporal = new Client({ connection, namespace: config.temporalNamespace, plugins: temporalTracingPlugins() });
  const worker = native && orchestrator
    ? await createOrchestratorWorker({ connection: native, db, ...orchestrator, namespace: config.temporalNamespace, taskQueue: config.controlTaskQueue })
    : undefined;
  const working = worker?.run();
  const app = await buildApp({ db, temporal, config });
  // Read once at start: the runner board compares every runner's build with this one.
  app.log.info({ build: buildInfo() }, 'api starting');
  // Once: a second SIGTERM or Ctrl-C takes the default action and ends the process at once.
  const shutdown = async (signal: NodeJS.Signals) => {
    app.log.info({ signal, ...config.shutdown }, 'draining: readiness false, finishing requests in flight');
    const drained = await drain(app, config.shutdown);
    worker?.shutdown();
    await working;
    await connection.close();
    await db.destroy();
    await stopTracing();
    process.exit(drained ? 0 : 1);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  await app.listen({ host: config.host, port: config.port });
}

main().catch((err) => exitOnStartupError('api', err, () => console.error(err)));
