import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { ControlActivities } from '../common/contracts';
import type { OutboundGuard } from '../net/outbound';
import { createGateActivities } from './gate';
import { createJobStateActivities } from './job-state';
import { withOutageWindow } from './outage';
import { createPipelineActivities } from './pipeline';
import { createProcessResultsActivities } from './process-results';
import { createReconcileActivities } from './reconcile';
import { createResolveActivities } from './resolve';
import { createScheduledRunActivities } from './scheduled-run';
import { createWebhookActivities, withWebhookEvents, type WebhookSettings } from './webhooks';

/**
 * The control-plane activities the orchestrator worker registers. `outbound` guards every connection
 * to a host a user named (registries and their token services). A job's database activities are
 * bounded by the database outage window; the gate and the reconciler keep retrying on their own terms.
 * The activities that settle a job or a pipeline also emit its webhook events; the deliveries go
 * through `outbound` too, their workflows on `webhooks.taskQueue`. Scheduled runs place their jobs
 * as submissions do: on runners seen within `runnerActiveSeconds`. `secretsKey` opens the sealed
 * registry passwords (digest resolution) and webhook secrets (signing) where they are used.
 */
export function createControlActivities(
  db: Knex,
  client: Client,
  outbound: OutboundGuard,
  settings: { dbOutageWindowSeconds: number; webhooks: WebhookSettings; runnerActiveSeconds: number; secretsKey: Buffer },
): ControlActivities {
  const { dbOutageWindowSeconds, webhooks } = settings;
  const { activities: delivery, events } = createWebhookActivities(db, client, outbound, webhooks, settings.secretsKey);
  const settling = withWebhookEvents({ ...createJobStateActivities(db), ...createProcessResultsActivities(db), ...createPipelineActivities(db) }, events, {
    jobs: ['recordRunResult', 'markJobFailed', 'markJobCanceled', 'processResults'],
    jobLists: ['settleUnstartedJobs'],
    pipelines: ['finishPipeline'],
  });
  return {
    ...createGateActivities(db, client),
    ...withOutageWindow({ ...createResolveActivities(db, outbound, settings.secretsKey), ...settling, ...createScheduledRunActivities(db, settings.runnerActiveSeconds) }, dbOutageWindowSeconds),
    ...createReconcileActivities(db, client, events),
    ...delivery,
  };
}
