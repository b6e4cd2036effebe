import { constants } from 'node:os';
import { CommanderError } from 'commander';
import { ApiError, ApiUnreachableError } from './client';
import { CommandFailedError } from './local';
import { UsageError } from './thresholds';

/**
 * The exit codes every command keeps, so a CI step can tell its cases apart:
 *
 * - 0 `ok`: done (the job processed; with `--err`, no alert).
 * - 1 `failed`: the benchmark did not succeed: a job failed or was canceled, a local command failed,
 *   its output was not understood, a required pipeline job did not process, or `--err` saw an alert.
 * - 2 `usage`: the command line was wrong, or the API refused the request (4xx other than 404: a bad
 *   field, a conflict such as canceling an ended job, a missing or insufficient token).
 * - 3 `unavailable`: the API could not be reached, or failed (5xx).
 * - 4 `notFound`: the API has no such job, report, alert… (or the caller may not see it).
 * - 128 + the signal's number (130 for SIGINT, 143 for SIGTERM): interrupted while following a job.
 */
export const EXIT = { ok: 0, failed: 1, alert: 1, usage: 2, unavailable: 3, notFound: 4 } as const;

export const interruptedExit = (signal: NodeJS.Signals) => 128 + constants.signals[signal];

/** The exit code for an error that ended a command (one the command did not turn into a code itself). */
export function exitCodeFor(err: unknown): number {
  if (err instanceof ApiUnreachableError) return EXIT.unavailable;
  if (err instanceof ApiError) return err.status === 404 ? EXIT.notFound : err.status >= 500 ? EXIT.unavailable : EXIT.usage;
  if (err instanceof CommandFailedError) return EXIT.failed;
  if (err instanceof UsageError || err instanceof CommanderError) return EXIT.usage;
  return EXIT.unavailable;
}

/** How the error is told on stderr: what failed, with the HTTP status when the API answered. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) return `${err.message} (HTTP ${err.status})`;
  return (err as Error).message;
}
