import type { SignalDefinition } from '@temporalio/common';

/**
 * Signals of the tier concurrency gate, shared by the gate workflow, the job workflow and the
 * activity that signal-with-starts the gate. Written as plain definitions (what `defineSignal`
 * returns) so this module stays free of runtime imports (the cast only adds the SDK's phantom argument type).
 */
export interface GateRequest {
  /** Workflow ID of the job workflow asking for a permit. */
  requester: string;
}

export interface GateState {
  permits: number;
  holders: string[];
  waiting: string[];
  /** How often to check that holders still run: a terminated job workflow never releases its permit. */
  checkIntervalSeconds: number;
}

export const acquireSignal = { type: 'signal', name: 'acquire' } as SignalDefinition<[GateRequest], 'acquire'>;
/** Gives a permit back, or withdraws a request still waiting (a job canceled in the queue). */
export const releaseSignal = { type: 'signal', name: 'release' } as SignalDefinition<[GateRequest], 'release'>;
/** Sent to the requester when its permit is granted. */
export const grantedSignal = { type: 'signal', name: 'granted' } as SignalDefinition<[], 'granted'>;
