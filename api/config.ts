import { CONTROL_TASK_QUEUE, type WebhookRetry } from '../common/contracts';
import { webhookRetryFromEnv } from '../common/webhook-retry';
import { runnerActivityEnv } from '../common/runner-activity';
import { outboundEnv, outboundPolicyFromEnv, ownRegistriesFromEnv, type OutboundPolicy } from '../net/outbound';
import { commonEnv, envBool, envInt, envList, envPositive, envSecretsKey, envString, envUrl, parseEnv } from '../common/env';
import { databaseConfig, databaseEnv, type DatabaseConfig } from '../db/config';
import type { LeaseTimeouts } from '../db/runner-lease';
import type { RateLimits } from './rate-limit';

/** The api's settings, all from the environment with embedded defaults for the dev stack. */
export interface ApiConfig {
  databaseUrl: string;
  temporalAddress: string;
  temporalNamespace: string;
  /** Base of the Temporal Web UI, for links to each job's workflow. */
  temporalUiUrl: string;
  host: string;
  port: number;
  /** Trust X-Forwarded-For (set when behind a load balancer) for source-IP limits. */
  trustProxy: boolean;
  /** The orchestrator's task queue, where job workflows start. */
  controlTaskQueue: string;
  /**
   * Host a control-queue worker in the api process, on the api's own Temporal connection, and start
   * job workflows eagerly: the start call hands back the workflow's first task to that worker, with
   * no trip through the task queue (the development topology). Off: a separate orchestrator runs
   * the control queue (production) and starts are ordinary.
   */
  controlWorker: boolean;
  /** Dispatch policy handed to each job workflow: how long a runner may go silent, and a job may wait. */
  heartbeatTimeoutSeconds: number;
  queueLimitSeconds: number;
  /** How often a job waiting for its tier's concurrency permit checks for holders that died. */
  permitCheckIntervalSeconds: number;
  /**
   * How long a submission waits for Temporal to start its workflow before answering 503 (and
   * writing nothing). Keep it well under the workflow's wait for the submission's commit.
   */
  workflowStartTimeoutSeconds: number;
  /** Submission rate limits (POST /v0/run), per token and per source IP, per window. */
  rateLimits: RateLimits;
  /** Bearer token Prometheus scrapes /metrics with; unset: loopback clients only. */
  metricsToken?: string;
  /**
   * Registries jobs may pull from (host[:port]); unset: any. The orchestrator contacts the registry
   * a user names, so production deployments should list theirs.
   */
  allowedRegistries?: string[];
  /**
   * Registries anonymous (unclaimed, no-token) submissions may name: BENCHLINE_ANONYMOUS_REGISTRIES,
   * else the server's own (BENCHLINE_OWN_REGISTRY), else none.
   */
  anonymousRegistries: string[];
  /**
   * Which registry addresses a submission's image lookup may connect to (BENCHLINE_ALLOW_PRIVATE_NETWORKS,
   * BENCHLINE_OWN_REGISTRY, BENCHLINE_INSECURE_REGISTRIES), as for the orchestrator.
   */
  outbound: OutboundPolicy;
  /**
   * How long a submission waits for the registry to name its image's digest. In time, the job is
   * pinned in the submission's own transaction and dispatched by the workflow's first task;
   * otherwise the workflow resolves it (retried through outages), so a slow registry delays the job
   * but never fails the submission.
   */
  imageResolveBudgetMs: number;
  /** The pool's breaker, slow-query threshold and the checks at start (db/config.ts). */
  database: DatabaseConfig;
  /**
   * SIGTERM: readiness turns false at once; the api keeps serving `delayMs` (for a load balancer to
   * notice), then stops accepting and gives in-flight requests up to `timeoutMs` to finish.
   */
  shutdown: { delayMs: number; timeoutMs: number };
  /** How a redelivery's attempts are retried: the orchestrator's policy for events (BENCHLINE_WEBHOOK_*). */
  webhookRetry: WebhookRetry;
  /**
   * When a runner daemon's lease expires unless renewed (its pings renew it): staleSeconds, or
   * stoppingSeconds once the daemon announced it is draining a job. Only then may another daemon
   * of the runner take over.
   */
  runnerLease: LeaseTimeouts;
  /** A spec accepts jobs only while a runner serving it was seen within this many seconds (db/specs.ts jobRoute). */
  runnerActiveSeconds: number;
  /**
   * BENCHLINE_SECRETS_KEY: seals registry passwords and webhook signing secrets before they are
   * written, and opens a job's password for the runner that claims it (common/secret-box.ts).
   */
  secretsKey: Buffer;
}

/** Every variable the api reads, parsed (parseEnv: a bad one fails the start, naming it). */
const apiEnv = {
  ...commonEnv,
  ...databaseEnv,
  ...outboundEnv,
  ...runnerActivityEnv,
  TEMPORAL_UI_URL: envUrl('http://127.0.0.1:8233', ['http:', 'https:']),
  BENCHLINE_API_HOST: envString('127.0.0.1'),
  BENCHLINE_API_PORT: envInt(8080, { max: 65535 }),
  BENCHLINE_TRUST_PROXY: envBool(),
  BENCHLINE_CONTROL_TASK_QUEUE: envString(CONTROL_TASK_QUEUE),
  BENCHLINE_API_CONTROL_WORKER: envBool(),
  BENCHLINE_HEARTBEAT_TIMEOUT_SECONDS: envInt(30, { min: 1 }),
  BENCHLINE_QUEUE_LIMIT_SECONDS: envInt(3600, { min: 1 }),
  BENCHLINE_PERMIT_CHECK_INTERVAL_SECONDS: envInt(60, { min: 1 }),
  BENCHLINE_WORKFLOW_START_TIMEOUT_SECONDS: envPositive(10),
  BENCHLINE_RATE_LIMIT_PER_TOKEN: envInt(120, { min: 1 }),
  BENCHLINE_RATE_LIMIT_PER_IP: envInt(60, { min: 1 }),
  BENCHLINE_RATE_LIMIT_WINDOW_SECONDS: envInt(60, { min: 1 }),
  BENCHLINE_METRICS_TOKEN: envString(undefined),
  BENCHLINE_ALLOWED_REGISTRIES: envList(),
  BENCHLINE_ANONYMOUS_REGISTRIES: envList(),
  BENCHLINE_IMAGE_RESOLVE_BUDGET_MS: envInt(1000),
  BENCHLINE_SHUTDOWN_DELAY_MS: envInt(0, { max: 600000 }),
  BENCHLINE_SHUTDOWN_TIMEOUT_MS: envInt(25000, { min: 1, max: 600000 }),
  BENCHLINE_RUNNER_LEASE_STALE_SECONDS: envPositive(30),
  BENCHLINE_RUNNER_LEASE_STOPPING_SECONDS: envPositive(60),
  BENCHLINE_SECRETS_KEY: envSecretsKey(),
};

/** Throws a ConfigError naming every variable that does not parse. */
export function apiConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const e = parseEnv(apiEnv, env);
  return {
    databaseUrl: e.DATABASE_URL,
    database: databaseConfig(e),
    temporalAddress: e.TEMPORAL_ADDRESS,
    temporalNamespace: e.TEMPORAL_NAMESPACE,
    temporalUiUrl: e.TEMPORAL_UI_URL,
    host: e.BENCHLINE_API_HOST,
    port: e.BENCHLINE_API_PORT,
    trustProxy: e.BENCHLINE_TRUST_PROXY,
    controlTaskQueue: e.BENCHLINE_CONTROL_TASK_QUEUE,
    controlWorker: e.BENCHLINE_API_CONTROL_WORKER,
    heartbeatTimeoutSeconds: e.BENCHLINE_HEARTBEAT_TIMEOUT_SECONDS,
    queueLimitSeconds: e.BENCHLINE_QUEUE_LIMIT_SECONDS,
    permitCheckIntervalSeconds: e.BENCHLINE_PERMIT_CHECK_INTERVAL_SECONDS,
    workflowStartTimeoutSeconds: e.BENCHLINE_WORKFLOW_START_TIMEOUT_SECONDS,
    rateLimits: {
      perToken: e.BENCHLINE_RATE_LIMIT_PER_TOKEN,
      perIp: e.BENCHLINE_RATE_LIMIT_PER_IP,
      windowSeconds: e.BENCHLINE_RATE_LIMIT_WINDOW_SECONDS,
    },
    metricsToken: e.BENCHLINE_METRICS_TOKEN,
    allowedRegistries: e.BENCHLINE_ALLOWED_REGISTRIES,
    anonymousRegistries: e.BENCHLINE_ANONYMOUS_REGISTRIES ?? ownRegistriesFromEnv(env),
    outbound: outboundPolicyFromEnv(env),
    imageResolveBudgetMs: e.BENCHLINE_IMAGE_RESOLVE_BUDGET_MS,
    shutdown: { delayMs: e.BENCHLINE_SHUTDOWN_DELAY_MS, timeoutMs: e.BENCHLINE_SHUTDOWN_TIMEOUT_MS },
    webhookRetry: webhookRetryFromEnv(env),
    runnerLease: { staleSeconds: e.BENCHLINE_RUNNER_LEASE_STALE_SECONDS, stoppingSeconds: e.BENCHLINE_RUNNER_LEASE_STOPPING_SECONDS },
    runnerActiveSeconds: e.BENCHLINE_RUNNER_ACTIVE_SECONDS,
    secretsKey: e.BENCHLINE_SECRETS_KEY,
  };
}

export function workflowUiUrl(config: Pick<ApiConfig, 'temporalUiUrl' | 'temporalNamespace'>, workflowId: string): string {
  return `${config.temporalUiUrl}/namespaces/${encodeURIComponent(config.temporalNamespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
