import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { withOutageWindow } from '../../activities/outage';

/** When a job's control activities stop retrying: an unreachable database only after the window. */
describe('database outage window', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  const failing = (err: unknown) => withOutageWindow({ recordRunResult: async () => Promise.reject(err) }, 300);
  type Attempt = { attempt: number; firstScheduledSecondsAgo: number; otherErrorsBefore?: number; isLocal?: boolean };
  /** Runs one failing attempt; `heartbeats` gets what it left for the next attempt. */
  const attemptWith = (err: unknown, info: Attempt) => {
    const env = new MockActivityEnvironment({
      activityType: 'recordRunResult',
      attempt: info.attempt,
      isLocal: info.isLocal ?? false,
      scheduledTimestampMs: Date.now() - info.firstScheduledSecondsAgo * 1000,
      heartbeatDetails: info.otherErrorsBefore === undefined ? undefined : { otherErrors: info.otherErrorsBefore },
    });
    const heartbeats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => heartbeats.push(details));
    return { failure: env.run(failing(err).recordRunResult).catch((e: unknown) => e), heartbeats };
  };
  const run = (err: unknown, info: Attempt) => attemptWith(err, info).failure;

  it('keeps retrying an unreachable database within the window, however many attempts that takes', async () => {
    expect(await run(refused, { attempt: 40, firstScheduledSecondsAgo: 290 })).toBe(refused);
    const dropped = new Error('Connection terminated unexpectedly');
    expect(await run(dropped, { attempt: 2, firstScheduledSecondsAgo: 5 })).toBe(dropped);
  });

  it('fails for good once the window has passed, saying the database was unreachable', async () => {
    const failure = await run(refused, { attempt: 41, firstScheduledSecondsAgo: 301 });
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ nonRetryable: true, type: 'DatabaseUnreachable', message: expect.stringMatching(/^the database was unreachable for 301 s \(recordRunResult\): connect ECONNREFUSED/) });
  });

  it('gives other errors ten attempts, and leaves application failures as they are', async () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'status')");
    expect(await run(bug, { attempt: 9, firstScheduledSecondsAgo: 20, otherErrorsBefore: 8 })).toBe(bug);
    expect(await run(bug, { attempt: 10, firstScheduledSecondsAgo: 20, otherErrorsBefore: 9 })).toMatchObject({ nonRetryable: true, type: 'TypeError', message: bug.message });
    const final = ApplicationFailure.nonRetryable('job x does not exist', 'JobGone');
    expect(await run(final, { attempt: 1, firstScheduledSecondsAgo: 400 })).toBe(final);
  });

  it('does not count the attempts an outage used up against the ten an other error gets', async () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'status')");
    // Attempt 40, after 39 attempts that met an unreachable database: the first other error.
    const first = attemptWith(bug, { attempt: 40, firstScheduledSecondsAgo: 290 });
    expect(await first.failure).toBe(bug);
    expect(first.heartbeats).toEqual([{ otherErrors: 1 }]);
    // An outage between other errors keeps the tally it was handed for the attempt after it.
    const outage = attemptWith(refused, { attempt: 41, firstScheduledSecondsAgo: 295, otherErrorsBefore: 3 });
    expect(await outage.failure).toBe(refused);
    expect(outage.heartbeats).toEqual([{ otherErrors: 3 }]);
    const next = attemptWith(bug, { attempt: 42, firstScheduledSecondsAgo: 296, otherErrorsBefore: 3 });
    expect(await next.failure).toBe(bug);
    expect(next.heartbeats).toEqual([{ otherErrors: 4 }]);
  });

  it('counts every attempt of a local activity, which cannot heartbeat', async () => {
    const bug = new TypeError('boom');
    expect(await run(bug, { attempt: 9, firstScheduledSecondsAgo: 20, isLocal: true })).toBe(bug);
    expect(await run(bug, { attempt: 10, firstScheduledSecondsAgo: 20, isLocal: true })).toMatchObject({ nonRetryable: true, type: 'TypeError' });
  });
});
