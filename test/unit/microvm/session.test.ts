import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { encodeExit, encodeFrame, FrameType } from '../../../runner/guest/protocol';
import { runSession, SessionSpec } from '../../../runner/executors/microvm/session';
import { spawnVmm, VmmBackend } from '../../../runner/executors/microvm/vmm';
import { processAlive } from '../../harness/processes';

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

describe('VM session watchdog', () => {
  test('kills a VM that never starts the command', async () => {
    const channel = new PassThrough();
    const result = await runSession(spec(channel, { bootTimeoutMs: 200 }));
    expect(result.killedBecause).toBe('boot-timeout');
    expect(processAlive(result.pid!)).toBe(false);
    expect(result.vmmExit.signal).toBe('SIGKILL');
  });

  test('kills a guest that started the command but never reports its end, and reports the stages', async () => {
    const channel = new PassThrough();
    const stages: string[] = [];
    const session = runSession(spec(channel, { runTimeoutMs: 300, onStage: (s) => stages.push(s) }));
    channel.write(Buffer.concat([frame(FrameType.hello, Buffer.from('6.1')), frame(FrameType.started)]));
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
    const exitGraceMs = 400;
    const session = runSession({ ...spec(channel, { exitGraceMs }), backend: fakeBackend(channel, () => acks.push(Date.now())) });
    const ended = Date.now();
    channel.write(Buffer.concat([frame(FrameType.hello), frame(FrameType.end)]));
    const done = await session; // this fake VM never powers off: it is killed once the grace is over
    // Not killed at once: the guest had its grace to power off by itself.
    expect(Date.now() - ended).toBeGreaterThanOrEqual(exitGraceMs - 20);
    expect(acks).toHaveLength(1);
    expect(done.report.complete).toBe(true);
    expect(done.killedBecause).toBeUndefined();
  });

  test('an abort kills the VM at once', async () => {
    const channel = new PassThrough();
    const controller = new AbortController();
    const started = Date.now();
    // Aborted once the guest is running its command, as a cancel would be.
    const session = runSession(spec(channel, { signal: controller.signal, onStage: (s) => s === 'running' && controller.abort() }));
    channel.write(Buffer.concat([frame(FrameType.hello), frame(FrameType.started)]));
    const result = await session;
    expect(result.killedBecause).toBe('canceled');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(processAlive(result.pid!)).toBe(false);
  });
});
