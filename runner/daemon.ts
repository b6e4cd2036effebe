import { join } from 'node:path';
import type { Duration } from '@temporalio/common';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { logger } from '../common/logger';
import { createRunnerActivities } from './activities/run-job';
import { isRunnerRefusal, RunnerApi, RunnerApiError } from './api-client';
import type { Executor } from './executors/executor';
import { detectHostTuning } from './host/tuning';
import { ImageCache } from './images';
import { OutboundGuard, type OutboundPolicy } from '../net/outbound';
import { acquireInstanceLock } from './instance-lock';
import { clearStaleScratch } from './stale-mounts';
import { createRunnerWorker } from './worker';

export interface DaemonOptions {
  apiUrl: string;
  runner: string;
  token: string;
  temporalAddress: string;
  namespace?: string;
  cacheDir: string;
  /** Builds the executor once the instance lock is held (a microVM executor probes by booting). */
  createExecutor: () => Promise<Executor>;
  version: string;
  /** Which served spec to take jobs for, when the runner serves several. */
  spec?: string;
  host?: Record<string, unknown>;
  /** How often the daemon checks in with the api (last seen; notices a lock). */
  pingIntervalMs?: number;
  /** How long a job's api calls are retried through an api outage before the job fails (default 300 s). */
  apiOutageWindowSeconds?: number;
  shutdownGraceTime?: Duration;
  /** Which registry hosts image pulls may reach (private networks only in development). */
  outbound: OutboundPolicy;
  log?: (message: string) => void;
}

/**
 * The runner daemon: registers with the api, polls its spec's task queue, and keeps checking in.
 * When the api refuses it (locked, archived, token rotated) it stops taking work and exits.
 * SIGINT/SIGTERM drain it (the SDK's graceful shutdown): no new job is taken, the current one may
 * finish within `shutdownGraceTime`, after which it is canceled and its sandbox or VM killed.
 */
export async function runDaemon(options: DaemonOptions): Promise<void> {
  const log = options.log ?? ((m: string) => logger.info({ runner: options.runner }, m));
  const lock = await acquireInstanceLock(options.runner);
  const executor = await options.createExecutor();
  const api = new RunnerApi(options.apiUrl, options.runner, options.token, { outageWindowSeconds: options.apiOutageWindowSeconds });
  const hostTuning = await detectHostTuning();
  const registration = {
    version: options.version,
    executor: executor.name,
    host: { ...executor.describe(), tuning: hostTuning, ...options.host },
  };
  const registered = await api.register(registration);
  // The runner may have been named by slug or UUID: hold its canonical names too, so a second daemon
  // started under the other name is refused as well.
  const locks = [lock];
  for (const name of new Set([registered.uuid, registered.slug])) if (name !== options.runner) locks.push(await acquireInstanceLock(name));
  const spec = registered.specs.find((s) => !options.spec || s.slug === options.spec);
  if (!spec) throw new Error(`runner ${registered.slug} serves ${options.spec ? `no spec "${options.spec}"` : 'no spec'}: assign one first`);
  const unpolled = registered.specs.filter((s) => s !== spec).map((s) => s.slug);
  // One job at a time means one queue: a runner serving several specs polls the chosen one only.
  if (unpolled.length) log(`serving spec ${spec.slug}; not polling ${unpolled.join(', ')} (set BENCHLINE_SPEC to choose)`);

  // Per runner: two runners on one host share the cache but never each other's scratch (or mounts).
  const scratchRoot = join(options.cacheDir, 'jobs', registered.uuid);
  // Only now, holding every name's lock: a second daemon for this runner never clears the live one's jobs.
  const stale = await clearStaleScratch(scratchRoot);
  if (stale.dirs.length) log(`removed ${stale.dirs.length} job scratch dir(s) (${stale.mounts.length} mount(s)) a previous run left behind`);
  const images = new ImageCache(join(options.cacheDir, 'images'), new OutboundGuard(options.outbound));
  const leftovers = await images.removeLeftovers();
  if (leftovers.length) log(`removed ${leftovers.join(', ')} from the image cache: pulls a previous run left half-finished, unpacks of the old digest-keyed layout`);
  const connection = await NativeConnection.connect({ address: options.temporalAddress });
  let worker: Worker | undefined;
  const stop = (reason: string) => {
    if (worker?.getState() !== 'RUNNING') return;
    log(`runner ${registered.slug}: ${reason}; no longer taking jobs`);
    worker.shutdown();
  };
  worker = await createRunnerWorker({
    connection,
    namespace: options.namespace,
    taskQueue: spec.task_queue,
    shutdownGraceTime: options.shutdownGraceTime,
    activities: createRunnerActivities({
      api,
      images,
      executor,
      scratchRoot,
      host: { tuning: hostTuning, runnerVersion: options.version },
      onRunnerRefused: stop,
    }),
  });
  const ping = setInterval(() => {
    api.register(registration).catch((err) => {
      if (err instanceof RunnerApiError && isRunnerRefusal(err)) stop(err.message);
    });
  }, options.pingIntervalMs ?? 15000);
  log(`runner ${registered.slug} (${executor.name}) polling ${spec.task_queue}`);
  try {
    await worker.run();
  } finally {
    clearInterval(ping);
    await connection.close();
    for (const held of locks) held.close();
  }
}
