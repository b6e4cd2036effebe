/**
 * The microVM executor: image archive (cached) + per-job archive → initramfs, one VM per job, and the
 * guest's report turned into an ExecutionResult.
 *
 * Failures split in two. What the job caused (missing entrypoint, non-zero exit, timeout, output over
 * the caps, an image too big for the job's memory) is returned as `error` in the result. What the
 * host caused before the command started (VMM or guest failing to boot, packing failing) is thrown,
 * so the runner can treat it as an infrastructure failure and retry.
 */
import { rm } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { ExecutionRequest, ExecutionResult, Executor, OUTPUT_LIMITS } from '../executor';
import { GuestSetup, InvalidJobError, packGuestJob } from './guest-job';
import { ensureImageArchive, forgetImageArchives, writeInitrd } from './initramfs';
import { describeFailedBoot, ProbeResult } from './probe';
import { runSession, SessionResult } from './session';
import { Accel } from './vmm';

export interface MicrovmRuntime extends GuestSetup {
  accel: Accel;
  cacheDir: string;
  compressImage: boolean;
  /** Spawn → command start allowance; undefined = a default for the acceleration plus time per MiB of image. */
  bootTimeoutMs?: number;
  probe?: ProbeResult;
}

export class MicrovmBootError extends Error {}

/** Time the guest needs after its own timeout fires to kill the command and report. */
const REPORT_GRACE_MS = 10_000;
/** Longest silence tolerated while results stream out (64 KiB frames; the slowest channel does ~0.6 MiB/s). */
const IDLE_TIMEOUT_MS = 30_000;
const BASE_BOOT_ALLOWANCE_MS: Record<Accel, number> = { kvm: 30_000, tcg: 90_000 };
const BOOT_ALLOWANCE_PER_MIB_MS = 100;
/** Room left in the guest's root filesystem for the job's own files, beyond the image. */
const ROOTFS_HEADROOM_MIB = 16;
/**
 * Memory not counted when the root filesystem is sized, besides the initramfs: the kernel's own
 * (measured with Debian's 6.1: 55 MiB of 128, 58 of 256 and of 271, 71 of 1024; rounded up here).
 */
const KERNEL_RESERVED_MIB = 55;
const KERNEL_RESERVED_FRACTION = 1 / 60;
const MIB = 1024 * 1024;

export class MicrovmExecutor implements Executor {
  readonly name = 'microvm' as const;

  constructor(private readonly rt: MicrovmRuntime) {}

  describe(): Record<string, unknown> {
    const { probe } = this.rt;
    return {
      ...this.facts(),
      accelSource: probe ? 'probe' : 'configured',
      ...(probe && { probeBootMs: probe.bootMs, probeAttempts: probe.attempts }),
    };
  }

  /** What every job records about where it ran. */
  private facts(): Record<string, unknown> {
    const { backend, kernel } = this.rt;
    return {
      executor: this.name,
      vmm: backend.name,
      vmmBinary: backend.binary,
      ...backend.facts(),
      accel: this.rt.accel,
      kernel: kernel.release ?? path.basename(kernel.source),
      kernelPath: kernel.source,
      kernelFormat: kernel.format,
      ...(backend.needsModules ? { kernelModules: kernel.modules?.map((m) => m.name) } : kernel.modulesNote && { kernelModulesNote: kernel.modulesNote }),
    };
  }

  async forgetImage(imageKey: string): Promise<void> {
    // Both packings: a runner restarted with the other compression setting may have left one.
    await forgetImageArchives({ cacheDir: this.rt.cacheDir, imageKey });
  }

  async run(req: ExecutionRequest): Promise<ExecutionResult> {
    const metadata: Record<string, unknown> = this.facts();
    const fail = (error: string): ExecutionResult => result({ metadata, error });
    if (req.signal.aborted) return result({ metadata, canceled: true });
    const invalid = validate(req);
    if (invalid) return fail(invalid);

    req.onPhase?.('booting');
    const image = await ensureImageArchive({
      cacheDir: this.rt.cacheDir,
      rootfs: req.rootfs,
      imageKey: req.imageKey,
      compress: this.rt.compressImage,
    });
    Object.assign(metadata, { imageCacheHit: image.cacheHit, imageArchiveBytes: image.bytes });
    if (req.signal.aborted) return result({ metadata, canceled: true }); // packing a new image can take a while

    let guest: { nonce: Buffer; archive: Buffer };
    try {
      guest = await packGuestJob(this.rt, {
        mode: 'run',
        epochMs: Date.now(),
        timeoutMs: req.timeoutMs,
        maxTotalBytes: OUTPUT_LIMITS.maxTotalBytes,
        maxFiles: OUTPUT_LIMITS.maxFiles,
        cwd: req.cwd,
        argv: req.argv,
        env: req.env,
        files: req.filePaths,
      });
    } catch (err) {
      if (err instanceof InvalidJobError) return fail(err.message);
      throw err;
    }
    const tooBig = checkMemory(image.unpackedBytes + guest.archive.length, image.bytes + guest.archive.length, req.resources.memoryMiB);
    if (tooBig) return fail(tooBig);
    const initrdPath = path.join(req.scratchDir, 'initrd.cpio');
    let session: SessionResult;
    try {
      metadata.initrdBytes = await writeInitrd(initrdPath, image, guest.archive);
      session = await runSession({
        backend: this.rt.backend,
        vm: { kernel: this.rt.kernel, initrdPath, ...req.resources, accel: this.rt.accel, workDir: req.scratchDir },
        nonce: guest.nonce,
        caps: OUTPUT_LIMITS,
        bootTimeoutMs: this.rt.bootTimeoutMs ?? BASE_BOOT_ALLOWANCE_MS[this.rt.accel] + (image.unpackedBytes / MIB) * BOOT_ALLOWANCE_PER_MIB_MS,
        runTimeoutMs: req.timeoutMs + REPORT_GRACE_MS,
        idleTimeoutMs: IDLE_TIMEOUT_MS,
        signal: req.signal,
        onStage: (stage) => req.onPhase?.(stage),
      });
    } finally {
      await rm(initrdPath, { force: true }); // as large as the image: do not wait for the runner to clean up
    }
    Object.assign(metadata, {
      bootMs: session.bootMs,
      helloMs: session.helloMs,
      vmmPid: session.pid,
      guestKernel: session.report.guestKernel,
      ...(session.skippedBytes > 0 && { channelSkippedBytes: session.skippedBytes }),
    });
    return interpret(session, req, metadata);
  }
}

function validate(req: ExecutionRequest): string | undefined {
  if (req.argv.length === 0) return 'no command to run: entrypoint and cmd are both empty';
  if (!(req.timeoutMs > 0) || !Number.isFinite(req.timeoutMs)) return `timeout must be a positive number of milliseconds, got ${req.timeoutMs}`;
  if (req.filePaths.length > OUTPUT_LIMITS.maxFiles) {
    return `${req.filePaths.length} output files requested, over the cap of ${OUTPUT_LIMITS.maxFiles} files`;
  }
  const { cpus, memoryMiB } = req.resources;
  if (!Number.isInteger(cpus) || cpus < 1) return `resources.cpus must be a positive integer, got ${cpus}`;
  if (!Number.isInteger(memoryMiB) || memoryMiB < 64) return `resources.memoryMiB must be an integer of at least 64, got ${memoryMiB}`;
  if (!path.isAbsolute(req.cwd)) return `working directory must be absolute, got ${JSON.stringify(req.cwd)}`;
  return undefined;
}

/**
 * The root filesystem is a tmpfs that Linux sizes at half the memory left when it is mounted, which
 * excludes the kernel and the initramfs itself (freed only after unpacking): so memory must hold the
 * image about three times over.
 */
function checkMemory(unpackedBytes: number, initrdBytes: number, memoryMiB: number): string | undefined {
  const imageMiB = Math.ceil(unpackedBytes / MIB);
  const initrdMiB = Math.ceil(initrdBytes / MIB);
  const capacityMiB = (memoryMiB * (1 - KERNEL_RESERVED_FRACTION) - KERNEL_RESERVED_MIB - initrdMiB) / 2;
  if (imageMiB + ROOTFS_HEADROOM_MIB <= capacityMiB) return undefined;
  const needed = Math.ceil((2 * (imageMiB + ROOTFS_HEADROOM_MIB) + initrdMiB + KERNEL_RESERVED_MIB) / (1 - KERNEL_RESERVED_FRACTION));
  return (
    `the image is ${imageMiB} MiB unpacked, and a microVM holds its root filesystem in memory: ` +
    `${memoryMiB} MiB is too little, give the job at least ${needed} MiB`
  );
}

function interpret(session: SessionResult, req: ExecutionRequest, metadata: Record<string, unknown>): ExecutionResult {
  const report = session.report;
  // Files only from a complete report: a file cut off mid-transfer must not pass for the real one.
  const files = report.complete ? report.files.map((f) => ({ path: f.path, content: Buffer.concat(f.chunks) })) : [];
  const outputs = { stdout: report.stdout, stderr: report.stderr, files, metadata };
  if (session.killedBecause === 'canceled') return result({ ...outputs, canceled: true });
  if (!report.started && !report.complete) {
    // The guest never got as far as running (or refusing to run) the command: the host's problem.
    throw new MicrovmBootError(`microVM failed before the command started: ${describeFailedBoot(session)}`);
  }

  const errors: string[] = [];
  let exitCode: number | null = null;
  let timedOut = false;
  const exit = report.exit;
  if (exit?.kind === 'exited') {
    exitCode = exit.code;
    if (exit.code !== 0) errors.push(`command exited with code ${exit.code}`);
  } else if (exit?.kind === 'signaled') {
    errors.push(`command was killed by signal ${signalName(exit.code)}`);
  } else if (exit?.kind === 'timed-out') {
    timedOut = true;
    errors.push(`command timed out after ${req.timeoutMs / 1000} s and was killed`);
  }
  errors.push(...report.errors);
  if (!report.complete) {
    if (session.killedBecause === 'run-timeout') {
      timedOut = true;
      errors.push(`the VM did not report within the ${req.timeoutMs / 1000} s timeout and was killed`);
    } else if (session.killedBecause === 'stalled') {
      errors.push(`the VM stopped sending results for ${IDLE_TIMEOUT_MS / 1000} s and was killed; output may be incomplete`);
    } else if (session.protocolError) {
      errors.push(`the result channel failed: ${session.protocolError}`);
    } else {
      errors.push(`the VM stopped before reporting the command's result (out of memory?): ${describeFailedBoot(session)}`);
    }
  }
  const durationMs = exit ? exit.durationUs / 1000 : 0;
  return result({ ...outputs, exitCode, timedOut, durationMs, error: errors.length ? errors.join('; ') : undefined });
}

function signalName(signo: number): string {
  const entry = Object.entries(osConstants.signals).find(([, n]) => n === signo);
  return entry ? entry[0] : `#${signo}`;
}

function result(partial: Partial<ExecutionResult> & { metadata: Record<string, unknown> }): ExecutionResult {
  return {
    exitCode: null,
    timedOut: false,
    canceled: false,
    stdout: Buffer.alloc(0),
    stderr: Buffer.alloc(0),
    files: [],
    durationMs: 0,
    ...partial,
  };
}
