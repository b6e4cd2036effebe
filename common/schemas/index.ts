import { z } from 'zod';
import { DEFAULT_RETRY_POLICY, JOB_STATUSES, RETRY_ON } from '../contracts';
import { ADAPTER_NAMES } from '../../results/adapters';
import { MAX_START_AFTER_DAYS } from '../start-after';
import { buildInfoBody } from './build';
import { labels, resourceRef, slug } from './fields';
import { paginationQuery } from './pagination';
import { alertView, jobResultsOptionsShape, judgedMetricShape, resultsOptionsShape } from './results';

export { resourceRef };

/**
 * Every API body, defined once: the api validates with these, the OpenAPI document is generated
 * from them, and the CLI and runner type their requests with them.
 */

export const errorBody = z.object({
  error: z.string().describe('machine-readable error code'),
  message: z.string(),
  details: z.unknown().optional(),
});

export const registryCredentials = z.strictObject({ username: z.string().min(1).max(256), password: z.string().min(1).max(4096) });
export type RegistryCredentials = z.infer<typeof registryCredentials>;

/** The most tries a retry policy may ask for, and the longest wait between two. */
export const MAX_RETRY_ATTEMPTS = 10;
export const MAX_RETRY_BACKOFF_SECONDS = 3600;

export const retryPolicy = z
  .strictObject({
    max_attempts: z.number().int().min(1).max(MAX_RETRY_ATTEMPTS).default(DEFAULT_RETRY_POLICY.maxAttempts).describe('tries in all, the first included'),
    backoff_seconds: z.number().int().min(0).max(MAX_RETRY_BACKOFF_SECONDS).default(DEFAULT_RETRY_POLICY.backoffSeconds).describe('the n-th retry starts n × this many seconds after the failure'),
    on: z
      .array(z.enum(RETRY_ON))
      // An empty list is one error, not also the refinement's.
      .min(1, { abort: true })
      .max(RETRY_ON.length)
      .refine((on) => on.includes('infrastructure'), "must include 'infrastructure': a job whose benchmark may be retried is retried when it never started too")
      .default([...DEFAULT_RETRY_POLICY.on])
      .describe("'infrastructure': failures before the benchmark started (a runner lost, an image pull or boot failure); 'benchmark_failure' too: a benchmark that ran and failed is run again, on a new claim"),
  })
  .describe(
    `when runJob is tried again; default ${DEFAULT_RETRY_POLICY.maxAttempts} attempts, ${DEFAULT_RETRY_POLICY.backoffSeconds} s backoff, infrastructure failures only`,
  );
export type RetryPolicyBody = z.infer<typeof retryPolicy>;

export const newRunJob = z.strictObject({
  image: z.string().min(1).max(512).describe('OCI image reference, e.g. registry.example.com/team/bench:v1'),
  entrypoint: z.array(z.string()).max(64).optional(),
  cmd: z.array(z.string()).max(1024).optional(),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are [A-Za-z_][A-Za-z0-9_]*'), z.string()).optional(),
  timeout: z.number().int().min(1).max(86400).optional().describe('job timeout in seconds'),
  spec: resourceRef.optional(),
  file_paths: z.array(z.string().min(1).max(4096)).max(255).optional(),
  image_credentials: registryCredentials.optional().describe('for a private registry; never shown back, only the claiming runner receives it'),
  retry: retryPolicy.optional(),
});

export const newRun = z.strictObject({
  project: resourceRef,
  branch: slug,
  testbed: slug,
  adapter: z.enum(ADAPTER_NAMES).default('magic'),
  ...resultsOptionsShape,
  ...jobResultsOptionsShape,
  idempotency_key: z.string().min(1).max(128).optional(),
  start_after: z.iso
    .datetime({ offset: true })
    .optional()
    .describe(`RFC 3339 time before which the job does not start: it is \`scheduled\` until then (a time already past runs it now; at most ${MAX_START_AFTER_DAYS} days ahead)`),
  labels: labels.optional().describe('what concurrency rules match: `{suite: "db"}`'),
  job: newRunJob,
});
export type NewRun = z.infer<typeof newRun>;

export const jobStatus = z.enum(JOB_STATUSES);

/** Only to the anonymous submission that created an unclaimed organization: what claims it. */
export const unclaimedClaim = z.object({ organization: z.string(), claim_token: z.string() });

export const runAccepted = z.object({
  report: z.uuid(),
  job: z.uuid(),
  status: jobStatus,
  workflow_id: z.string(),
  temporal_ui_url: z.string(),
  claim: unclaimedClaim.optional(),
});
export type RunAccepted = z.infer<typeof runAccepted>;

export const outputEntry = z.object({ kind: z.enum(['stdout', 'stderr', 'file']), path: z.string(), size_bytes: z.number() });

export const attemptView = z.object({
  attempt: z.number(),
  status: z.enum(['failed', 'current']).describe("'failed': an attempt that was tried again; 'current': the job's last attempt, whose outcome is the job's status"),
  kind: z.enum(RETRY_ON).nullable().describe('what failed: before the benchmark started, or the benchmark itself'),
  error: z.string().nullable(),
  exit_code: z.number().nullable(),
  runner: z.string().nullable(),
  dispatched: z.string().nullable().describe('when the attempt was handed to the runner queue'),
  claimed: z.string().nullable(),
  started: z.string().nullable(),
  ended: z.string().nullable(),
  retry_at: z.string().nullable().describe('when the next attempt was due (ended + backoff)'),
});
export type AttemptView = z.infer<typeof attemptView>;

export const jobView = z.object({
  uuid: z.uuid(),
  project: z.string(),
  report: z.uuid(),
  status: jobStatus,
  tier: z.enum(['paid', 'free', 'unclaimed']),
  priority: z.number(),
  timeout_seconds: z.number(),
  image_digest: z.string().nullable(),
  runner: z.string().nullable(),
  attempt: z.number(),
  attempts: z.array(attemptView).describe('every runJob attempt, oldest first'),
  /** How many jobs run before this one while it waits; null once it no longer waits. */
  queue_position: z.number().nullable(),
  waiting: z
    .string()
    .nullable()
    .describe(
      'why a pending job does not start, besides its place in the queue (reasons joined by `; `): its spec paused by an operator (`spec paused: for maintenance`), its pipeline paused, or a permit it waits for (`concurrency rule {"suite":"db"}: at most 2 at once`, `tier permit: the free tier runs at most 1 at once`)',
    ),
  exit_code: z.number().nullable(),
  error: z.string().nullable(),
  outputs: z.array(outputEntry),
  created: z.string(),
  start_after: z.string().nullable().describe('when a delayed job was asked to start (it is `scheduled` until then)'),
  starts_in_seconds: z.number().nullable().describe('for a `scheduled` job, the seconds left until its start time'),
  claimed: z.string().nullable(),
  started: z.string().nullable(),
  completed: z.string().nullable(),
  finished: z.string().nullable(),
  workflow_id: z.string(),
  temporal_ui_url: z.string(),
  // Private fields: only members of the project's organization see them.
  spec: z.string().nullable().optional(),
  config: z.unknown().optional(),
  execution: z.unknown().optional(),
});
export type JobView = z.infer<typeof jobView>;

/** A job in a list: what a page of jobs needs, without per-job lookups (outputs, queue position). */
export const jobSummary = jobView.pick({
  uuid: true, project: true, report: true, status: true, tier: true, priority: true, runner: true, attempt: true,
  exit_code: true, error: true, created: true, start_after: true, started: true, finished: true, workflow_id: true, temporal_ui_url: true,
});
export type JobSummary = z.infer<typeof jobSummary>;

export const jobListQuery = paginationQuery.extend({
  status: z.union([jobStatus, z.array(jobStatus)]).optional().describe('only jobs in this status (repeatable)'),
  since: z.iso.datetime({ offset: true }).optional().describe('only jobs created at or after this time'),
  until: z.iso.datetime({ offset: true }).optional().describe('only jobs created before this time'),
});

/** A job in a project's list: its summary and, while it waits, its queue position (one query per page). */
export const jobListItem = jobSummary.extend({ queue_position: jobView.shape.queue_position });
export type JobListItem = z.infer<typeof jobListItem>;

/** Jobs one change answer holds at most; beyond it the caller reloads its list. */
export const MAX_JOB_CHANGES = 500;
/** Queue positions one change answer may be asked for (a page of jobs, generously). */
export const MAX_QUEUED_WATCH = 100;
/**
 * A cursor is a Postgres snapshot in its text form (`xmin:xmax:xip,…`, migration 016). What Postgres
 * would refuse to read as one is refused here first (a 400 naming the field, never a failed query).
 */
const SNAPSHOT = /^[0-9]{1,19}:[0-9]{1,19}:([0-9]{1,19}(,[0-9]{1,19})*)?$/;
function isSnapshot(text: string): boolean {
  // Zod runs every check even after one failed: this one must not throw on what the pattern refused.
  if (!SNAPSHOT.test(text)) return false;
  const [xmin, xmax, ...xip] = text.split(/[:,]/).filter((part, i) => i < 2 || part !== '').map(BigInt);
  return xmin >= 1n && xmax >= xmin && xip.every((x, i) => x >= xmin && x < xmax && (i === 0 || x >= xip[i - 1]));
}
/** A cursor's length at most: a URL stays well inside the server's header limit, whatever the characters sent. */
export const MAX_JOB_CURSOR = 1024;
const jobCursor = z
  .string()
  .max(MAX_JOB_CURSOR)
  .regex(SNAPSHOT, 'not a cursor from an earlier answer')
  .refine(isSnapshot, 'not a cursor from an earlier answer');

export const jobChangesQuery = z.object({
  since: jobCursor.optional().describe('the `cursor` of an earlier answer: only jobs changed since then are returned; absent, only a cursor to start from'),
  queued: z
    .union([z.uuid(), z.array(z.uuid()).max(MAX_QUEUED_WATCH)])
    .optional()
    .describe(`jobs whose current queue position to return (those the caller shows as waiting; repeatable, at most ${MAX_QUEUED_WATCH})`),
});

export const jobChanges = z.object({
  cursor: z.string().describe('pass it as `since` next time (opaque)'),
  complete: z.boolean().describe(`false when more than ${MAX_JOB_CHANGES} jobs changed: \`jobs\` holds only some, reload the list (and keep the new cursor)`),
  jobs: z.array(jobListItem).describe('jobs created or changed since `since`, each as the list shows it'),
  queue_positions: z
    .array(z.object({ job: z.uuid(), position: z.number().int() }))
    .describe("the waiting jobs among `queued` and `jobs`, with their positions now: a position moves when jobs ahead leave the queue, with no change to the job's own row. A job asked for but absent is no longer waiting"),
});
export type JobChanges = z.infer<typeof jobChanges>;

export const metricView = z.object({
  benchmark: z.string(),
  measure: z.string(),
  measure_name: z.string(),
  units: z.string(),
  value: z.number(),
  lower_value: z.number().nullable(),
  upper_value: z.number().nullable(),
  ...judgedMetricShape,
});
export type MetricView = z.infer<typeof metricView>;

export const reportView = z.object({
  uuid: z.uuid(),
  project: z.string(),
  branch: z.string(),
  testbed: z.string(),
  adapter: z.string(),
  start_time: z.string(),
  end_time: z.string().nullable(),
  job: z.uuid().nullable(),
  job_status: jobStatus.nullable().describe("the job's status; null for a local run. Results exist only once it is `processed`"),
  job_error: z.string().nullable().describe('why the job failed or was canceled, when it did not process'),
  spec: z.string().nullable().optional().describe('the spec the job ran on; null for a local run (members only)'),
  image_digest: z.string().nullable(),
  // Private: only members see the run options (a local run's command line among them).
  settings: z.record(z.string(), z.unknown()).optional().describe('the run options the report was made with (members only)'),
  results: z.array(metricView),
  alerts: z.array(alertView),
});
export type ReportView = z.infer<typeof reportView>;

/** A local run's report as its submission answers it: for an anonymous one that created its project, with the claim. */
export const reportCreated = reportView.extend({ claim: unclaimedClaim.optional() });
export type ReportCreated = z.infer<typeof reportCreated>;

// --- Runner-facing -------------------------------------------------------------------------------

export const runnerRegistration = z.strictObject({
  version: z.string().max(64),
  executor: z.string().max(32),
  host: z.record(z.string(), z.unknown()).default({}),
  instance: z.uuid().describe("this daemon process: one instance at a time holds the runner's lease"),
  hostname: z.string().min(1).max(253).describe('the host the daemon runs on, named to a second daemon that is refused'),
  pid: z.number().int().min(1).max(2147483647),
  build: buildInfoBody,
  stopping: z.boolean().default(false).describe('the daemon is draining: its lease lasts the longer stopping timeout'),
});

export const runnerRelease = z.strictObject({ instance: z.uuid() });

export const runnerRegistered = z.object({
  uuid: z.uuid(),
  slug: z.string(),
  specs: z.array(z.object({ uuid: z.uuid(), slug: z.string(), task_queue: z.string() })),
});
export type RunnerRegistered = z.infer<typeof runnerRegistered>;

/**
 * The claim ticket of the runJob attempt Temporal handed the runner: presented on claim, mark-running
 * and output uploads. Checked after the runner token, so a missing one is a 403, not a 400.
 */
export const CLAIM_TICKET_HEADER = 'x-benchline-claim-ticket';
export const claimTicketHeaders = z.object({ [CLAIM_TICKET_HEADER]: z.string().max(200).optional() });

/** What the claiming runner receives, and nobody else: the job's full configuration. */
export const claimedJob = z.object({
  uuid: z.uuid(),
  attempt: z.number(),
  image: z.object({ registry: z.string(), repository: z.string(), digest: z.string() }),
  entrypoint: z.array(z.string()).optional(),
  cmd: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string()),
  file_paths: z.array(z.string()),
  timeout_seconds: z.number(),
  spec: z.object({ slug: z.string(), cpus: z.number(), memory_mib: z.number() }),
  image_credentials: registryCredentials.optional(),
});
export type ClaimedJob = z.infer<typeof claimedJob>;

export const jobStarted = z.strictObject({
  executor: z.string(),
  execution: z.record(z.string(), z.unknown()).default({}),
});

export const outputUploadQuery = z.strictObject({
  kind: z.enum(['stdout', 'stderr', 'file']),
  path: z.string().max(4096).default(''),
});
export * from './results';
