import { FieldError } from './field-error';

/**
 * How far ahead `start_after` may be. A delayed job holds an open workflow (a durable timer) and a
 * `scheduled` row the whole time; past a month a Schedule is the right tool.
 */
export const MAX_START_AFTER_DAYS = 30;

/**
 * When a job submitted with `start_after` (RFC 3339, already checked for form by the schema) starts:
 * the time it waits for, or undefined when it runs now (no value, or a time already past).
 */
export function delayedStart(startAfter: string | undefined, now: Date, field: string): Date | undefined {
  if (startAfter === undefined) return undefined;
  const at = new Date(startAfter);
  if (at.getTime() > now.getTime() + MAX_START_AFTER_DAYS * 86_400_000) {
    throw new FieldError(field, `must be at most ${MAX_START_AFTER_DAYS} days ahead (${new Date(now.getTime() + MAX_START_AFTER_DAYS * 86_400_000).toISOString()}), got ${startAfter}; use a schedule for later runs`);
  }
  return at > now ? at : undefined;
}
