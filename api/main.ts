import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { installWorkerRuntime } from '../common/worker-runtime';
import { createOrchestratorWorker, orchestratorEnv } from '../orchestrator/worker';
import { connect } from '../db/connection';
import { buildApp } from './app';
import { apiConfigFromEnv } from './config';

async function main() {
  const config = apiConfigFromEnv();
  const db = connect(config.databaseUrl);
  if (config.controlWorker) installWorkerRuntime();
  // A hosted control worker and the client share one native connection: eager workflow start needs it.
  const native = config.controlWorker ? await NativeConnection.connect({ address: config.temporalAddress }) : undefined;
  const connection = native ?? (await Connection.connect({ address: config.temporalAddress }));
  const temporal = new Client({ connection, namespace: config.temporalNamespace });
  const worker = native
    ? await createOrchestratorWorker({ connection: native, db, ...orchestratorEnv(), namespace: config.temporalNamespace, taskQueue: config.controlTaskQueue })
    : undefined;
  const working = worker?.run();
  const app = await buildApp({ db, temporal, config });
  const shutdown = async () => {
    await app.close();
    worker?.shutdown();
    await working;
    await connection.close();
    await db.destroy();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  await app.listen({ host: config.host, port: config.port });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
