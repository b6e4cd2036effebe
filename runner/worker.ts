import type { Duration } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { RunnerActivities } from '../common/contracts';
import { temporalTracingPlugins } from '../common/tracing';
import { JobSlot } from './job-slot';

export interface RunnerWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  activities: RunnerActivities;
  /** How long a SIGTERM'd runner lets its current job finish before cancelling it. */
  shutdownGraceTime?: Duration;
  /**
   * The runner's job slot, when it serves several specs: one Worker per spec queue, all sharing it,
   * so the runner still runs one job at a time. Default: a slot of this Worker's own.
   */
  slot?: JobSlot;
}

/**
 * A runner is a Temporal worker with activities only, polling its spec's queue. It runs one job at a
 * time: a benchmark needs the whole machine.
 */
export function createRunnerWorker(options: RunnerWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    activities: options.activities,
    tuner: {
      activityTaskSlotSupplier: options.slot ?? new JobSlot(),
      // An activity-only worker runs no workflow, local activity or Nexus task; the tuner still needs all four.
      workflowTaskSlotSupplier: { type: 'fixed-size', numSlots: 1 },
      localActivityTaskSlotSupplier: { type: 'fixed-size', numSlots: 1 },
      nexusTaskSlotSupplier: { type: 'fixed-size', numSlots: 1 },
    },
    // One poller per queue: with the slot shared, each queue waits in the slot's line once.
    maxConcurrentActivityTaskPolls: 1,
    // Cancellation reaches an activity only when a heartbeat is flushed: flush every second so a
    // canceled job's sandbox or VM dies within seconds, not after the default 30 s throttle.
    maxHeartbeatThrottleInterval: '1s',
    defaultHeartbeatThrottleInterval: '1s',
    shutdownGraceTime: options.shutdownGraceTime ?? '5m',
    // runJob continues the job's trace when tracing is on (common/tracing.ts).
    plugins: temporalTracingPlugins(),
  });
}
