import { condition, continueAsNew, getExternalWorkflowHandle, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { acquireSignal, grantedSignal, releaseSignal, type ControlActivities, type GateState } from '../common/contracts';

/** An idle gate lingers this long for new requests before it completes (signal-with-start revives it). */
const IDLE_LINGER = '1 minute';

const { workflowsNotRunning } = proxyActivities<ControlActivities>({ startToCloseTimeout: '1 minute' });

/**
 * A counting semaphore as a workflow: one per organization (free tier) or per source IP
 * (unclaimed tier). Job workflows ask for a permit with signal-with-start, wait for `granted`
 * without holding any runner, and release when done. Requests are granted in arrival order.
 */
export async function concurrencyGateWorkflow(state: GateState): Promise<void> {
  const holders = new Set(state.holders);
  const waiting = [...state.waiting];

  setHandler(acquireSignal, ({ requester }) => {
    if (!holders.has(requester) && !waiting.includes(requester)) waiting.push(requester);
  });
  setHandler(releaseSignal, ({ requester }) => {
    holders.delete(requester);
    const i = waiting.indexOf(requester);
    if (i >= 0) waiting.splice(i, 1);
  });

  for (;;) {
    const canGrant = () => waiting.length > 0 && holders.size < state.permits;
    const idle = () => waiting.length === 0 && holders.size === 0;
    const woken = await condition(() => canGrant() || idle() || workflowInfo().continueAsNewSuggested, `${state.checkIntervalSeconds}s`);
    if (!woken && holders.size > 0) {
      for (const gone of await workflowsNotRunning([...holders])) holders.delete(gone);
    }

    while (canGrant()) {
      const requester = waiting.shift()!;
      holders.add(requester);
      try {
        await getExternalWorkflowHandle(requester).signal(grantedSignal);
      } catch {
        // The requester is gone (terminated): its permit must not leak.
        holders.delete(requester);
      }
    }

    if (idle() && !(await condition(() => !idle(), IDLE_LINGER))) return;
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof concurrencyGateWorkflow>({ ...state, holders: [...holders], waiting });
    }
  }
}
