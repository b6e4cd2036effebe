import { encodeGuestJob, GuestJob } from '../../../runner/guest/job-config';

const job: GuestJob = {
  mode: 'run',
  nonce: Buffer.alloc(16, 0xab),
  channel: 'ioport:1026',
  modules: ['/m/a.ko', '/m/b.ko'],
  epochMs: 1700000000123.7,
  timeoutMs: 1500.2,
  maxTotalBytes: 100,
  maxFiles: 2,
  cwd: '/work',
  argv: ['/bin/sh', '-c', 'echo "a b"'],
  env: { PATH: '/bin', EMPTY: '' },
  files: ['out.json'],
};

describe('guest job file', () => {
  test('is NUL-terminated fields in the order init.c reads them', () => {
    const fields = encodeGuestJob(job).toString('utf8').split('\0');
    expect(fields).toEqual([
      'benchline-job-1', 'run', 'ab'.repeat(16), 'ioport:1026', '2', '/m/a.ko', '/m/b.ko', '1700000000123', '1501', '100', '2', '/work',
      '3', '/bin/sh', '-c', 'echo "a b"',
      '2', 'PATH=/bin', 'EMPTY=',
      '1', 'out.json',
      'end', '',
    ]);
  });

  test('rejects what init could not represent', () => {
    expect(() => encodeGuestJob({ ...job, argv: ['a\0b'] })).toThrow(/argv contains a NUL/);
    expect(() => encodeGuestJob({ ...job, env: { 'A=B': 'x' } })).toThrow(/environment variable name/);
    expect(() => encodeGuestJob({ ...job, files: ['x\0'] })).toThrow(/output file path/);
    expect(() => encodeGuestJob({ ...job, timeoutMs: -1 })).toThrow(/timeoutMs/);
  });
});
