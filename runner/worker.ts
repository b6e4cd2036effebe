import type { Duration } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { RunnerActivities } from '../common/contracts';
import { temporalTracingPlugins } from '../common/tracing';

export interface RunnerWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  activities: RunnerActivities;
  /** How long a SIGTERM'd runner lets its current job finish before cancelling it. */
  shutdownGraceTime?: Duration;
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
    maxConcurrentActivityTaskExecutions: 1,
    // Cancellation reaches an activity only when a heartbeat is flushed: flush every second so a
    // canceled job's sandbox or VM dies within seconds, not after the default 30 s throttle.
    maxHeartbeatThrottleInterval: '1s',
    defaultHeartbeatThrottleInterval: '1s',
    shutdownGraceTime: options.shutdownGraceTime ?? '5m',
    // runJob continues the job's trace when tracing is on (common/tracing.ts).
    plugins: temporalTracingPlugins(),
  });
}
