/**
 * Webhook delivery across processes: the api (redeliveries) and the orchestrator's activities (events)
 * start `webhookDeliveryWorkflow`; the workflow calls `deliverWebhook` until it succeeds or the
 * retry policy is spent. Types and constants only: workflow code imports this.
 */
export const WEBHOOK_DELIVERY_WORKFLOW = 'webhookDeliveryWorkflow';

export const WEBHOOK_EVENTS = ['job.completed', 'job.failed', 'job.canceled', 'alert.raised', 'pipeline.finished'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** One delivery's workflow id: a second start for the same delivery (a retried activity) is refused by Temporal. */
export function webhookDeliveryWorkflowId(deliveryId: string): string {
  return `webhook-delivery-${deliveryId}`;
}

/** Temporal's activity retry policy for the HTTP attempts: exponential backoff, bounded attempts. */
export interface WebhookRetry {
  maximumAttempts: number;
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
}

/** Eight attempts over about an hour and a half: 10 s, 30 s, 90 s … capped at 30 min apart. */
export const DEFAULT_WEBHOOK_RETRY: WebhookRetry = { maximumAttempts: 8, initialIntervalMs: 10_000, backoffCoefficient: 3, maximumIntervalMs: 1_800_000 };

export interface WebhookDeliveryInput {
  deliveryId: string;
  retry: WebhookRetry;
}

export type WebhookDeliveryOutcome = 'delivered' | 'gave_up' | 'gone';

/** The failure type of an attempt that did not deliver (retried by Temporal until the attempts run out). */
export const WEBHOOK_ATTEMPT_FAILED = 'WebhookAttemptFailed';

export interface WebhookActivities {
  /**
   * One HTTP attempt of a delivery, stored (idempotently, by delivery and attempt) before it returns
   * or throws WEBHOOK_ATTEMPT_FAILED; the last allowed attempt marks the delivery given up. 'gone':
   * the webhook (and so the delivery) was deleted meanwhile.
   */
  deliverWebhook(deliveryId: string, maximumAttempts: number): Promise<'delivered' | 'gone'>;
  /** Marks the delivery given up after its last attempt failed, in case that attempt could not (idempotent). */
  giveUpDelivery(deliveryId: string): Promise<void>;
}
