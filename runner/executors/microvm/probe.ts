/**
 * Which acceleration really works. /dev/kvm existing proves little (nested virtualisation can be
 * missing or broken: on the machine this was written on, QEMU aborts with `-cpu host` and hangs with
 * other CPU models), so the probe boots the real init in 'probe' mode and waits for its hello and end
 * frames. Probed once per process per (VMM, kernel, init); the answer is cached in memory only, since
 * a host's KVM can change with a reboot or a module reload.
 */
import { createHash } from 'node:crypto';
import { singleFlight } from './single-flight';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { OUTPUT_LIMITS } from '../executor';
import { GuestSetup, packGuestJob } from './guest-job';
import { writeInitrd } from './initramfs';
import { runSession, SessionResult } from './session';
import { Accel, kvmDeviceAccessible } from './vmm';

export interface ProbeAttempt {
  accel: Accel;
  ok: boolean;
  /** Host spawn → init's hello, when it booted. */
  bootMs?: number;
  reason?: string;
}

export interface ProbeResult {
  accel: Accel;
  bootMs: number;
  attempts: ProbeAttempt[];
}

export class NoWorkingAccelerationError extends Error {
  constructor(
    message: string,
    readonly attempts: ProbeAttempt[],
  ) {
    super(message);
  }
}

/** KVM boots in well under a second; a probe still waiting after this is hung, not slow. */
const PROBE_TIMEOUT_MS: Record<Accel, number> = { kvm: 20_000, tcg: 120_000 };
const probes = new Map<string, Promise<ProbeResult>>();

export function probeAcceleration(setup: GuestSetup, workRoot: string): Promise<ProbeResult> {
  const { backend, kernel, init } = setup;
  const key = [backend.name, backend.binary, backend.guestChannel, kernel.path, createHash('sha256').update(init).digest('hex')].join('\0');
  // A failure is worth retrying later (e.g. after fixing the host); a result holds for the process.
  return singleFlight(probes, key, () => runProbes(setup, workRoot), 'on-failure');
}

async function runProbes(setup: GuestSetup, workRoot: string): Promise<ProbeResult> {
  const { backend } = setup;
  const attempts: ProbeAttempt[] = [];
  for (const accel of backend.accels) {
    if (accel === 'kvm' && !kvmDeviceAccessible()) {
      attempts.push({ accel, ok: false, reason: '/dev/kvm is missing or not accessible' });
      continue;
    }
    const attempt = await probeOnce(setup, workRoot, accel);
    attempts.push(attempt);
    if (attempt.ok) return { accel, bootMs: attempt.bootMs!, attempts };
  }
  const summary = attempts.map((a) => `${a.accel}: ${a.reason}`).join('\n');
  throw new NoWorkingAccelerationError(`no acceleration boots a ${backend.name} guest:\n${summary}`, attempts);
}

async function probeOnce(setup: GuestSetup, workRoot: string, accel: Accel): Promise<ProbeAttempt> {
  await mkdir(workRoot, { recursive: true });
  const workDir = await mkdtemp(path.join(workRoot, `probe-${accel}-`));
  try {
    const { nonce, archive } = await packGuestJob(setup, {
      mode: 'probe',
      epochMs: Date.now(),
      timeoutMs: 0,
      maxTotalBytes: OUTPUT_LIMITS.maxTotalBytes,
      maxFiles: OUTPUT_LIMITS.maxFiles,
      cwd: '/',
      argv: [],
      env: {},
      files: [],
    });
    const initrdPath = path.join(workDir, 'initrd.cpio');
    await writeInitrd(initrdPath, undefined, archive);
    const session = await runSession({
      backend: setup.backend,
      vm: { kernel: setup.kernel, initrdPath, cpus: 1, memoryMiB: 128, accel, workDir },
      nonce,
      caps: OUTPUT_LIMITS,
      bootTimeoutMs: PROBE_TIMEOUT_MS[accel],
      runTimeoutMs: PROBE_TIMEOUT_MS[accel],
      idleTimeoutMs: PROBE_TIMEOUT_MS[accel],
    });
    if (session.report.complete && session.report.guestKernel !== undefined) {
      return { accel, ok: true, bootMs: session.helloMs };
    }
    return { accel, ok: false, reason: describeFailedBoot(session) };
  } catch (err) {
    return { accel, ok: false, reason: (err as Error).message };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Why a VM ended without a complete report, for people: kill reason or exit status, plus output tails. */
export function describeFailedBoot(session: SessionResult): string {
  const how =
    session.killedBecause === 'boot-timeout'
      ? 'the guest did not start within the boot allowance and was killed'
      : session.protocolError
        ? `the channel was corrupted (${session.protocolError})`
        : `the VMM exited (${session.vmmExit.signal ?? `code ${session.vmmExit.code}`}) before the guest reported`;
  const tail = session.diagnostics.trim().split('\n').slice(-15).join('\n');
  return `${how}\n${tail}`;
}
