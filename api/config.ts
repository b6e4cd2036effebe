import { CONTROL_TASK_QUEUE, type WebhookRetry } from '../common/contracts';
import { webhookRetryFromEnv } from '../common/webhook-retry';
import { outboundPolicyFromEnv, ownRegistriesFromEnv, type OutboundPolicy } from '../net/outbound';
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
  /** How a redelivery's attempts are retried: the orchestrator's policy for events (BENCHLINE_WEBHOOK_*). */
  webhookRetry: WebhookRetry;
}

export function apiConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return {
    databaseUrl: env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/benchline',
    temporalAddress: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    temporalNamespace: env.TEMPORAL_NAMESPACE ?? 'default',
    temporalUiUrl: env.TEMPORAL_UI_URL ?? 'http://127.0.0.1:8233',
    host: env.BENCHLINE_API_HOST ?? '127.0.0.1',
    port: Number(env.BENCHLINE_API_PORT ?? 8080),
    trustProxy: env.BENCHLINE_TRUST_PROXY === 'true',
    controlTaskQueue: env.BENCHLINE_CONTROL_TASK_QUEUE ?? CONTROL_TASK_QUEUE,
    controlWorker: env.BENCHLINE_API_CONTROL_WORKER === 'true',
    heartbeatTimeoutSeconds: Number(env.BENCHLINE_HEARTBEAT_TIMEOUT_SECONDS ?? 30),
    queueLimitSeconds: Number(env.BENCHLINE_QUEUE_LIMIT_SECONDS ?? 3600),
    permitCheckIntervalSeconds: Number(env.BENCHLINE_PERMIT_CHECK_INTERVAL_SECONDS ?? 60),
    workflowStartTimeoutSeconds: Number(env.BENCHLINE_WORKFLOW_START_TIMEOUT_SECONDS ?? 10),
    rateLimits: {
      perToken: Number(env.BENCHLINE_RATE_LIMIT_PER_TOKEN ?? 120),
      perIp: Number(env.BENCHLINE_RATE_LIMIT_PER_IP ?? 60),
      windowSeconds: Number(env.BENCHLINE_RATE_LIMIT_WINDOW_SECONDS ?? 60),
    },
    metricsToken: env.BENCHLINE_METRICS_TOKEN || undefined,
    allowedRegistries: env.BENCHLINE_ALLOWED_REGISTRIES ? list(env.BENCHLINE_ALLOWED_REGISTRIES) : undefined,
    anonymousRegistries: env.BENCHLINE_ANONYMOUS_REGISTRIES !== undefined ? list(env.BENCHLINE_ANONYMOUS_REGISTRIES) : ownRegistriesFromEnv(env),
    outbound: outboundPolicyFromEnv(env),
    imageResolveBudgetMs: Number(env.BENCHLINE_IMAGE_RESOLVE_BUDGET_MS ?? 1000),
    webhookRetry: webhookRetryFromEnv(env),
  };
}

const list = (value: string) => value.split(',').map((r) => r.trim()).filter(Boolean);

export function workflowUiUrl(config: Pick<ApiConfig, 'temporalUiUrl' | 'temporalNamespace'>, workflowId: string): string {
  return `${config.temporalUiUrl}/namespaces/${encodeURIComponent(config.temporalNamespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
