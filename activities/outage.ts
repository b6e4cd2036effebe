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
/**
 * Errors other than an unreachable database (bugs, a registry that keeps failing) get this many
 * attempts, however many attempts an outage used up before or between them.
 */
const OTHER_ERROR_ATTEMPTS = 10;

/**
 * What a failed attempt heartbeats for the next one: Temporal hands the last heartbeat details to
 * every later attempt (`info.heartbeatDetails`), the only state an activity keeps across attempts.
 */
interface RetryTally {
  otherErrors: number;
}

type Activities = Record<string, (...args: never[]) => Promise<unknown>>;

/**
 * Decides when a job's control activities stop being retried. jobWorkflow retries them by time, with
 * no attempt limit, so that a database outage of several minutes fails nothing; this ends the
 * retries: an unreachable database once `windowSeconds` have passed since the first attempt (with a
 * message saying so), any other error after OTHER_ERROR_ATTEMPTS attempts that failed with one.
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
  const context = Context.current();
  const { activityType, scheduledTimestampMs } = context.info;
  const otherErrors = otherErrorsSoFar(context.info);
  if (isDatabaseUnavailable(err)) {
    const downSeconds = Math.round((Date.now() - scheduledTimestampMs) / 1000);
    if (downSeconds >= windowSeconds) {
      return ApplicationFailure.create({
        message: `the database was unreachable for ${downSeconds} s (${activityType}): ${message}`,
        type: 'DatabaseUnreachable',
        nonRetryable: true,
        cause: err as Error,
      });
    }
    // Carried forward, so the tally survives however many outage attempts come between two other errors.
    context.heartbeat({ otherErrors } satisfies RetryTally);
    return err;
  }
  const tally = { otherErrors: otherErrors + 1 } satisfies RetryTally;
  if (tally.otherErrors < OTHER_ERROR_ATTEMPTS) {
    context.heartbeat(tally);
    return err;
  }
  return ApplicationFailure.create({ message: message ?? String(err), type: name, nonRetryable: true, cause: err as Error });
}

/**
 * Other errors in the attempts before this one. A local activity cannot heartbeat (Temporal ignores
 * it), so there every earlier attempt counts, outage ones included.
 */
function otherErrorsSoFar(info: { isLocal: boolean; attempt: number; heartbeatDetails?: unknown }): number {
  if (info.isLocal) return info.attempt - 1;
  return (info.heartbeatDetails as RetryTally | undefined)?.otherErrors ?? 0;
}
