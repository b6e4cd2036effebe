import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { grantedSignal, jobWorkflowId, type TierGate } from '../common/contracts';
import { checkPermit, permitHolders, releasePermit } from '../db/permits';
import { workflowStatus } from './workflow-status';

/**
 * Gives a job's permits back and tells the jobs it went to. A job whose workflow no longer
 * runs cannot use a permit it was granted: that one is passed on in turn, so none is lost.
 */
export async function releaseAndHandOn(db: Knex, client: Client, jobId: string): Promise<void> {
  const granted = await releasePermit(db, jobId);
  await tellGranted(db, client, granted);
}

/** Signals the jobs a release granted; a grant whose workflow no longer runs is passed on. */
export async function tellGranted(db: Knex, client: Client, granted: string[]): Promise<void> {
  for (let next = granted.shift(); next !== undefined; next = granted.shift()) {
    try {
      await client.workflow.getHandle(jobWorkflowId(next)).signal(grantedSignal);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      granted.push(...(await releasePermit(db, next)));
    }
  }
}

/** The activities of the concurrency limits (tiers, rules); the permits themselves are taken at submission (db/permits.ts). */
export function createGateActivities(db: Knex, client: Client) {
  return {
    async releasePermit(jobId: string): Promise<void> {
      await releaseAndHandOn(db, client, jobId);
    },

    /**
     * For a job waiting at its gates: reclaims the permits of holders whose workflow no longer runs
     * (terminated, timed out: no workflow code ran to give them back), then grants what is free
     * in arrival order. True when this job holds its permits.
     */
    async checkPermit(jobId: string, gates: TierGate[]): Promise<boolean> {
      for (const holder of await permitHolders(db, gates.map((g) => g.id))) {
        if ((await workflowStatus(client, jobWorkflowId(holder))) !== 'RUNNING') await releaseAndHandOn(db, client, holder);
      }
      const { held, granted } = await checkPermit(db, jobId, gates);
      await tellGranted(db, client, granted);
      return held;
    },
  };
}
