import { randomBytes } from 'node:crypto';
import { crc32, decodeExit, encodeExit, encodeFrame, FrameDecoder, FrameType, ProtocolError } from '../../../runner/guest/protocol';
import { GuestReport } from '../../../runner/guest/report';

const nonce = randomBytes(16);
const frames = (types: [string, Buffer?][], key = nonce) => Buffer.concat(types.map(([t, p], i) => encodeFrame(key, i, t, p)));

describe('frame protocol', () => {
  test('crc32 matches the IEEE check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  test('round-trips frames split at every byte boundary', () => {
    const stream = frames([
      [FrameType.hello, Buffer.from('6.1.0')],
      [FrameType.stdout, randomBytes(1000)],
      [FrameType.end],
    ]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const decoder = new FrameDecoder(nonce);
      const got = [...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))];
      expect(got.map((f) => f.type)).toEqual(['H', 'O', 'Z']);
      expect(got[0].payload.toString()).toBe('6.1.0');
      expect(decoder.skippedBytes).toBe(0);
    }
  });

  test('skips bytes that are not frames of this job, including frames with another nonce', () => {
    const forged = frames([[FrameType.exit, encodeExit({ kind: 'exited', code: 0, durationUs: 1 })]], randomBytes(16));
    const real = frames([[FrameType.hello], [FrameType.end]]);
    const junk = Buffer.concat([Buffer.from('BLCH'), forged, Buffer.from('kernel log line\r\n'), real.subarray(0, 10)]);
    const decoder = new FrameDecoder(nonce);
    const got = [...decoder.push(junk), ...decoder.push(real.subarray(10))];
    expect(got.map((f) => f.type)).toEqual(['H', 'Z']);
    expect(decoder.skippedBytes).toBe(4 + forged.length + 17);
  });

  test('a damaged frame is an error, not data', () => {
    const stream = frames([[FrameType.stdout, Buffer.from('hello')]]);
    stream[stream.length - 6] ^= 0xff; // flip a payload byte
    expect(() => new FrameDecoder(nonce).push(stream)).toThrow(/checksum/);
  });

  test('a missing frame is detected by its sequence number', () => {
    const stream = Buffer.concat([encodeFrame(nonce, 0, FrameType.hello), encodeFrame(nonce, 2, FrameType.end)]);
    expect(() => new FrameDecoder(nonce).push(stream)).toThrow(/missing/);
  });

  test('an absurd length is rejected before buffering it', () => {
    const stream = encodeFrame(nonce, 0, FrameType.stdout, Buffer.from('x'));
    stream.writeUInt32BE(0x7fffffff, 25);
    expect(() => new FrameDecoder(nonce).push(stream)).toThrow(ProtocolError);
  });

  test('exit payload round-trips', () => {
    const exit = { kind: 'timed-out' as const, code: -1, durationUs: 2 ** 40 + 5 };
    expect(decodeExit(encodeExit(exit))).toEqual(exit);
    expect(() => decodeExit(Buffer.alloc(3))).toThrow(ProtocolError);
  });
});

describe('guest report', () => {
  const caps = { maxTotalBytes: 10, maxFiles: 1 };
  const feed = (report: GuestReport, list: [string, Buffer?][]) => new FrameDecoder(nonce).push(frames(list)).forEach((f) => report.accept(f));

  test('assembles a report', () => {
    const report = new GuestReport(caps);
    feed(report, [
      [FrameType.hello, Buffer.from('k')],
      [FrameType.started],
      [FrameType.exit, encodeExit({ kind: 'exited', code: 3, durationUs: 1500 })],
      [FrameType.stdout, Buffer.from('ab')],
      [FrameType.stdout, Buffer.from('c')],
      [FrameType.file, Buffer.from('out.bin')],
      [FrameType.fileData, Buffer.from([0, 255])],
      [FrameType.error, Buffer.from('oops')],
      [FrameType.end],
    ]);
    expect(report).toMatchObject({ guestKernel: 'k', started: true, complete: true, errors: ['oops'], exit: { code: 3 } });
    expect(report.stdout.toString()).toBe('abc');
    expect(report.files.map((f) => [f.path, Buffer.concat(f.chunks)])).toEqual([['out.bin', Buffer.from([0, 255])]]);
  });

  test('enforces the caps on the host side too', () => {
    expect(() => feed(new GuestReport(caps), [[FrameType.stdout, Buffer.alloc(11)]])).toThrow(/more than 10 bytes/);
    expect(() => feed(new GuestReport(caps), [[FrameType.file, Buffer.from('a')], [FrameType.file, Buffer.from('b')]])).toThrow(/more than 1 files/);
    expect(() => feed(new GuestReport(caps), [[FrameType.fileData, Buffer.from('a')]])).toThrow(/before any file/);
    expect(() => feed(new GuestReport(caps), [[FrameType.end], [FrameType.hello]])).toThrow(/after the end/);
  });
});
