import { join } from 'node:path';
import type { Duration } from '@temporalio/common';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { RUNNER_LEASE_HELD } from '../common/contracts';
import { StartupError } from '../common/env';
import { logger } from '../common/logger';
import { createRunnerActivities } from './activities/run-job';
import { isRunnerRefusal, RunnerApi, RunnerApiError } from './api-client';
import type { Executor } from './executors/executor';
import { detectHostTuning } from './host/tuning';
import { ImageCache } from './images';
import { JobSlot } from './job-slot';
import { OutboundGuard, type OutboundPolicy } from '../net/outbound';
import { clearStaleScratch } from './stale-mounts';
import { createRunnerWorker } from './worker';

export interface DaemonOptions {
  apiUrl: string;
  runner: string;
  token: string;
  temporalAddress: string;
  namespace?: string;
  cacheDir: string;
  /** Budget for the unpacked images (default DEFAULT_IMAGE_CACHE_MAX_BYTES). */
  imageCacheMaxBytes?: number;
  /** Builds the executor once the runner's lease is held (a microVM executor probes by booting). */
  createExecutor: () => Promise<Executor>;
  version: string;
  /** Take jobs of this served spec only; default: of every spec the runner serves. */
  spec?: string;
  host?: Record<string, unknown>;
  /** How often the daemon checks in with the api: renews its lease, updates last seen, notices a lock. */
  pingIntervalMs?: number;
  /** The host name its lease shows; default: the OS's. */
  hostname?: string;
  /** How long a job's api calls are retried through an api outage before the job fails (default 300 s). */
  apiOutageWindowSeconds?: number;
  shutdownGraceTime?: Duration;
  /** Which registry hosts image pulls may reach (private networks only in development). */
  outbound: OutboundPolicy;
  log?: (message: string) => void;
}

/** The api refused this daemon the runner's lease: another daemon runs it (one line, exit 1). */
export class RunnerLeaseHeldError extends StartupError {}

/**
 * The runner daemon: takes its runner's lease from the api (one active daemon per runner, on any
 * host), polls the task queue of every spec the runner serves with one job slot between them, and
 * keeps checking in, which renews the lease. When the api refuses it (locked, archived, token
 * rotated, lease lost to another daemon) it stops taking work and exits.
 * SIGINT/SIGTERM drain it (the SDK's graceful shutdown): no new job is taken, the current one may
 * finish within `shutdownGraceTime`, after which it is canceled and its sandbox or VM killed. While
 * draining, its pings say so, which makes its lease last the api's longer stopping timeout; on a
 * clean exit it gives the lease back.
 */
export async function runDaemon(options: DaemonOptions): Promise<void> {
  const log = options.log ?? ((m: string) => logger.info({ runner: options.runner }, m));
  const api = new RunnerApi(options.apiUrl, options.runner, options.token, { outageWindowSeconds: options.apiOutageWindowSeconds, hostname: options.hostname });
  const hostTuning = await detectHostTuning();
  // The lease first, before anything touches this host's cache or scratch: a second daemon is
  // refused before it probes an executor or clears a live daemon's job directories.
  let registration = { version: options.version, executor: 'starting', host: { tuning: hostTuning, ...options.host } };
  const registered = await api.register(registration).catch((err) => {
    if (err instanceof RunnerApiError && err.code === RUNNER_LEASE_HELD) throw new RunnerLeaseHeldError(`not starting: ${err.message}`);
    throw err;
  });
  const workers: Worker[] = [];
  let refusal: RunnerApiError | undefined;
  const stop = (reason: string) => {
    const running = workers.filter((w) => w.getState() === 'RUNNING');
    if (!running.length) return;
    log(`runner ${registered.slug}: ${reason}; no longer taking jobs`);
    for (const w of running) w.shutdown();
  };
  const refused = (err: RunnerApiError) => {
    refusal ??= err;
    stop(err.message);
  };
  // Renewed from the first registration on: setting up (an executor probe, a cache over its budget)
  // can outlast the lease's stale time, and a lapsed lease would let a second daemon in beside this one.
  // A draining daemon keeps renewing it too (its job may run for minutes), flagged as stopping.
  const ping = setInterval(() => {
    const stopping = workers.some((w) => w.getState() !== 'RUNNING');
    api.register({ ...registration, stopping }).catch((err) => {
      if (err instanceof RunnerApiError && isRunnerRefusal(err)) refused(err);
    });
  }, options.pingIntervalMs ?? 15000);
  try {
    const executor = await options.createExecutor();
    registration = { version: options.version, executor: executor.name, host: { ...executor.describe(), tuning: hostTuning, ...options.host } };
    await api.register(registration);
    const specs = registered.specs.filter((s) => !options.spec || s.slug === options.spec);
    if (!specs.length) throw new Error(`runner ${registered.slug} serves ${options.spec ? `no spec "${options.spec}"` : 'no spec'}: assign one first`);

    // Per runner: two runners on one host share the cache but never each other's scratch (or mounts).
    const scratchRoot = join(options.cacheDir, 'jobs', registered.uuid);
    // Only now, holding the lease: no other daemon of this runner runs jobs in it.
    const stale = await clearStaleScratch(scratchRoot);
    if (stale.dirs.length) log(`removed ${stale.dirs.length} job scratch dir(s) (${stale.mounts.length} mount(s)) a previous run left behind`);
    const images = new ImageCache(join(options.cacheDir, 'images'), new OutboundGuard(options.outbound), {
      maxBytes: options.imageCacheMaxBytes,
      onEvicted: async (key) => executor.forgetImage?.(key),
    });
    const leftovers = await images.removeLeftovers();
    if (leftovers.length) log(`removed ${leftovers.join(', ')} from the image cache: pulls a previous run left half-finished, unpacks of the old digest-keyed layout`);
    const connection = await NativeConnection.connect({ address: options.temporalAddress });
    try {
      const activities = createRunnerActivities({
        api, images, executor, scratchRoot, host: { tuning: hostTuning, runnerVersion: options.version }, onRunnerRefused: refused,
      });
      // One Worker per spec queue (a Worker polls one queue), all sharing the one job slot.
      const slot = new JobSlot();
      for (const spec of specs) {
        workers.push(await createRunnerWorker({ connection, namespace: options.namespace, taskQueue: spec.task_queue, shutdownGraceTime: options.shutdownGraceTime, activities, slot }));
      }
      // Refused while setting up: no worker runs.
      if (!refusal) {
        log(`runner ${registered.slug} (${executor.name}) polling ${specs.map((s) => s.task_queue).join(', ')}`);
        const runs = workers.map((w) => w.run());
        try {
          // One worker failing stops the others: the daemon exits rather than serve some specs silently.
          await Promise.all(runs.map((run) => run.catch((err) => {
            stop(`a worker failed (${err instanceof Error ? err.message : err})`);
            throw err;
          })));
        } finally {
          await Promise.allSettled(runs);
        }
      }
    } finally {
      await connection.close();
    }
    if (refusal) throw new Error(`runner ${registered.slug} stopped: ${refusal.message}`);
  } finally {
    clearInterval(ping);
    // A lease lost to another daemon (or a rotated token) is not ours to give back; a locked or
    // archived runner's still is, so its next daemon need not wait for it to expire.
    if (!refusal || !(refusal.code === RUNNER_LEASE_HELD || refusal.status === 401)) {
      await api.release().catch((err) => log(`could not give the lease back (${err.message}); it expires by itself`));
    }
  }
}
