import type { Client } from '@temporalio/client';
import { workflowStatus } from './workflow-status';
import { acquireSignal, CONCURRENCY_GATE_WORKFLOW, type GateState } from '../common/contracts';

export interface GateActivityDeps {
  client: Client;
  /** The control queue, where gate workflows run beside job workflows. */
  taskQueue: string;
  /** How often a gate checks that its permit holders still run. */
  checkIntervalSeconds?: number;
}

export function createGateActivities({ client, taskQueue, checkIntervalSeconds = 60 }: GateActivityDeps) {
  return {
    /**
     * Queues the calling job workflow at its gate, starting the gate if none runs. Workflows cannot
     * signal-with-start themselves, hence this activity (as in Temporal's mutex sample).
     */
    async requestPermit(gateId: string, permits: number, requester: string): Promise<void> {
      await client.workflow.signalWithStart<(state: GateState) => Promise<void>, [{ requester: string }]>(CONCURRENCY_GATE_WORKFLOW, {
        workflowId: gateId,
        taskQueue,
        args: [{ permits, holders: [], waiting: [], checkIntervalSeconds }],
        signal: acquireSignal,
        signalArgs: [{ requester }],
      });
    },

    /** Which of these workflows no longer run (terminated, timed out, gone), so their permits can be reclaimed. */
    async workflowsNotRunning(workflowIds: string[]): Promise<string[]> {
      const statuses = await Promise.all(workflowIds.map((id) => workflowStatus(client, id)));
      return workflowIds.filter((_, i) => statuses[i] !== 'RUNNING');
    },
  };
}
