import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cause, disagreement, type JobOutcome } from '../../bench/chaos-report';
import { commandStarts, installBwrapShim } from '../../bench/command-starts';
import type { JobStatus } from '../../common/contracts';

const run = promisify(execFile);

describe('the chaos benchmark counts every sandbox command start', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chaos-shim-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('the bwrap shim logs each start under its job and hands over to the real bwrap', async () => {
    const log = join(dir, 'starts.log');
    await installBwrapShim(join(dir, 'shim'), log);
    const a = '0b7f3a54-1d2e-4c5f-9a8b-7c6d5e4f3a2b';
    const b = '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a';
    const start = async (job: string, attempt: number, command: string[]) => {
      const root = join(dir, 'jobs', `${job}-${attempt}`, 'merged');
      await mkdir(root, { recursive: true });
      // The executor's shape: the job's root is the first --bind source.
      return run(join(dir, 'shim', 'bwrap'), ['--ro-bind', '/', '/', '--bind', root, '/mnt', '--', ...command]);
    };
    await start(a, 1, ['/bin/true']);
    await start(a, 2, ['/bin/true']);
    // The real bwrap ran the command: its exit status comes back through the shim.
    await expect(start(b, 1, ['/bin/sh', '-c', 'exit 7'])).rejects.toMatchObject({ code: 7 });
    await run(join(dir, 'shim', 'bwrap'), ['--version']);

    expect(await commandStarts(log)).toEqual(new Map([[a, 2], [b, 1]]));
  });

  test('no log yet means no starts', async () => {
    expect(await commandStarts(join(dir, 'missing.log'))).toEqual(new Map());
  });
});

describe('job rows against their workflows', () => {
  const job = (status: JobStatus | undefined, workflow: string): JobOutcome => ({
    id: 'j',
    row: status && { id: 'j', status, error: null, idempotency_key: null, finished_at: null },
    workflow,
    starts: 1,
  });

  test.each([
    ['processed', 'COMPLETED'],
    ['failed', 'FAILED'],
    ['canceled', 'CANCELLED'],
    ['pending', 'RUNNING'],
    ['running', 'RUNNING'],
  ] as const)('row %s with workflow %s agree', (status, workflow) => {
    expect(disagreement(job(status, workflow))).toBeUndefined();
  });

  test.each([
    ['processed', 'RUNNING', 'row processed, workflow still running'],
    ['failed', 'NOT_FOUND', 'row failed, no workflow'],
    ['pending', 'COMPLETED', 'workflow COMPLETED, row pending'],
    ['completed', 'FAILED', 'workflow FAILED, row completed'],
  ] as const)('row %s with workflow %s is a disagreement', (status, workflow, kind) => {
    expect(disagreement(job(status, workflow))).toEqual({ kind, hard: true });
  });

  test('both ended, differently: an outcome mismatch, not a disagreement', () => {
    expect(disagreement(job('failed', 'COMPLETED'))).toEqual({ kind: 'row failed, workflow COMPLETED', hard: false });
  });

  test('a missing row is for the lost count, not a disagreement', () => {
    expect(disagreement(job(undefined, 'NOT_FOUND'))).toBeUndefined();
  });
});

test('failures group by the shape of their message', () => {
  expect(cause('heartbeat timeout: the runner stopped responding for 30s')).toBe(cause('heartbeat timeout: the runner stopped responding for 45s'));
  expect(cause('job 0b7f3a54-1d2e-4c5f-9a8b-7c6d5e4f3a2b is gone')).toBe('job <id> is gone');
  expect(cause(null)).toBe('(no error recorded)');
  expect(cause('x'.repeat(300))).toHaveLength(100);
});
