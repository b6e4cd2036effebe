import type { Knex } from 'knex';
import type { ControlActivities } from '../common/contracts';
import { createGateActivities, type GateActivityDeps } from './gate';
import { createJobStateActivities } from './job-state';
import { createProcessResultsActivities } from './process-results';
import { createReconcileActivities } from './reconcile';
import { createResolveActivities } from './resolve';

/** The control-plane activities the orchestrator worker registers. */
export function createControlActivities(db: Knex, temporal: GateActivityDeps): ControlActivities {
  return {
    ...createGateActivities(temporal),
    ...createResolveActivities(db),
    ...createJobStateActivities(db),
    ...createProcessResultsActivities(db),
    ...createReconcileActivities(db, temporal.client),
  };
}
