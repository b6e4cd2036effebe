import type { Knex } from 'knex';
import type { ControlActivities } from '../common/contracts';
import type { OutboundGuard } from '../net/outbound';
import { createGateActivities, type GateActivityDeps } from './gate';
import { createJobStateActivities } from './job-state';
import { createProcessResultsActivities } from './process-results';
import { createReconcileActivities } from './reconcile';
import { createResolveActivities } from './resolve';

/**
 * The control-plane activities the orchestrator worker registers. `outbound` guards every connection
 * to a host a user named (registries and their token services).
 */
export function createControlActivities(db: Knex, temporal: GateActivityDeps, outbound: OutboundGuard): ControlActivities {
  return {
    ...createGateActivities(temporal),
    ...createResolveActivities(db, outbound),
    ...createJobStateActivities(db),
    ...createProcessResultsActivities(db),
    ...createReconcileActivities(db, temporal.client),
  };
}
