import { proxyActivities } from '@temporalio/workflow';
import type { ControlActivities } from '../common/contracts';

const { settleOrphanedJobs } = proxyActivities<ControlActivities>({ startToCloseTimeout: '10 minutes' });

/** Run on a Temporal Schedule by the orchestrator: settles jobs whose workflow ended without doing so. */
export async function reconcileJobsWorkflow(minAgeSeconds = 60): Promise<number> {
  return settleOrphanedJobs(minAgeSeconds);
}
