import { CancellationScope, patched, proxyActivities } from '@temporalio/workflow';
import type { WebhookActivities } from '../common/contracts';

/**
 * Webhook events for a job or pipeline that ended: one activity after the row is settled, which
 * stores the events and starts their deliveries (activities/webhooks.ts). Its own bounded retries,
 * and failures swallowed: webhooks must never change how a job or pipeline ends. Behind patched(),
 * so histories recorded before webhooks existed replay unchanged.
 */
const events = proxyActivities<WebhookActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10 },
});

export const WEBHOOK_EVENTS_PATCH = 'webhook-events';

async function announce(emit: () => Promise<void>): Promise<void> {
  if (!patched(WEBHOOK_EVENTS_PATCH)) return;
  // Also on the way out of a canceled workflow: the job's cancellation is an event too.
  await CancellationScope.nonCancellable(async () => {
    try {
      await emit();
    } catch {
      // Given up after its retries (the events' database or Temporal unreachable for minutes): the
      // job's outcome stands; the event is lost, which the activity's failure in history shows.
    }
  });
}

export const announceJobEnd = (jobId: string) => announce(() => events.emitJobEvents(jobId));
export const announcePipelineEnd = (pipelineId: string) => announce(() => events.emitPipelineEvents(pipelineId));
