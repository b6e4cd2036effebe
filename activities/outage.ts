import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { isDatabaseUnavailable } from '../db/unavailable';

/** Default for how long a job's control activities ride out a database outage before the job fails. */
export const DEFAULT_DB_OUTAGE_WINDOW_SECONDS = 300;
/**
 * Longest window the schedule-to-close backstop of the job workflow's control activities
 * (workflows/job.ts, 15 minutes) leaves room for: past it Temporal would time them out first.
 */
export const MAX_DB_OUTAGE_WINDOW_SECONDS = 600;
/** Errors other than an unreachable database (bugs, a registry that keeps failing) get this many attempts, as before. */
const OTHER_ERROR_ATTEMPTS = 10;

type Activities = Record<string, (...args: never[]) => Promise<unknown>>;

/**
 * Decides when a job's control activities stop being retried. jobWorkflow retries them by time, with
 * no attempt limit, so that a database outage of several minutes fails nothing; this ends the
 * retries: an unreachable database once `windowSeconds` have passed since the first attempt (with a
 * message saying so), any other error after OTHER_ERROR_ATTEMPTS attempts.
 */
export function withOutageWindow<T extends Activities>(activities: T, windowSeconds: number): T {
  const bounded = Object.entries(activities).map(([name, fn]) => [
    name,
    async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw retryDecision(err, windowSeconds);
      }
    },
  ]);
  return Object.fromEntries(bounded) as T;
}

function retryDecision(err: unknown, windowSeconds: number): unknown {
  if (err instanceof ApplicationFailure || err instanceof CancelledFailure) return err;
  const { message, name } = err as { message?: string; name?: string };
  const { activityType, attempt, scheduledTimestampMs } = Context.current().info;
  if (isDatabaseUnavailable(err)) {
    const downSeconds = Math.round((Date.now() - scheduledTimestampMs) / 1000);
    if (downSeconds < windowSeconds) return err;
    return ApplicationFailure.create({
      message: `the database was unreachable for ${downSeconds} s (${activityType}): ${message}`,
      type: 'DatabaseUnreachable',
      nonRetryable: true,
      cause: err as Error,
    });
  }
  if (attempt < OTHER_ERROR_ATTEMPTS) return err;
  return ApplicationFailure.create({ message: message ?? String(err), type: name, nonRetryable: true, cause: err as Error });
}
