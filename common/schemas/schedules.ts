import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { timestamp } from './fields';
import { jobStatus, newRun } from './index';
import { pipelineStatus, pipelineTemplate } from './pipelines';

/**
 * Temporal's ScheduleOverlapPolicy values: what a schedule does when a run is due while the
 * previous one is still going (a scheduled run lasts until its job has ended).
 */
export const SCHEDULE_OVERLAP_POLICIES = ['SKIP', 'BUFFER_ONE', 'BUFFER_ALL', 'CANCEL_OTHER', 'TERMINATE_OTHER', 'ALLOW_ALL'] as const;

const CRON_ALIASES = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/**
 * A cron expression Temporal and cron-parser read alike: five fields (minute hour day-of-month
 * month day-of-week) or an @alias. cron-parser would also take four or six fields (filling in or
 * adding seconds), which Temporal reads differently, so the count is checked first.
 */
export function cronProblem(expression: string): string | undefined {
  const trimmed = expression.trim();
  if (CRON_ALIASES.includes(trimmed)) return undefined;
  const fields = trimmed.split(/\s+/).length;
  if (fields !== 5) return `expected five fields (minute hour day-of-month month day-of-week) or one of ${CRON_ALIASES.join(', ')}, got ${fields} field${fields === 1 ? '' : 's'}`;
  try {
    CronExpressionParser.parse(trimmed);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * What a schedule submits: `run` is the body of POST /v0/run without the project (the schedule's),
 * the idempotency key (each scheduled time gets its own) and `start_after` (the schedule says when);
 * `pipeline`, the body of POST /v0/pipelines without the same three.
 */
export const runTemplate = newRun.omit({ project: true, idempotency_key: true, start_after: true });
export type RunTemplate = z.infer<typeof runTemplate>;
export const scheduleTemplate = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('run'), run: runTemplate }),
  z.strictObject({ kind: z.literal('pipeline'), pipeline: pipelineTemplate }),
]);
export type ScheduleTemplate = z.infer<typeof scheduleTemplate>;

export const newSchedule = z.strictObject({
  cron: z
    .string()
    .min(1)
    .max(255)
    .superRefine((value, ctx) => {
      const problem = cronProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: `not a valid cron expression: ${problem}` });
    })
    .describe('cron expression, five fields (minute hour day-of-month month day-of-week) or an @alias such as @daily'),
  timezone: z
    .string()
    .min(1)
    .max(64)
    .refine(isTimeZone, { message: 'not an IANA time zone (e.g. Europe/Paris, America/New_York, UTC)' })
    .default('UTC')
    .describe('IANA time zone the cron expression is read in'),
  overlap: z
    .enum(SCHEDULE_OVERLAP_POLICIES)
    .default('SKIP')
    .describe(
      "Temporal's overlap policy, for a run due while the previous one has not ended: SKIP it, BUFFER_ONE (run it once the previous ends), BUFFER_ALL, CANCEL_OTHER (cancel the previous, then run), TERMINATE_OTHER, ALLOW_ALL (run both)",
    ),
  paused: z.boolean().default(false).describe('create it paused'),
  note: z.string().max(1024).optional().describe('shown with the schedule (and as its pause note)'),
  template: scheduleTemplate,
});
export type NewSchedule = z.infer<typeof newSchedule>;

export const scheduleRun = z.object({
  scheduled_at: timestamp,
  started_at: timestamp,
  workflow_id: z.string(),
  job: z.uuid().nullable().describe("the job the run submitted (null until it has, and for a pipeline template's runs)"),
  job_status: jobStatus.nullable(),
  pipeline: z.uuid().nullable().describe("the pipeline the run submitted (null until it has, and for a run template's runs)"),
  pipeline_status: pipelineStatus.nullable(),
});

export const scheduleView = z.object({
  uuid: z.uuid(),
  project: z.string(),
  cron: z.string(),
  timezone: z.string(),
  overlap: z.enum(SCHEDULE_OVERLAP_POLICIES),
  paused: z.boolean(),
  note: z.string().nullable(),
  template: z.unknown().describe('what each run submits (registry passwords masked)'),
  created_by: z.string().nullable().describe("the creator's user slug: the runs are submitted on their behalf"),
  created: timestamp,
  next_runs: z.array(timestamp).describe("the next times it runs, from Temporal's schedule"),
  last_runs: z.array(scheduleRun).describe('its most recent runs, newest first'),
});
export type ScheduleView = z.infer<typeof scheduleView>;

export const scheduleNote = z.strictObject({ note: z.string().max(1024).optional() }).optional();
