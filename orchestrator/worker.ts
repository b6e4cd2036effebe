import { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Knex } from 'knex';
import { createControlActivities } from '../activities';
import { CONTROL_TASK_QUEUE } from '../common/contracts';
import { OutboundGuard, type OutboundPolicy } from '../net/outbound';

export interface OrchestratorOptions {
  connection: NativeConnection;
  namespace?: string;
  db: Knex;
  taskQueue?: string;
  /** How often concurrency gates check their permit holders still run (default 60 s). */
  gateCheckIntervalSeconds?: number;
  /** Which hosts registry lookups may reach (private networks only in development). */
  outbound: OutboundPolicy;
  /** A prebuilt bundle (tests build one per run); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/** The control-plane worker: runs jobWorkflow and the activities that touch Postgres and registries. */
export function createOrchestratorWorker(options: OrchestratorOptions): Promise<Worker> {
  const namespace = options.namespace ?? 'default';
  const taskQueue = options.taskQueue ?? CONTROL_TASK_QUEUE;
  // Activities that start or signal workflows (the concurrency gate) share the worker's connection.
  const client = new Client({ connection: options.connection, namespace });
  return Worker.create({
    connection: options.connection,
    namespace,
    taskQueue,
    activities: createControlActivities(options.db, { client, taskQueue, checkIntervalSeconds: options.gateCheckIntervalSeconds }, new OutboundGuard(options.outbound)),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
  });
}
