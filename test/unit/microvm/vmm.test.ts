import { firecrackerBootArgs } from '../../../runner/executors/microvm/firecracker';
import { qemuArgs } from '../../../runner/executors/microvm/qemu';
import { TailBuffer, VmSpec } from '../../../runner/executors/microvm/vmm';

const spec: VmSpec = {
  kernel: { path: '/k/vmlinux', source: '/k/vmlinuz', format: 'elf-pvh' },
  initrdPath: '/s/initrd.cpio',
  cpus: 2,
  memoryMiB: 512,
  accel: 'tcg',
  workDir: '/s',
};
const after = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

describe('QEMU command line', () => {
  test('a microvm with no defaults, no network, the requested size, and the kernel console on ttyS0', () => {
    const args = qemuArgs(spec, { tscKhz: 2_600_000 });
    expect(after(args, '-M')).toBe('microvm');
    expect(args).toEqual(expect.arrayContaining(['-nodefaults', '-no-user-config', '-nographic', '-no-reboot']));
    expect(after(args, '-nic')).toBe('none');
    expect(after(args, '-smp')).toBe('2');
    expect(after(args, '-m')).toBe('512M');
    expect(after(args, '-accel')).toBe('tcg');
    expect(after(args, '-cpu')).toBe('max');
    const cmdline = after(args, '-append').split(' ');
    expect(cmdline).toEqual(expect.arrayContaining(['console=ttyS0', 'rdinit=/.benchline/init', 'tsc_early_khz=2600000', 'panic=-1']));
    expect(args.join(' ')).toContain('isa-debugcon,chardev=channel,iobase=0x402');
  });

  test('KVM uses the host CPU and needs no TSC hint', () => {
    const args = qemuArgs({ ...spec, accel: 'kvm' }, { tscKhz: 2_600_000 });
    expect(after(args, '-cpu')).toBe('host');
    expect(after(args, '-append')).not.toContain('tsc_early_khz');
  });

  test('virtio and serial channels', () => {
    expect(qemuArgs(spec, { channel: 'virtio' }).join(' ')).toContain('virtserialport,chardev=channel');
    const serial = qemuArgs(spec, { channel: 'serial' });
    expect(after(serial, '-serial')).toBe('chardev:channel');
    expect(after(serial, '-append')).toContain('console=tty0');
    expect(after(serial, '-append')).not.toContain('console=ttyS0');
  });

  test("Firecracker's kernel keeps its console off the channel UART", () => {
    expect(firecrackerBootArgs()).toContain('console=tty0');
    expect(firecrackerBootArgs()).not.toContain('ttyS0');
    expect(firecrackerBootArgs()).toContain('reboot=k');
  });
});

describe('TailBuffer', () => {
  test('keeps the last bytes only', () => {
    const tail = new TailBuffer(5);
    tail.push(Buffer.from('abc'));
    tail.push(Buffer.from('defg'));
    tail.push(Buffer.from('h'));
    expect(tail.toString()).toBe('defgh');
  });
});
