import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { logger } from '../common/logger';
import { installWorkerRuntime } from '../common/worker-runtime';
import { CONTROL_TASK_QUEUE } from '../common/contracts';
import { connect } from '../db/connection';
import { outboundPolicyFromEnv } from '../net/outbound';
import { ensureReconcileSchedule } from './schedules';
import { createOrchestratorWorker } from './worker';

async function main() {
  installWorkerRuntime();
  const db = connect(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/benchline');
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  const taskQueue = process.env.BENCHLINE_CONTROL_TASK_QUEUE ?? CONTROL_TASK_QUEUE;
  const dbOutageWindowSeconds = process.env.BENCHLINE_DB_OUTAGE_WINDOW_SECONDS ? Number(process.env.BENCHLINE_DB_OUTAGE_WINDOW_SECONDS) : undefined;
  const worker = await createOrchestratorWorker({ connection, db, namespace, taskQueue, outbound: outboundPolicyFromEnv(), dbOutageWindowSeconds });
  await ensureReconcileSchedule(new Client({ connection, namespace }), taskQueue);
  // Worker.run resolves after SIGINT/SIGTERM, which the SDK turns into a graceful shutdown.
  await worker.run();
  await connection.close();
  await db.destroy();
}

main().catch((err) => {
  logger.fatal({ err }, 'orchestrator stopped');
  process.exit(1);
});
