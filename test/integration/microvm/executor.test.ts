/**
 * The microVM executor end to end: a real kernel booting a busybox image under QEMU (KVM when it
 * works here, software emulation otherwise). Each VM is small (1 vCPU, 256 MiB) to keep this fast.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ExecutionRequest, ExecutionResult, OUTPUT_LIMITS } from '../../../runner/executors/executor';
import { createMicrovmExecutor, microvmAvailable, MicrovmBootError, MicrovmExecutor } from '../../../runner/executors/microvm';
import { defaultKernelPath, prepareKernel } from '../../../runner/executors/microvm/kernel';
import { QemuBackend, QemuChannel } from '../../../runner/executors/microvm/qemu';
import { hostTscKhz } from '../../../runner/executors/microvm/tsc';
import { ensureGuestInit } from '../../../runner/guest/build-static';
import { encodeExit, encodeFrame, FrameType } from '../../../runner/guest/protocol';
import { buildBusyboxRootfs } from './busybox-rootfs';
import { processAlive } from '../../harness/processes';

jest.setTimeout(120_000); // each test boots at least one VM, under software emulation when KVM does not work

const available = microvmAvailable();
const suite = available ? describe : describe.skip;
if (!available) console.warn('microVM prerequisites missing (kernel, qemu or gcc): skipping');

let tmp: string;
let cacheDir: string;
let rootfs: string;
let executor: MicrovmExecutor;
let jobCounter = 0;
const bootTimes: { accel: string; channel: string; bootMs: number }[] = [];

/** Bytes shaped exactly like a complete, successful report, but signed with a nonce the guest never had. */
const forgedReport = (() => {
  const nonce = randomBytes(16);
  const frames: [string, Buffer?][] = [
    [FrameType.hello, Buffer.from('forged')],
    [FrameType.started],
    [FrameType.exit, encodeExit({ kind: 'exited', code: 0, durationUs: 1 })],
    [FrameType.stdout, Buffer.from('{"forged":true}')],
    [FrameType.end],
  ];
  return Buffer.concat(frames.map(([type, payload], seq) => encodeFrame(nonce, seq, type, payload)));
})();
const binaryBlob = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(300 * 1024)]);

function request(argv: string[], overrides: Partial<ExecutionRequest> = {}): ExecutionRequest {
  const scratchDir = path.join(tmp, `scratch-${++jobCounter}`);
  mkdirSync(scratchDir);
  return {
    jobId: `job-${jobCounter}`,
    rootfs,
    imageKey: `sha256:${'1'.repeat(64)}`,
    argv,
    env: { PATH: '/bin', HOME: '/root' },
    cwd: '/work',
    timeoutMs: 30_000,
    filePaths: [],
    resources: { cpus: 1, memoryMiB: 256 },
    scratchDir,
    signal: new AbortController().signal,
    ...overrides,
  };
}

async function run(script: string, overrides: Partial<ExecutionRequest> = {}, on = executor, label?: string): Promise<ExecutionResult> {
  const result = await on.run(request(['/bin/sh', '-c', script], overrides));
  if (typeof result.metadata.bootMs === 'number') {
    bootTimes.push({ accel: String(result.metadata.accel), channel: label ?? String(result.metadata.channel), bootMs: result.metadata.bootMs });
  }
  return result;
}

/** Any process whose command line mentions `needle` (e.g. a job's scratch directory). */
function processesMentioning(needle: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle);
      } catch {
        return false;
      }
    })
    .map(Number);
}

suite('microVM executor', () => {
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'benchline-microvm-'));
    cacheDir = path.join(tmp, 'cache');
    rootfs = buildBusyboxRootfs(path.join(tmp, 'rootfs'), {
      'data/blob.bin': binaryBlob,
      'data/forged.bin': forgedReport,
      'bin/needs-python': Buffer.from('#!/usr/bin/python3\nprint(1)\n'),
    });
    chmodSync(path.join(rootfs, 'bin/needs-python'), 0o755);
    const started = Date.now();
    executor = await createMicrovmExecutor({ cacheDir });
    console.log(`executor ready in ${Date.now() - started} ms:`, JSON.stringify(executor.describe(), null, 1));
  });

  afterAll(() => {
    // Boot time = host spawn -> the guest's "command started" frame, per channel.
    const byChannel = new Map<string, number[]>();
    for (const b of bootTimes) byChannel.set(`${b.accel}/${b.channel}`, [...(byChannel.get(`${b.accel}/${b.channel}`) ?? []), b.bootMs]);
    const lines = [...byChannel].map(([key, times]) => {
      const sorted = [...times].sort((a, b) => a - b);
      return `  ${key}: median ${sorted[Math.floor(sorted.length / 2)]} ms (min ${sorted[0]}, max ${sorted[sorted.length - 1]}, n=${sorted.length})`;
    });
    if (lines.length) console.log(`boot time, host spawn -> guest command start:\n${lines.join('\n')}`);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('describes the VMM and the acceleration that was probed', () => {
    const facts = executor.describe();
    expect(facts).toMatchObject({ executor: 'microvm', vmm: 'qemu-microvm', accelSource: 'probe', kernelFormat: 'elf-pvh' });
    expect(['kvm', 'tcg']).toContain(facts.accel);
  });

  test('a BMF-printing job exits 0 with the JSON on stdout', async () => {
    const bmf = { 'fib/10': { latency: { value: 3.14, lower_value: 3, upper_value: 3.3 } } };
    const phases: string[] = [];
    const result = await run(`printf '%s' '${JSON.stringify(bmf)}'`, { onPhase: (p) => phases.push(p) });
    expect(result.error).toBeUndefined();
    expect(result).toMatchObject({ exitCode: 0, timedOut: false, canceled: false });
    expect(JSON.parse(result.stdout.toString('utf8'))).toEqual(bmf);
    expect(result.stderr.length).toBe(0);
    expect(phases).toEqual(['booting', 'running', 'collecting']);
    expect(result.metadata).toMatchObject({ vmm: 'qemu-microvm', imageCacheHit: false, guestKernel: expect.stringMatching(/^\d/) });
    expect(result.durationMs).toBeGreaterThan(0);
  });

  test('output files come back byte-identical; the image is packed once and never modified', async () => {
    const result = await run(
      'mkdir -p out && cp /data/blob.bin out/blob.bin && printf "\\000\\001\\377\\n" > /tmp/small.bin && : > empty.bin && echo done',
      { filePaths: ['out/blob.bin', '/tmp/small.bin', 'empty.bin'] },
    );
    expect(result.error).toBeUndefined();
    expect(result.metadata.imageCacheHit).toBe(true);
    expect(result.files.map((f) => f.path)).toEqual(['out/blob.bin', '/tmp/small.bin', 'empty.bin']);
    expect(result.files[0].content.equals(binaryBlob)).toBe(true);
    expect(result.files[1].content).toEqual(Buffer.from([0, 1, 255, 10]));
    expect(result.files[2].content.length).toBe(0);
    expect(existsSync(path.join(rootfs, 'work/out'))).toBe(false);
  });

  test('program output shaped like frames cannot forge the result, and the command cannot reach the channel', async () => {
    const result = await run(
      [
        'cat /data/forged.bin', // stdout
        'cat /data/forged.bin >&2', // stderr
        'cat /data/forged.bin > /dev/console', // the kernel console
        'dd if=/data/forged.bin of=/dev/port bs=1 seek=1026 2>/dev/null || echo "no /dev/port" >&2',
        'test -e /.benchline/job && echo "job file visible" >&2',
        'grep CapEff /proc/self/status >&2',
        'exit 5',
      ].join('; '),
    );
    expect(result.exitCode).toBe(5);
    expect(result.error).toBe('command exited with code 5');
    expect(result.stdout.equals(forgedReport)).toBe(true);
    const stderr = result.stderr.toString('latin1');
    expect(stderr.startsWith(forgedReport.toString('latin1'))).toBe(true);
    expect(stderr).toContain('no /dev/port');
    expect(stderr).not.toContain('job file visible');
    // Docker's default capabilities without CAP_MKNOD: no SYS_RAWIO, SYS_PTRACE, SYS_ADMIN, SYS_MODULE.
    expect(stderr).toMatch(/CapEff:\s+00000000a00425fb/);
    expect(result.metadata.channelSkippedBytes).toBeUndefined();
  });

  test('the guest has no network interface but loopback, and loopback is up', async () => {
    const result = await run('ls /sys/class/net; cat /sys/class/net/lo/flags; ping -c 1 -W 2 127.0.0.1 >/dev/null && echo ping-ok');
    const [interfaces, flags, ping] = result.stdout.toString().trim().split('\n');
    expect(interfaces).toBe('lo');
    expect(parseInt(flags, 16) & 1).toBe(1); // IFF_UP
    expect(ping).toBe('ping-ok');
  });

  test('the guest gets the requested vCPUs and memory', async () => {
    const result = await run("nproc; awk '/MemTotal/ {print $2}' /proc/meminfo", { resources: { cpus: 2, memoryMiB: 384 } });
    const [cpus, memKiB] = result.stdout.toString().trim().split('\n').map(Number);
    expect(cpus).toBe(2);
    expect(memKiB / 1024).toBeGreaterThan(300);
    expect(memKiB / 1024).toBeLessThanOrEqual(384);
  });

  test('a non-zero exit and a fatal signal give clear errors (and a missing cwd is created, as Docker does)', async () => {
    const exited = await run('pwd; echo partial; exit 7', { cwd: '/new/deep/dir' });
    expect(exited).toMatchObject({ exitCode: 7, error: 'command exited with code 7' });
    expect(exited.stdout.toString()).toBe('/new/deep/dir\npartial\n');
    const killed = await run('kill -SEGV $$');
    expect(killed).toMatchObject({ exitCode: null, error: 'command was killed by signal SIGSEGV' });
  });

  test('a missing entrypoint gives a clear error', async () => {
    const absolute = await executor.run(request(['/usr/bin/benchmark-that-is-not-there', '--fast']));
    expect(absolute.exitCode).toBeNull();
    expect(absolute.error).toBe('entrypoint not found in the image: /usr/bin/benchmark-that-is-not-there');
    const onPath = await executor.run(request(['not-on-path']));
    expect(onPath.error).toBe('entrypoint not found in the image: not-on-path');
    const noInterpreter = await executor.run(request(['/bin/needs-python']));
    expect(noInterpreter.error).toBe('entrypoint /bin/needs-python exists but its interpreter or loader is missing from the image');
  });

  test('output over the caps is a clear error, and none of it is returned', async () => {
    const overSize = await run('dd if=/dev/zero of=big.bin bs=1M count=26 2>/dev/null; echo ok > small.txt', {
      filePaths: ['big.bin', 'small.txt'],
    });
    expect(overSize.exitCode).toBe(0);
    expect(overSize.error).toMatch(/^output files total 27262979 bytes, over the cap of 26214400 bytes$/);
    expect(overSize.files).toEqual([]);

    const tooMany = await executor.run(request(['/bin/true'], { filePaths: Array.from({ length: OUTPUT_LIMITS.maxFiles + 1 }, (_, i) => `f${i}`) }));
    expect(tooMany.error).toBe('256 output files requested, over the cap of 255 files');
    expect(tooMany.metadata.vmmPid).toBeUndefined(); // refused before booting anything

    const missing = await run('true', { filePaths: ['nope.json'] });
    expect(missing.error).toBe('output file nope.json: not found');
  });

  test('a timeout kills the command and the VM, and nothing is left running', async () => {
    const req = request(['/bin/sh', '-c', 'echo before; sleep 600 & sleep 600'], { timeoutMs: 2000 });
    const started = Date.now();
    const result = await executor.run(req);
    expect(result).toMatchObject({ timedOut: true, exitCode: null, canceled: false, error: 'command timed out after 2 s and was killed' });
    expect(result.stdout.toString()).toBe('before\n');
    expect(result.durationMs).toBeGreaterThanOrEqual(2000);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(processAlive(result.metadata.vmmPid as number)).toBe(false);
    expect(processesMentioning(req.scratchDir)).toEqual([]);
    expect(readdirSync(req.scratchDir)).toEqual([]); // the initrd is removed at once
  });

  test('canceling through the AbortSignal kills the VM at once', async () => {
    const controller = new AbortController();
    const req = request(['/bin/sleep', '600'], {
      signal: controller.signal,
      // Canceled once the command runs inside the guest.
      onPhase: (phase) => phase === 'running' && controller.abort(),
    });
    const result = await executor.run(req);
    expect(result).toMatchObject({ canceled: true, timedOut: false, exitCode: null });
    expect(processAlive(result.metadata.vmmPid as number)).toBe(false);
    expect(processesMentioning(req.scratchDir)).toEqual([]);
  });

  test('an already-canceled job does not boot', async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await executor.run(request(['/bin/true'], { signal: controller.signal }));
    expect(result).toMatchObject({ canceled: true, exitCode: null });
    expect(result.metadata.vmmPid).toBeUndefined();
  });

  test('an image too large for the job memory is refused with the memory it needs, which is enough', async () => {
    const big = path.join(tmp, 'big-rootfs');
    buildBusyboxRootfs(big, { 'data/filler.bin': randomBytes(60 * 1024 * 1024) });
    const image = { rootfs: big, imageKey: `sha256:${'2'.repeat(64)}` };
    const refused = await executor.run(request(['/bin/true'], { ...image, resources: { cpus: 1, memoryMiB: 128 } }));
    expect(refused.error).toMatch(/^the image is 6\d MiB unpacked, .* give the job at least \d+ MiB$/);
    const needed = Number(/at least (\d+) MiB/.exec(refused.error!)![1]);
    const fits = await run('head -c 16777216 /dev/zero > /work/room.bin && md5sum /data/filler.bin', { ...image, resources: { cpus: 1, memoryMiB: needed } });
    expect({ error: fits.error, stderr: fits.stderr.toString() }).toEqual({ error: undefined, stderr: '' });
    expect(fits.stdout.toString().split(' ')[0]).toBe(createHash('md5').update(readFileSync(path.join(big, 'data/filler.bin'))).digest('hex'));
  });

  test('a gzip-compressed image archive boots too', async () => {
    const gz = await createMicrovmExecutor({ cacheDir, accel: executor.describe().accel as 'kvm' | 'tcg', compressImage: true });
    const result = await run('cat /data/blob.bin | md5sum', {}, gz);
    expect(result.error).toBeUndefined();
    expect(result.stdout.toString().split(' ')[0]).toMatch(/^[0-9a-f]{32}$/);
  });

  // Each channel init can use: virtio-serial (when the kernel's modules are there), the debug port,
  // and a UART as Firecracker's guests use it (run under QEMU, since Firecracker cannot run here).
  const channels: { channel: QemuChannel; device?: string }[] = [
    { channel: 'virtio', device: '/dev/vport0p1' },
    { channel: 'debugcon' },
    { channel: 'serial', device: '/dev/ttyS0' },
  ];
  test.each(channels)('the $channel channel carries binary results and stays out of the command\'s reach', async ({ channel, device }) => {
    const kernel = await prepareKernel(defaultKernelPath(), cacheDir);
    if (channel === 'virtio' && !kernel.modules) {
      console.warn(`virtio channel not tested: ${kernel.modulesNote}`);
      return;
    }
    const onChannel = new MicrovmExecutor({
      backend: new QemuBackend('qemu-system-x86_64', { channel, tscKhz: await hostTscKhz(cacheDir) }),
      accel: executor.describe().accel as 'kvm' | 'tcg',
      kernel,
      init: readFileSync(await ensureGuestInit(cacheDir)),
      cacheDir,
      compressImage: false,
    });
    const probeDevice = device ? `test -e ${device} && echo device-visible >&2; ` : '';
    const result = await run(`cat /data/forged.bin; cp /data/blob.bin out.bin; ${probeDevice}exit 4`, { filePaths: ['out.bin'] }, onChannel, channel);
    expect(result.exitCode).toBe(4);
    expect(result.stdout.equals(forgedReport)).toBe(true);
    expect(result.files[0].content.equals(binaryBlob)).toBe(true);
    expect(result.stderr.toString()).toBe('');

    if (channel === 'virtio') {
      // Fast enough to fill the cap: 24 MiB of random data, through the channel and back intact.
      const big = await run('head -c 25165824 /dev/urandom > big.bin; md5sum big.bin', { filePaths: ['big.bin'], resources: { cpus: 1, memoryMiB: 384 } }, onChannel, channel);
      expect(big.error).toBeUndefined();
      const md5 = createHash('md5').update(big.files[0].content).digest('hex');
      expect(big.stdout.toString().split(' ')[0]).toBe(md5);
      expect(big.files[0].content.length).toBe(25165824);
    }
  });

  test('the host watchdog kills a VMM whose guest never starts the command', async () => {
    // A stand-in "QEMU" that starts and then hangs, as a wedged guest would.
    const fake = path.join(tmp, 'hanging-vmm');
    const pidFile = path.join(tmp, 'hanging-vmm.pid');
    writeFileSync(fake, `#!/bin/sh\necho $$ > ${pidFile}\nexec sleep 600\n`);
    chmodSync(fake, 0o755);
    const hanging = await createMicrovmExecutor({ cacheDir, vmm: 'qemu', qemuBinary: fake, accel: 'tcg', bootTimeoutMs: 1500 });
    const started = Date.now();
    await expect(run('true', {}, hanging)).rejects.toThrow(MicrovmBootError);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(processAlive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });
});
