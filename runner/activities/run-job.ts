import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ClaimedJob } from '../../common/schemas';
import { isImageRefusal } from '../../net/oci-registry';
import { ApiUnreachableError, isRunnerRefusal, RunnerApiError, type JobCall, type RunnerApi } from '../api-client';
import type { Executor } from '../executors/executor';
import type { HostTuning } from '../host/tuning';
import { resolveArgv, type CachedImage, type ImageCache } from '../images';
import { API_UNREACHABLE, JOB_NOT_FOUND, RUNNER_SHUTDOWN, SPEC_PAUSED, SPEC_PAUSED_CODE, type RunJobInput, type RunJobResult, type RunPhase, type RunnerActivities } from '../../common/contracts';

export interface RunnerActivityDeps {
  api: RunnerApi;
  images: ImageCache;
  executor: Executor;
  /** Parent of the per-job scratch directories. */
  scratchRoot: string;
  /**
   * Recorded with every job: the host's tuning (a result is only comparable with results from a
   * host tuned alike) and the runner's version. Read once by whoever starts the runner.
   */
  host: { tuning: HostTuning; [fact: string]: unknown };
  heartbeatIntervalMs?: number;
  /** Called when the api refuses this runner itself (locked, archived, token revoked): stop taking work. */
  onRunnerRefused?: (refusal: RunnerApiError) => void;
}

/**
 * runJob, executed by a runner daemon: claim the job, pull its image, run it in the executor, upload
 * the outputs, return references. It heartbeats its phase throughout; the phase is what lets a retry
 * on another runner know whether the benchmark had already started (then it must not run again).
 */
export function createRunnerActivities(deps: RunnerActivityDeps): RunnerActivities {
  return {
    async runJob({ jobId, attempt, ticket }: RunJobInput): Promise<RunJobResult> {
      const ctx = Context.current();
      // Every api call of this attempt carries its claim ticket; a cancel ends their retries.
      const call: JobCall = { ticket, signal: ctx.cancellationSignal };

      let phase: RunPhase = 'claiming';
      const beat = () => ctx.heartbeat({ phase });
      const setPhase = (next: RunPhase) => {
        phase = next;
        beat();
      };
      beat();
      // Heartbeats go on while api calls are retried through an outage: the job is alive, only waiting.
      const heartbeats = setInterval(beat, deps.heartbeatIntervalMs ?? 1000);
      const scratchDir = join(deps.scratchRoot, `${jobId}-${attempt}`);
      let image: CachedImage | undefined;
      try {
        const job = await claim(deps, jobId, call);
        setPhase('pulling');
        image = await pullImage(deps, job);
        await mkdir(scratchDir, { recursive: true });

        setPhase('booting');
        const execution = { ...deps.executor.describe(), host: deps.host };
        // The job is `running` from the moment its command starts in the sandbox or guest, not
        // before: a VM that fails to boot is an infrastructure failure, tried again on another runner.
        let started: Promise<void> | undefined;
        const onPhase = (next: RunPhase) => {
          if (next === 'running' && !started) {
            started = deps.api.markRunning(jobId, call, deps.executor.name, execution);
            started.catch(() => undefined); // awaited in execute(); this only keeps an early failure from going unhandled
          }
          setPhase(next);
        };
        try {
          return await execute(deps, job, call, image, scratchDir, onPhase, () => started);
        } catch (err) {
          if (err instanceof ApiUnreachableError) throw unreachable(err);
          if (err instanceof CancelledFailure || (err instanceof ApplicationFailure && err.nonRetryable) || !started) throw err;
          // The benchmark started: a retry would run it twice.
          throw ApplicationFailure.nonRetryable(`runner error after the benchmark started: ${(err as Error).message}`, 'BenchmarkStarted');
        }
      } finally {
        clearInterval(heartbeats);
        // Normally released as soon as the executor is done (execute()); this covers every way out before that.
        await image?.release();
        await rm(scratchDir, { recursive: true, force: true });
      }
    },
  };
}

/** The job's image; a refusal (not served to this job, wrong digest, destination refused) is final. */
async function pullImage(deps: RunnerActivityDeps, job: ClaimedJob): Promise<CachedImage> {
  try {
    return await deps.images.ensure(job.image, job.image_credentials);
  } catch (err) {
    if (isImageRefusal(err)) throw ApplicationFailure.nonRetryable(`image refused: ${err.message}`, 'ImageRefused');
    throw err;
  }
}

async function claim(deps: RunnerActivityDeps, jobId: string, call: JobCall): Promise<ClaimedJob> {
  try {
    return await deps.api.claim(jobId, call);
  } catch (err) {
    if (err instanceof ApiUnreachableError) throw unreachable(err);
    // This runner may not work (locked, archived, token revoked): the job is fine, give it to another runner.
    if (err instanceof RunnerApiError && isRunnerRefusal(err)) {
      deps.onRunnerRefused?.(err);
      throw ApplicationFailure.retryable(`runner refused by the api: ${err.message}`, 'RunnerRefused');
    }
    // Not this job's turn: its workflow waits for the spec to be resumed and dispatches it again.
    if (err instanceof RunnerApiError && err.code === SPEC_PAUSED_CODE) throw ApplicationFailure.nonRetryable(err.message, SPEC_PAUSED);
    // Refusals of the job (not dispatched to this runner, wrong spec, no such job) are final.
    if (err instanceof RunnerApiError && err.status === 404) throw ApplicationFailure.nonRetryable(`claim refused: ${err.message}`, JOB_NOT_FOUND);
    if (err instanceof RunnerApiError && err.status >= 400 && err.status < 500) {
      throw ApplicationFailure.nonRetryable(`claim refused: ${err.message}`, 'JobNotClaimable');
    }
    throw err;
  }
}

/**
 * The api stayed unreachable for the whole outage window: an infrastructure failure the workflow
 * does not retry (another try would meet the same outage, and a started benchmark must not run twice).
 */
function unreachable(err: ApiUnreachableError): ApplicationFailure {
  return ApplicationFailure.nonRetryable(err.message, API_UNREACHABLE);
}

async function execute(
  deps: RunnerActivityDeps,
  job: ClaimedJob,
  call: JobCall,
  image: CachedImage,
  scratchDir: string,
  setPhase: (phase: RunPhase) => void,
  started: () => Promise<void> | undefined,
): Promise<RunJobResult> {
  const argv = resolveArgv(image.config, job.entrypoint, job.cmd);
  if (argv.length === 0) throw ApplicationFailure.nonRetryable('the image has no entrypoint or cmd and the job gave none', 'BenchmarkStarted');
  let result: Awaited<ReturnType<Executor['run']>>;
  try {
    result = await deps.executor.run({
      jobId: job.uuid,
      rootfs: image.rootfs,
      imageKey: image.key,
      argv,
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...image.config.env, ...job.env },
      cwd: image.config.workingDir,
      timeoutMs: job.timeout_seconds * 1000,
      filePaths: job.file_paths,
      resources: { cpus: job.spec.cpus, memoryMiB: job.spec.memory_mib },
      scratchDir,
      signal: Context.current().cancellationSignal,
      onPhase: setPhase,
    });
  } finally {
    // The executor is done with the rootfs (the sandbox's overlay is unmounted, the microVM's
    // initramfs packed): from here on the image cache may evict it.
    await image.release();
  }
  if (result.canceled) {
    // The runner itself is going away (SIGTERM past its grace time), not the user canceling: say so.
    if (Context.current().cancellationDetails?.workerShutdown) {
      throw ApplicationFailure.nonRetryable('the runner shut down before the benchmark finished; the job was canceled', RUNNER_SHUTDOWN);
    }
    throw new CancelledFailure('the job was canceled; its sandbox was killed');
  }

  // Outputs follow the running mark, never overtake it.
  await started();
  setPhase('uploading');
  const outputs: RunJobResult['outputs'] = [];
  const upload = async (kind: 'stdout' | 'stderr' | 'file', path: string, content: Buffer) => {
    await deps.api.uploadOutput(job.uuid, call, kind, path, content);
    outputs.push({ kind, path, sizeBytes: content.length });
  };
  await upload('stdout', '', result.stdout);
  await upload('stderr', '', result.stderr);
  for (const file of result.files) await upload('file', file.path, file.content);
  return { exitCode: result.exitCode, timedOut: result.timedOut, durationMs: result.durationMs, error: result.error, outputs, execution: result.metadata };
}
