/**
 * What the session needs from a virtual machine monitor, and the process plumbing both backends share.
 */
import { ChildProcess, spawn, StdioOptions } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { GuestKernel } from './kernel';

export type Accel = 'kvm' | 'tcg';
export type VmmName = 'qemu-microvm' | 'firecracker';

export interface VmSpec {
  kernel: GuestKernel;
  initrdPath: string;
  cpus: number;
  memoryMiB: number;
  accel: Accel;
  /** Where the backend may put its own files (sockets, logs). */
  workDir: string;
}

export interface VmmExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LaunchedVm {
  readonly process: ChildProcess;
  /** Settles once the VMM exited and its stdio closed, i.e. every channel byte has been delivered. */
  readonly closed: Promise<VmmExit>;
  /** Bytes init writes to its channel, and nothing the command can write. */
  readonly channel: Readable;
  /** Recent console and VMM error output, for error messages. */
  diagnostics(): string;
  /** Tells init its end frame arrived, for channels whose writes return before the host has the data. */
  acknowledgeEnd?(): void;
}

export interface VmmBackend {
  readonly name: VmmName;
  readonly binary: string;
  /** The channel as init.c's open_channel() understands it. */
  readonly guestChannel: string;
  /** Whether init must load the kernel's channel modules first (virtio-serial). */
  readonly needsModules: boolean;
  readonly accels: readonly Accel[];
  launch(spec: VmSpec): Promise<LaunchedVm>;
  /** Backend settings worth recording with each job. */
  facts(): Record<string, unknown>;
}

/** Kernel command line shared by both backends; each adds its console and reboot handling. */
export const BASE_KERNEL_ARGS = [
  'quiet', // the console is slow (an emulated UART), keep it for what matters
  'panic=-1', // a panic reboots at once, and the VMM exits instead of hanging
  'pci=off', // microVMs have no PCI bus; skip probing for one
  '8250.nr_uarts=1', // only ttyS0 exists; do not probe the other legacy ports
  'rdinit=/.benchline/init',
];

/**
 * When ttyS0 carries the channel, the kernel console must stay off it (its messages would land inside
 * frames): the (dummy) VGA console takes it explicitly, so nothing picks the UART by default.
 */
export const SERIAL_CHANNEL_CONSOLE = 'console=tty0';

/** The last `limit` bytes written to it: console and stderr tails for diagnostics, bounded in memory. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - this.chunks[0].length >= this.limit) this.size -= this.chunks.shift()!.length;
  }

  toString(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}

export function findOnPath(name: string): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? name : undefined;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = path.join(dir || '.', name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether /dev/kvm can be opened. That it really works only a boot can tell (see probe.ts). */
export function kvmDeviceAccessible(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

const setpriv = findOnPath('setpriv');

/**
 * Starts a VMM in its own process group, so that killing the group stops it and anything it started.
 * Through setpriv(1) the VMM also gets SIGKILL when the runner dies, so a crashed runner leaves no VM.
 */
export async function spawnVmm(
  binary: string,
  args: string[],
  stdio: StdioOptions,
  cwd?: string,
): Promise<{ child: ChildProcess; closed: Promise<VmmExit> }> {
  const [command, argv] = setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', binary, ...args]] : [binary, args];
  const child = spawn(command, argv, { stdio, cwd, detached: true });
  // Listen before anything else can await: a VMM that dies during set-up must not be missed.
  const closed = new Promise<VmmExit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  return { child, closed };
}

export function killVmm(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}
