import { ActivityFailure, proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { WebhookActivities, WebhookDeliveryInput, WebhookDeliveryOutcome } from '../common/contracts';

/**
 * One delivery of one event to one webhook: `deliverWebhook` retried by Temporal with exponential
 * backoff until the receiver answers 2xx or the attempts run out. The retry timers live in Temporal,
 * so a delivery survives restarts of every process; each attempt is stored by the activity itself.
 */
export async function webhookDeliveryWorkflow({ deliveryId, retry }: WebhookDeliveryInput): Promise<WebhookDeliveryOutcome> {
  const { giveUpDelivery } = proxyActivities<WebhookActivities>({ startToCloseTimeout: '30 seconds', retry: { maximumInterval: '1 minute', maximumAttempts: 20 } });
  const { deliverWebhook } = proxyActivities<WebhookActivities>({
    // Above the attempt's own 10 s deadline, plus the database writes around it.
    startToCloseTimeout: '1 minute',
    retry: {
      maximumAttempts: retry.maximumAttempts,
      initialInterval: retry.initialIntervalMs,
      backoffCoefficient: retry.backoffCoefficient,
      maximumInterval: retry.maximumIntervalMs,
    },
  });
  try {
    const outcome = await deliverWebhook(deliveryId, retry.maximumAttempts);
    setCurrentDetails(outcome === 'gone' ? 'the webhook was deleted' : 'delivered');
    return outcome;
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    // Every attempt is stored, with its error, in webhook_attempt; the last one may not have been able to say it was the last.
    await giveUpDelivery(deliveryId);
    setCurrentDetails(`gave up after ${retry.maximumAttempts} attempts`);
    return 'gave_up';
  }
}
