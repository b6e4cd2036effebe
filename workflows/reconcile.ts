import { proxyActivities } from '@temporalio/workflow';
import type { ControlActivities } from '../common/contracts';

const { settleOrphanedJobs, settleOrphanedPipelines } = proxyActivities<ControlActivities>({ startToCloseTimeout: '10 minutes' });

/**
 * Run on a Temporal Schedule by the orchestrator: settles jobs, then pipelines, whose workflow ended
 * without doing so (jobs first, so a pipeline whose last open job this pass settles ends in it too).
 * Returns how many jobs and pipelines it settled.
 */
export async function reconcileJobsWorkflow(minAgeSeconds = 60): Promise<number> {
  const jobs = await settleOrphanedJobs(minAgeSeconds);
  return jobs + (await settleOrphanedPipelines(minAgeSeconds));
}
