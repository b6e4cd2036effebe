import { DEFAULT_WEBHOOK_RETRY, type WebhookRetry } from './contracts';
import { envInt, envPositive, parseEnv } from './env';

const DAY_MS = 86_400_000;

/** The variables of the webhook retry policy; DEFAULT_WEBHOOK_RETRY for what is unset. */
export const webhookRetryEnv = {
  BENCHLINE_WEBHOOK_MAX_ATTEMPTS: envInt(DEFAULT_WEBHOOK_RETRY.maximumAttempts, { min: 1, max: 100 }),
  BENCHLINE_WEBHOOK_INITIAL_INTERVAL_MS: envInt(DEFAULT_WEBHOOK_RETRY.initialIntervalMs, { min: 1, max: DAY_MS }),
  BENCHLINE_WEBHOOK_BACKOFF_COEFFICIENT: envPositive(DEFAULT_WEBHOOK_RETRY.backoffCoefficient),
  BENCHLINE_WEBHOOK_MAX_INTERVAL_MS: envInt(DEFAULT_WEBHOOK_RETRY.maximumIntervalMs, { min: 1, max: DAY_MS }),
};

/**
 * The webhook retry policy from the environment, read by the orchestrator (events) and the api
 * (redeliveries) alike. A value out of range stops the process at start (ConfigError naming it).
 */
export function webhookRetryFromEnv(env: NodeJS.ProcessEnv = process.env): WebhookRetry {
  const e = parseEnv(webhookRetryEnv, env);
  return {
    maximumAttempts: e.BENCHLINE_WEBHOOK_MAX_ATTEMPTS,
    initialIntervalMs: e.BENCHLINE_WEBHOOK_INITIAL_INTERVAL_MS,
    // Temporal refuses a coefficient below 1.
    backoffCoefficient: Math.max(1, e.BENCHLINE_WEBHOOK_BACKOFF_COEFFICIENT),
    maximumIntervalMs: Math.max(e.BENCHLINE_WEBHOOK_MAX_INTERVAL_MS, e.BENCHLINE_WEBHOOK_INITIAL_INTERVAL_MS),
  };
}
