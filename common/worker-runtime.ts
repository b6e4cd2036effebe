import { Runtime } from '@temporalio/worker';

/**
 * Installs the Temporal runtime for a worker process (orchestrator, runner). With
 * BENCHLINE_METRICS_ADDRESS (e.g. 0.0.0.0:9464) the SDK serves its own Prometheus metrics there:
 * task latencies, schedule-to-start (in seconds), slot usage. Must run before any connection is made.
 */
export function installWorkerRuntime(env: NodeJS.ProcessEnv = process.env): void {
  const bindAddress = env.BENCHLINE_METRICS_ADDRESS;
  if (!bindAddress) return;
  // Seconds, Prometheus' base unit, as the api's histograms and deploy/grafana/benchline.json use (the SDK defaults to ms).
  Runtime.install({ telemetryOptions: { metrics: { metricPrefix: 'benchline_temporal_', prometheus: { bindAddress, useSecondsForDurations: true } } } });
}
