import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { InvalidTransitionError, JOB_STATUSES, isTerminal, jobWorkflowId, pipelineWorkflowId } from '../common/contracts';
import { transitionJob } from '../db/jobs';
import { releaseAndHandOn } from './gate';
import { workflowStatus } from './workflow-status';

const BATCH = 500;

export function createReconcileActivities(db: Knex, client: Client) {
  return {
    /**
     * Settles jobs whose workflow ended without settling them (terminated in the Temporal UI, or
     * never started): they are failed, saying why, and their tier permit goes to the next waiting
     * job. Returns how many were settled.
     */
    async settleOrphanedJobs(minAgeSeconds: number): Promise<number> {
      const open = JOB_STATUSES.filter((s) => !isTerminal(s));
      const jobs = await db('job')
        .whereIn('status', open)
        // Younger jobs are left alone: their workflow may just be starting.
        .where('created_at', '<', new Date(Date.now() - minAgeSeconds * 1000))
        .orderBy('created_at')
        .limit(BATCH)
        .select('id', 'pipeline_id');
      let settled = 0;
      for (const { id, pipeline_id: pipelineId } of jobs) {
        const status = await workflowStatus(client, jobWorkflowId(id));
        if (status === 'RUNNING' || status === 'CONTINUED_AS_NEW') continue;
        // A pipeline's job has no workflow until its needs are met: its pipeline's workflow answers for it meanwhile.
        if (status === 'NOT_FOUND' && pipelineId && (await workflowStatus(client, pipelineWorkflowId(pipelineId))) === 'RUNNING') continue;
        await releaseAndHandOn(db, client, id);
        try {
          await transitionJob(db, id, 'failed', { error: `the job's workflow ended (${status.toLowerCase()}) without settling it`, finished_at: new Date() });
          settled++;
        } catch (err) {
          // Settled meanwhile by its own workflow: nothing to do.
          if (!(err instanceof InvalidTransitionError)) throw err;
        }
      }
      return settled;
    },
  };
}
