import { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Knex } from 'knex';
import { createControlActivities } from '../activities';
import { DEFAULT_DB_OUTAGE_WINDOW_SECONDS, MAX_DB_OUTAGE_WINDOW_SECONDS } from '../activities/outage';
import { CONTROL_TASK_QUEUE, DEFAULT_WEBHOOK_RETRY, type WebhookRetry } from '../common/contracts';
import { commonEnv, envInt, envSecretsKey, envString, parseEnv } from '../common/env';
import { temporalTracingPlugins } from '../common/tracing';
import { DEFAULT_RUNNER_ACTIVE_SECONDS, runnerActivityEnv } from '../common/runner-activity';
import { webhookRetryFromEnv } from '../common/webhook-retry';
import { OutboundGuard, outboundEnv, outboundPolicyFromEnv, type OutboundPolicy } from '../net/outbound';

export interface OrchestratorOptions {
  connection: NativeConnection;
  namespace?: string;
  db: Knex;
  taskQueue?: string;
  /** Which hosts registry lookups may reach (private networks only in development). */
  outbound: OutboundPolicy;
  /** How long control activities retry against an unreachable database before the job fails (default 300 s). */
  dbOutageWindowSeconds?: number;
  /** How webhook deliveries are retried (default: BENCHLINE_WEBHOOK_* or DEFAULT_WEBHOOK_RETRY). */
  webhookRetry?: WebhookRetry;
  /** How recently a runner must have been seen for a scheduled run's spec to count it (default DEFAULT_RUNNER_ACTIVE_SECONDS). */
  runnerActiveSeconds?: number;
  /** BENCHLINE_SECRETS_KEY: opens the registry passwords and webhook secrets the activities use (common/secret-box.ts). */
  secretsKey: Buffer;
  /** A prebuilt bundle (tests build one per run); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/** The variables orchestratorEnv reads, for parseEnv. */
const orchestratorEnvShape = {
  TEMPORAL_NAMESPACE: commonEnv.TEMPORAL_NAMESPACE,
  BENCHLINE_CONTROL_TASK_QUEUE: envString(CONTROL_TASK_QUEUE),
  BENCHLINE_DB_OUTAGE_WINDOW_SECONDS: envInt(DEFAULT_DB_OUTAGE_WINDOW_SECONDS, { min: 1, max: MAX_DB_OUTAGE_WINDOW_SECONDS }),
  ...outboundEnv,
  ...runnerActivityEnv,
  BENCHLINE_SECRETS_KEY: envSecretsKey(),
};

/**
 * The orchestrator's settings from the environment (the orchestrator process, or an api hosting a
 * control worker); a ConfigError names each variable that does not parse.
 */
export function orchestratorEnv(env: NodeJS.ProcessEnv = process.env): Required<Pick<OrchestratorOptions, 'namespace' | 'taskQueue' | 'outbound' | 'dbOutageWindowSeconds' | 'webhookRetry' | 'runnerActiveSeconds' | 'secretsKey'>> {
  const e = parseEnv(orchestratorEnvShape, env);
  return {
    namespace: e.TEMPORAL_NAMESPACE,
    taskQueue: e.BENCHLINE_CONTROL_TASK_QUEUE,
    outbound: outboundPolicyFromEnv(env),
    dbOutageWindowSeconds: e.BENCHLINE_DB_OUTAGE_WINDOW_SECONDS,
    webhookRetry: webhookRetryFromEnv(env),
    runnerActiveSeconds: e.BENCHLINE_RUNNER_ACTIVE_SECONDS,
    secretsKey: e.BENCHLINE_SECRETS_KEY,
  };
}

/** The control-plane worker: runs jobWorkflow and the activities that touch Postgres and registries. */
export function createOrchestratorWorker(options: OrchestratorOptions): Promise<Worker> {
  const namespace = options.namespace ?? 'default';
  const taskQueue = options.taskQueue ?? CONTROL_TASK_QUEUE;
  const outageWindow = options.dbOutageWindowSeconds ?? DEFAULT_DB_OUTAGE_WINDOW_SECONDS;
  if (!(outageWindow > 0 && outageWindow <= MAX_DB_OUTAGE_WINDOW_SECONDS)) {
    throw new Error(`the database outage window must be between 1 and ${MAX_DB_OUTAGE_WINDOW_SECONDS} seconds, got ${outageWindow}`);
  }
  // Activities that signal or describe workflows (the tier permits, the reconciler) share the worker's connection.
  const client = new Client({ connection: options.connection, namespace, plugins: temporalTracingPlugins() });
  return Worker.create({
    connection: options.connection,
    namespace,
    taskQueue,
    activities: createControlActivities(options.db, client, new OutboundGuard(options.outbound), {
      dbOutageWindowSeconds: outageWindow,
      webhooks: { taskQueue, retry: options.webhookRetry ?? DEFAULT_WEBHOOK_RETRY },
      runnerActiveSeconds: options.runnerActiveSeconds ?? DEFAULT_RUNNER_ACTIVE_SECONDS,
      secretsKey: options.secretsKey,
    }),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    // When tracing (common/tracing.ts): workflow and activity spans, the workflow interceptors bundled
    // with the workflows. A prebuilt bundle (tests) has none: trace with workflowsPath.
    plugins: temporalTracingPlugins(),
    // Every job's first workflow task comes through the ordinary queue (later ones through this
    // worker's sticky queue): the SDK's default ratio, 0.2, leaves 2 of its 10 pollers for them, and a
    // burst of submissions queued behind those two (7 workflows/s reached the runner queue here).
    nonStickyToStickyPollRatio: 1,
  });
}
