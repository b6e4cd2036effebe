import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { withOutageWindow } from '../../activities/outage';

/** When a job's control activities stop retrying: an unreachable database only after the window. */
describe('database outage window', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  const failing = (err: unknown) => withOutageWindow({ recordRunResult: async () => Promise.reject(err) }, 300);
  const run = (err: unknown, info: { attempt: number; firstScheduledSecondsAgo: number }) =>
    new MockActivityEnvironment({ activityType: 'recordRunResult', attempt: info.attempt, scheduledTimestampMs: Date.now() - info.firstScheduledSecondsAgo * 1000 })
      .run(failing(err).recordRunResult)
      .catch((e: unknown) => e);

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
    expect(await run(bug, { attempt: 9, firstScheduledSecondsAgo: 20 })).toBe(bug);
    expect(await run(bug, { attempt: 10, firstScheduledSecondsAgo: 20 })).toMatchObject({ nonRetryable: true, type: 'TypeError', message: bug.message });
    const final = ApplicationFailure.nonRetryable('job x does not exist', 'JobGone');
    expect(await run(final, { attempt: 1, firstScheduledSecondsAgo: 400 })).toBe(final);
  });
});
