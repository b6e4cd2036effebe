import type { Client } from '@temporalio/client';
import { acquireSignal, concurrencyGateWorkflow } from '../workflows/concurrency-gate';

export interface GateActivityDeps {
  client: Client;
  /** The control queue, where gate workflows run beside job workflows. */
  taskQueue: string;
}

export function createGateActivities({ client, taskQueue }: GateActivityDeps) {
  return {
    /**
     * Queues the calling job workflow at its gate, starting the gate if none runs. Workflows cannot
     * signal-with-start themselves, hence this activity (as in Temporal's mutex sample).
     */
    async requestPermit(gateId: string, permits: number, requester: string): Promise<void> {
      await client.workflow.signalWithStart(concurrencyGateWorkflow, {
        workflowId: gateId,
        taskQueue,
        args: [{ permits, holders: [], waiting: [] }],
        signal: acquireSignal,
        signalArgs: [{ requester }],
      });
    },
  };
}
