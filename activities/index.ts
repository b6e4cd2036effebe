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
import { createWebhookActivities, type WebhookSettings } from './webhooks';

/**
 * The control-plane activities the orchestrator worker registers. `outbound` guards every connection
 * to a host a user named (registries and their token services). A job's database activities are
 * bounded by the database outage window; the gate and the reconciler keep retrying on their own terms.
 * Webhook deliveries go through `outbound` too, and start their workflows on `webhooks.taskQueue`.
 */
export function createControlActivities(db: Knex, client: Client, outbound: OutboundGuard, dbOutageWindowSeconds: number, webhooks: WebhookSettings): ControlActivities {
  return {
    ...createGateActivities(db, client),
    ...withOutageWindow({ ...createResolveActivities(db, outbound), ...createJobStateActivities(db), ...createProcessResultsActivities(db), ...createPipelineActivities(db), ...createScheduledRunActivities(db) }, dbOutageWindowSeconds),
    ...createReconcileActivities(db, client),
    ...createWebhookActivities(db, client, outbound, webhooks),
  };
}
