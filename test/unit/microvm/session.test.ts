import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { encodeExit, encodeFrame, FrameType } from '../../../runner/guest/protocol';
import { runSession, SessionSpec } from '../../../runner/executors/microvm/session';
import { spawnVmm, VmmBackend } from '../../../runner/executors/microvm/vmm';

/** A "VMM" that is a real process (so killing is real) and a channel the test writes frames into. */
function fakeBackend(channel: PassThrough, acknowledgeEnd?: () => void): VmmBackend {
  return {
    name: 'qemu-microvm',
    binary: 'sleep',
    guestChannel: 'ioport:1026',
    needsModules: false,
    accels: ['tcg'],
    facts: () => ({}),
    async launch() {
      const { child, closed } = await spawnVmm('sleep', ['60'], ['ignore', 'ignore', 'ignore']);
      child.once('exit', () => channel.end());
      return { process: child, closed, channel, diagnostics: () => 'fake', acknowledgeEnd };
    },
  };
}

const nonce = randomBytes(16);
let seq = 0;
const frame = (type: string, payload?: Buffer) => encodeFrame(nonce, seq++, type, payload);

function spec(channel: PassThrough, overrides: Partial<SessionSpec> = {}): SessionSpec {
  seq = 0;
  return {
    backend: fakeBackend(channel),
    vm: { kernel: { path: 'k', source: 'k', format: 'elf-pvh' }, initrdPath: 'i', cpus: 1, memoryMiB: 64, accel: 'tcg', workDir: '/tmp' },
    nonce,
    caps: { maxTotalBytes: 1024, maxFiles: 2 },
    bootTimeoutMs: 5000,
    runTimeoutMs: 5000,
    idleTimeoutMs: 5000,
    ...overrides,
  };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('VM session watchdog', () => {
  test('kills a VM that never starts the command', async () => {
    const channel = new PassThrough();
    const result = await runSession(spec(channel, { bootTimeoutMs: 200 }));
    expect(result.killedBecause).toBe('boot-timeout');
    expect(alive(result.pid!)).toBe(false);
    expect(result.vmmExit.signal).toBe('SIGKILL');
  });

  test('kills a guest that started the command but never reports its end, and reports the stages', async () => {
    const channel = new PassThrough();
    const stages: string[] = [];
    const session = runSession(spec(channel, { runTimeoutMs: 300, onStage: (s) => stages.push(s) }));
    setTimeout(() => channel.write(Buffer.concat([frame(FrameType.hello, Buffer.from('6.1')), frame(FrameType.started)])), 50);
    const result = await session;
    expect(result.killedBecause).toBe('run-timeout');
    expect(stages).toEqual(['running']);
    expect(result.report.started).toBe(true);
    expect(result.bootMs).toBeGreaterThanOrEqual(result.helloMs!);
  });

  test('kills a guest whose results stall', async () => {
    const channel = new PassThrough();
    const session = runSession(spec(channel, { idleTimeoutMs: 300 }));
    channel.write(Buffer.concat([frame(FrameType.hello), frame(FrameType.started), frame(FrameType.exit, encodeExit({ kind: 'exited', code: 0, durationUs: 5 }))]));
    const result = await session;
    expect(result.killedBecause).toBe('stalled');
    expect(result.report.exit?.code).toBe(0);
  });

  test('a corrupted channel stops the VM', async () => {
    const channel = new PassThrough();
    const session = runSession(spec(channel));
    const bad = frame(FrameType.hello, Buffer.from('abc'));
    bad[bad.length - 1] ^= 1;
    channel.write(bad);
    const result = await session;
    expect(result.killedBecause).toBe('protocol-error');
    expect(result.protocolError).toMatch(/checksum/);
  });

  test('output over the caps stops the VM too', async () => {
    const channel = new PassThrough();
    const session = runSession(spec(channel));
    channel.write(Buffer.concat([frame(FrameType.hello), frame(FrameType.started), frame(FrameType.stdout, Buffer.alloc(2000))]));
    const result = await session;
    expect(result.killedBecause).toBe('protocol-error');
    expect(result.protocolError).toMatch(/more than 1024 bytes of stdout/);
  });

  test('acknowledges the end frame, then gives the VM a grace period to power off', async () => {
    const channel = new PassThrough();
    const acks: number[] = [];
    const s = spec(channel);
    const session = runSession({ ...s, backend: fakeBackend(channel, () => acks.push(Date.now())) });
    channel.write(Buffer.concat([frame(FrameType.hello), frame(FrameType.end)]));
    const result = await Promise.race([session, new Promise((r) => setTimeout(() => r('still running'), 300))]);
    expect(result).toBe('still running'); // not killed at once: the guest powers off by itself
    expect(acks).toHaveLength(1);
    const done = await session; // killed after the grace
    expect(done.report.complete).toBe(true);
    expect(done.killedBecause).toBeUndefined();
  }, 15_000);

  test('an abort kills the VM at once', async () => {
    const channel = new PassThrough();
    const controller = new AbortController();
    const started = Date.now();
    const session = runSession(spec(channel, { signal: controller.signal }));
    setTimeout(() => controller.abort(), 100);
    const result = await session;
    expect(result.killedBecause).toBe('canceled');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(alive(result.pid!)).toBe(false);
  });
});
