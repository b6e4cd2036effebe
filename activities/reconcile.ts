import { log } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { InvalidTransitionError, JOB_STATUSES, isTerminal, jobWorkflowId, pipelineWorkflowId } from '../common/contracts';
import { transitionJob } from '../db/jobs';
import { finishOrphanedPipeline, openPipelineJobs, runningPipelinesBefore, settleUnstartedJobs } from '../db/pipelines';
import { releaseAndHandOn } from './gate';
import type { WebhookEvents } from './webhooks';
import { workflowStatus } from './workflow-status';

const BATCH = 500;

/** A workflow that may still write its rows: neither reconciler touches what it answers for. */
const isLive = (status: string) => status === 'RUNNING' || status === 'CONTINUED_AS_NEW';

/**
 * `events`: the webhook events of what a pass settles. Best effort: a job or pipeline settled here is
 * not found again by a retried pass, so an event that fails is logged, not retried.
 */
export function createReconcileActivities(db: Knex, client: Client, events?: WebhookEvents) {
  const announce = async (emit: () => Promise<void> | undefined) => {
    try {
      await emit();
    } catch (err) {
      log.error('webhook events of a reconciled job or pipeline dropped', { error: (err as Error).message });
    }
  };
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
        if (isLive(status)) continue;
        // A pipeline's job has no workflow until its needs are met: its pipeline answers for it (settleOrphanedPipelines).
        if (status === 'NOT_FOUND' && pipelineId) continue;
        await releaseAndHandOn(db, client, id);
        try {
          await transitionJob(db, id, 'failed', { error: `the job's workflow ended (${status.toLowerCase()}) without settling it`, finished_at: new Date() });
          settled++;
          await announce(() => events?.jobEnded(id));
        } catch (err) {
          // Settled meanwhile by its own workflow: nothing to do.
          if (!(err instanceof InvalidTransitionError)) throw err;
        }
      }
      return settled;
    },

    /**
     * Ends pipelines whose workflow ended without ending them (terminated in the Temporal UI, or
     * lost): the jobs it never started are canceled, saying why, and once none of its jobs is open
     * the pipeline gets its status and counts from the job rows. A job whose own workflow still runs
     * (a child being canceled with its parent) settles itself; the pipeline waits for a later pass.
     * Returns how many pipelines were ended.
     */
    async settleOrphanedPipelines(minAgeSeconds: number): Promise<number> {
      const pipelines = await runningPipelinesBefore(db, new Date(Date.now() - minAgeSeconds * 1000), BATCH);
      let settled = 0;
      for (const pipelineId of pipelines) {
        const status = await workflowStatus(client, pipelineWorkflowId(pipelineId));
        if (isLive(status)) continue;
        const unstarted: string[] = [];
        let open = 0;
        for (const jobId of await openPipelineJobs(db, pipelineId)) {
          open++;
          if ((await workflowStatus(client, jobWorkflowId(jobId))) === 'NOT_FOUND') unstarted.push(jobId);
        }
        // With the pipeline's workflow gone, nothing will start these: conditional on pending, so a job that ended keeps how.
        const reason = `canceled: the pipeline's workflow ended (${status.toLowerCase()}) before the job started`;
        if (unstarted.length) await settleUnstartedJobs(db, unstarted.map((jobId) => ({ jobId, reason })), 'canceled');
        for (const jobId of unstarted) await announce(() => events?.jobEnded(jobId));
        if (open > unstarted.length) continue;
        if (await finishOrphanedPipeline(db, pipelineId, status === 'TERMINATED' || status === 'CANCELED')) {
          settled++;
          await announce(() => events?.pipelineEnded(pipelineId));
        }
      }
      return settled;
    },
  };
}
