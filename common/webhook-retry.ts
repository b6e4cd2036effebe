import { DEFAULT_WEBHOOK_RETRY, type WebhookRetry } from './contracts';

/**
 * The webhook retry policy from the environment, read by the orchestrator (events) and the api
 * (redeliveries) alike: BENCHLINE_WEBHOOK_MAX_ATTEMPTS, BENCHLINE_WEBHOOK_INITIAL_INTERVAL_MS,
 * BENCHLINE_WEBHOOK_BACKOFF_COEFFICIENT, BENCHLINE_WEBHOOK_MAX_INTERVAL_MS; DEFAULT_WEBHOOK_RETRY
 * for what is unset. A value that is not a number in range stops the process at start.
 */
export function webhookRetryFromEnv(env: NodeJS.ProcessEnv = process.env): WebhookRetry {
  const read = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) throw new Error(`${name} must be a number from ${min} to ${max}, got "${raw}"`);
    return value;
  };
  const retry = {
    maximumAttempts: Math.floor(read('BENCHLINE_WEBHOOK_MAX_ATTEMPTS', DEFAULT_WEBHOOK_RETRY.maximumAttempts, 1, 100)),
    initialIntervalMs: read('BENCHLINE_WEBHOOK_INITIAL_INTERVAL_MS', DEFAULT_WEBHOOK_RETRY.initialIntervalMs, 1, 86_400_000),
    backoffCoefficient: read('BENCHLINE_WEBHOOK_BACKOFF_COEFFICIENT', DEFAULT_WEBHOOK_RETRY.backoffCoefficient, 1, 100),
    maximumIntervalMs: read('BENCHLINE_WEBHOOK_MAX_INTERVAL_MS', DEFAULT_WEBHOOK_RETRY.maximumIntervalMs, 1, 86_400_000),
  };
  return { ...retry, maximumIntervalMs: Math.max(retry.maximumIntervalMs, retry.initialIntervalMs) };
}
