/**
 * Entry points for the runner: `microvmAvailable()` to decide whether microVMs are the default here,
 * and `createMicrovmExecutor()` to build one (kernel prepared, init built, VMM chosen, acceleration probed).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ensureGuestInit } from '../../guest/build-static';
import { MicrovmExecutor } from './executor';
import { FirecrackerBackend } from './firecracker';
import { defaultKernelPath, GuestKernel, prepareKernel } from './kernel';
import { probeAcceleration, ProbeResult } from './probe';
import { QemuBackend, QemuChannel, QemuOptions } from './qemu';
import { hostTscKhz } from './tsc';
import { Accel, findOnPath, kvmDeviceAccessible, VmmBackend } from './vmm';

export { MicrovmBootError, MicrovmExecutor } from './executor';
export { NoWorkingAccelerationError } from './probe';

export interface MicrovmExecutorOptions {
  /** A bzImage or a PVH-capable vmlinux; default: $BENCHLINE_KERNEL, else .tools/kernel/vmlinuz. */
  kernelPath?: string;
  /** Built init, extracted kernel, packed images. Shared by jobs and runner restarts. */
  cacheDir: string;
  /** Default: Firecracker when its binary is on PATH and boots with KVM, else QEMU. */
  vmm?: 'qemu' | 'firecracker';
  /** Skip the probe and use this acceleration (e.g. 'tcg' on machines known to lack KVM). */
  accel?: Accel;
  qemuBinary?: string;
  firecrackerBinary?: string;
  /** QEMU's channel; default 'virtio' when the kernel's virtio modules are available, else 'debugcon'. */
  qemuChannel?: QemuChannel;
  /** Where the channel modules are; default: `modules/` beside the kernel. */
  modulesDir?: string;
  /** gzip the cached image archives (smaller cache, slower boots under TCG). Default false. */
  compressImage?: boolean;
  /** Override the boot allowance (spawn → command start). */
  bootTimeoutMs?: number;
}

const QEMU = 'qemu-system-x86_64';
const FIRECRACKER = 'firecracker';

export interface MicrovmPrerequisites {
  kernelPath: string;
  qemu?: string;
  firecracker?: string;
  missing: string[];
}

/** What a microVM needs on this host, and what is missing (in words). Does not boot anything. */
export function microvmPrerequisites(options: { kernelPath?: string } = {}): MicrovmPrerequisites {
  const kernelPath = options.kernelPath ?? defaultKernelPath();
  const qemu = findOnPath(QEMU);
  const firecracker = kvmDeviceAccessible() ? findOnPath(FIRECRACKER) : undefined;
  const missing: string[] = [];
  if (!existsSync(kernelPath)) missing.push(`guest kernel ${kernelPath} (run scripts/bootstrap.sh)`);
  if (!qemu && !firecracker) missing.push(`${QEMU} (Debian: qemu-system-x86), or ${FIRECRACKER} with a working /dev/kvm`);
  if (!findOnPath('gcc')) missing.push('gcc, to build the guest init (Debian: gcc libc6-dev)');
  return { kernelPath, qemu, firecracker, missing };
}

/** Whether a guest kernel, a VMM and the init's compiler exist, so the runner can default to microVMs. */
export function microvmAvailable(options: { kernelPath?: string } = {}): boolean {
  return microvmPrerequisites(options).missing.length === 0;
}

export async function createMicrovmExecutor(options: MicrovmExecutorOptions): Promise<MicrovmExecutor> {
  const cacheDir = path.resolve(options.cacheDir);
  const kernel = await prepareKernel(options.kernelPath ?? defaultKernelPath(), cacheDir, options.modulesDir);
  const init = await readFile(await ensureGuestInit(cacheDir));
  if (options.qemuChannel === 'virtio' && !kernel.modules) throw new Error(`the virtio channel needs the kernel's virtio modules: ${kernel.modulesNote}`);
  const qemuOptions: QemuOptions = {
    channel: options.qemuChannel ?? (kernel.modules ? 'virtio' : 'debugcon'),
    tscKhz: await hostTscKhz(cacheDir),
  };
  const candidates = backendCandidates(options, kernel, qemuOptions);
  const failures: string[] = [];
  for (const backend of candidates) {
    const common = { backend, kernel, init, cacheDir, compressImage: options.compressImage ?? false, bootTimeoutMs: options.bootTimeoutMs };
    if (options.accel) {
      if (!backend.accels.includes(options.accel)) {
        failures.push(`${backend.name} cannot use ${options.accel}`);
        continue;
      }
      return new MicrovmExecutor({ ...common, accel: options.accel });
    }
    let probe: ProbeResult;
    try {
      probe = await probeAcceleration({ backend, kernel, init }, path.join(cacheDir, 'probe'));
    } catch (err) {
      failures.push((err as Error).message);
      continue;
    }
    return new MicrovmExecutor({ ...common, accel: probe.accel, probe });
  }
  throw new Error(`no usable microVM backend:\n${failures.join('\n') || 'no VMM found'}`);
}

/** Firecracker first when allowed and plausible (binary, /dev/kvm, an ELF kernel); QEMU as the fallback. */
function backendCandidates(options: MicrovmExecutorOptions, kernel: GuestKernel, qemuOptions: QemuOptions): VmmBackend[] {
  const qemu = options.qemuBinary ?? findOnPath(QEMU);
  const firecracker = options.firecrackerBinary ?? findOnPath(FIRECRACKER);
  if (options.vmm === 'firecracker') {
    if (!firecracker) throw new Error(`vmm 'firecracker' requested but no ${FIRECRACKER} binary is on PATH`);
    return [new FirecrackerBackend(firecracker)];
  }
  if (options.vmm === 'qemu') {
    if (!qemu) throw new Error(`vmm 'qemu' requested but ${QEMU} is not on PATH (Debian: qemu-system-x86)`);
    return [new QemuBackend(qemu, qemuOptions)];
  }
  const list: VmmBackend[] = [];
  if (firecracker && kvmDeviceAccessible() && kernel.format === 'elf-pvh') list.push(new FirecrackerBackend(firecracker));
  if (qemu) list.push(new QemuBackend(qemu, qemuOptions));
  return list;
}
