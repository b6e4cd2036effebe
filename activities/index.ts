import type { Knex } from 'knex';
import { createGateActivities, type GateActivityDeps } from './gate';
import { createJobStateActivities } from './job-state';
import { createProcessResultsActivities } from './process-results';
import { createResolveActivities } from './resolve';

/** The control-plane activities the orchestrator worker registers. */
export function createControlActivities(db: Knex, gate: GateActivityDeps) {
  return {
    ...createGateActivities(gate),
    ...createResolveActivities(db),
    ...createJobStateActivities(db),
    ...createProcessResultsActivities(db),
  };
}

export type ControlActivities = ReturnType<typeof createControlActivities>;
