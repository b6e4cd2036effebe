import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { logger } from '../common/logger';
import { installWorkerRuntime } from '../common/worker-runtime';
import { connect } from '../db/connection';
import { ensureReconcileSchedule } from './schedules';
import { createOrchestratorWorker, orchestratorEnv } from './worker';

async function main() {
  installWorkerRuntime();
  const db = connect(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/benchline');
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
  const options = orchestratorEnv();
  const worker = await createOrchestratorWorker({ connection, db, ...options });
  await ensureReconcileSchedule(new Client({ connection, namespace: options.namespace }), options.taskQueue!);
  // Worker.run resolves after SIGINT/SIGTERM, which the SDK turns into a graceful shutdown.
  await worker.run();
  await connection.close();
  await db.destroy();
}

main().catch((err) => {
  logger.fatal({ err }, 'orchestrator stopped');
  process.exit(1);
});
