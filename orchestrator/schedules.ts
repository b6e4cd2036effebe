import { ScheduleAlreadyRunning, type Client } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { RECONCILE_JOBS_WORKFLOW } from '../common/contracts';

export const RECONCILE_SCHEDULE_ID = 'benchline-reconcile-jobs';

/** Creates the job reconciler's Temporal Schedule unless it exists (every orchestrator replica calls this). */
export async function ensureReconcileSchedule(client: Client, taskQueue: string, every: Duration = '5m'): Promise<void> {
  try {
    await client.schedule.create({
      scheduleId: RECONCILE_SCHEDULE_ID,
      spec: { intervals: [{ every }] },
      action: { type: 'startWorkflow', workflowType: RECONCILE_JOBS_WORKFLOW, taskQueue, args: [] },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
}
