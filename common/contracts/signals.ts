import type { SignalDefinition } from '@temporalio/common';

/**
 * Sent to a job workflow waiting for its tier's concurrency permit when a release hands it one
 * (activities/gate.ts). Written as a plain definition (what `defineSignal` returns) so this module
 * stays free of runtime imports (the cast only adds the SDK's phantom argument type).
 */
export const grantedSignal = { type: 'signal', name: 'granted' } as SignalDefinition<[], 'granted'>;
