/**
 * QEMU's `microvm` machine: no PCI, no firmware tables beyond the minimum, no default devices.
 *
 * The channel is a virtio-serial port when the kernel's virtio modules are available (bulk transfers:
 * tens of MiB/s under TCG), else an isa-debugcon port, which needs no driver and has no device node, but
 * QEMU forwards it byte by byte (~0.5 MiB/s, still faster than a 16550 UART). The kernel console is ttyS0.
 * Channel and console reach the host over socketpairs handed to QEMU as inherited fds
 * (`-chardev socket,fd=N`), so nothing is created on disk and no socket path length limit applies.
 */
import { Duplex, Readable } from 'node:stream';
import { BASE_KERNEL_ARGS, LaunchedVm, SERIAL_CHANNEL_CONSOLE, spawnVmm, TailBuffer, VmmBackend, VmSpec } from './vmm';

export const DEBUGCON_PORT = 0x402;
const CHANNEL_FD = 3;
const CONSOLE_FD = 4;

/**
 * 'virtio' needs the kernel's channel modules; 'debugcon' needs nothing. 'serial' reproduces
 * Firecracker's guest set-up (ttyS0 is the channel, no kernel console), so the tests cover that guest
 * path on machines where Firecracker cannot run.
 */
export type QemuChannel = 'virtio' | 'debugcon' | 'serial';
const GUEST_CHANNELS: Record<QemuChannel, string> = {
  virtio: 'dev:/dev/vport0p1', // the first (and only) port of the only virtio-serial device
  debugcon: `ioport:${DEBUGCON_PORT}`,
  serial: 'tty:/dev/ttyS0',
};

export interface QemuOptions {
  channel?: QemuChannel;
  /** The host TSC rate, given to TCG guests so they skip calibrating it (see tsc-khz.c). */
  tscKhz?: number;
}

export function qemuArgs(spec: VmSpec, options: QemuOptions = {}): string[] {
  const channel = options.channel ?? 'debugcon';
  const kernelArgs = [...BASE_KERNEL_ARGS, 'reboot=t' /* if power-off fails, a reset ends QEMU (-no-reboot) */];
  if (spec.accel === 'tcg' && options.tscKhz) kernelArgs.push(`tsc_early_khz=${options.tscKhz}`);
  const chardev = ['-chardev', `socket,id=channel,fd=${CHANNEL_FD}`];
  const consoleDevice = ['-chardev', `socket,id=console,fd=${CONSOLE_FD}`, '-serial', 'chardev:console'];
  const devices = {
    virtio: [...consoleDevice, ...chardev, '-device', 'virtio-serial-device', '-device', 'virtserialport,chardev=channel,name=benchline'],
    debugcon: [...consoleDevice, ...chardev, '-device', `isa-debugcon,chardev=channel,iobase=0x${DEBUGCON_PORT.toString(16)}`],
    serial: [...chardev, '-serial', 'chardev:channel'],
  }[channel];
  kernelArgs.push(channel === 'serial' ? SERIAL_CHANNEL_CONSOLE : 'console=ttyS0');
  return [
    ...['-M', 'microvm', '-accel', spec.accel],
    // KVM: the host CPU as is (benchmarks must see the real features). TCG: everything it can emulate.
    ...['-cpu', spec.accel === 'kvm' ? 'host' : 'max'],
    ...['-smp', String(spec.cpus), '-m', `${spec.memoryMiB}M`],
    ...['-nodefaults', '-no-user-config', '-nographic', '-nic', 'none', '-no-reboot'],
    ...['-kernel', spec.kernel.path, '-initrd', spec.initrdPath, '-append', kernelArgs.join(' ')],
    ...devices,
  ];
}

export class QemuBackend implements VmmBackend {
  readonly name = 'qemu-microvm' as const;
  readonly guestChannel: string;
  readonly needsModules: boolean;
  readonly accels = ['kvm', 'tcg'] as const;

  constructor(
    readonly binary: string,
    private readonly options: QemuOptions = {},
  ) {
    this.guestChannel = GUEST_CHANNELS[options.channel ?? 'debugcon'];
    this.needsModules = options.channel === 'virtio';
  }

  facts(): Record<string, unknown> {
    return { channel: this.options.channel ?? 'debugcon', ...(this.options.tscKhz && { tscKhz: this.options.tscKhz }) };
  }

  async launch(spec: VmSpec): Promise<LaunchedVm> {
    const { child, closed } = await spawnVmm(this.binary, qemuArgs(spec, this.options), ['ignore', 'ignore', 'pipe', 'pipe', 'pipe']);
    const consoleTail = new TailBuffer(64 * 1024);
    const stderr = new TailBuffer(16 * 1024);
    (child.stdio[CONSOLE_FD] as Readable).on('data', (d: Buffer) => consoleTail.push(d));
    child.stderr!.on('data', (d: Buffer) => stderr.push(d));
    const channel = child.stdio[CHANNEL_FD] as Duplex;
    return {
      process: child,
      closed,
      channel,
      // virtio-serial only (init waits for it there): the byte travels back through the same port.
      ...(this.options.channel === 'virtio' && { acknowledgeEnd: () => channel.write(Buffer.from([0x06])) }),
      diagnostics: () => [`--- guest console (tail) ---`, consoleTail.toString(), `--- ${this.binary} stderr ---`, stderr.toString()].join('\n'),
    };
  }
}
