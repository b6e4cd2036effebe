import { WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type SearchAttributePair } from '@temporalio/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import { FieldError } from '../common/field-error';
import { ImageRefError, parseImageRef, type ImageRef } from '../common/image-ref';
import { jobStartAttributes, jobSummary, jobWorkflowId, type AdmittedTo, type JobLabels, type JobTimings, type JobWorkflowInput } from '../common/contracts';
import type { NewRun } from '../common/schemas';
import type { TierPolicy } from '../common/tiers';
import { findTestbed } from '../db/projects';
import type { JobRow, OrganizationRow, ProjectRow, SpecRow } from '../db/rows';
import { jobRoute, resolveSpec, SpecResolutionError } from '../db/specs';
import { badRequest, HttpError } from './errors';

/**
 * The checks and the workflow start of one benchmark job, shared by a single run (POST /v0/run) and
 * each job of a pipeline, so a job is accepted, written and started the same way whichever submits
 * it. `field` prefixes the names in 400s: `body` for a run, `body.jobs[3]` for a pipeline's job.
 * The checks a scheduled run makes again when it submits (the timeout, the placement) throw a
 * FieldError, which the api answers as a 400 and the scheduled run's activity as a refusal.
 */

/** The image reference, checked: well formed, and naming a registry this server, and this caller, may use. */
export function checkJobImage(app: FastifyInstance, request: FastifyRequest, image: string, field: string): ImageRef {
  let ref;
  try {
    ref = parseImageRef(image);
  } catch (err) {
    if (err instanceof ImageRefError) throw badRequest(`${field}.job.image`, err.message);
    throw err;
  }
  const allowed = app.config.allowedRegistries;
  if (allowed && !allowed.includes(ref.registry)) {
    throw badRequest(`${field}.job.image`, `registry ${ref.registry} is not one this server pulls from (${allowed.join(', ')})`);
  }
  // Anyone may submit anonymously, so anonymous jobs may not make the server contact hosts of their choosing.
  const anonymous = app.config.anonymousRegistries;
  if (!request.user && !anonymous.includes(ref.registry)) {
    throw badRequest(
      `${field}.job.image`,
      anonymous.length
        ? `anonymous submissions may only use images from ${anonymous.join(', ')}; submit with an API token to use registry ${ref.registry}`
        : `anonymous submissions may not name a registry on this server; submit with an API token to use registry ${ref.registry}`,
    );
  }
  return ref;
}

export function checkTimeout(policy: TierPolicy, timeout: number | undefined, field: string): void {
  if (timeout !== undefined && policy.maxTimeoutSeconds !== undefined && timeout > policy.maxTimeoutSeconds) {
    throw new FieldError(`${field}.job.timeout`, `the ${policy.tier} tier allows at most ${policy.maxTimeoutSeconds} seconds, got ${timeout}`);
  }
}

/**
 * Where the job runs: its spec (explicit → the testbed's → the default) and a runner task queue
 * that serves it; a runner counts when its daemon was seen within `activeRunnerSeconds`.
 */
export async function placeJob(
  db: Knex,
  project: ProjectRow | 'new',
  organization: OrganizationRow | undefined,
  body: Pick<NewRun, 'testbed' | 'job'>,
  field: string,
  activeRunnerSeconds: number,
): Promise<{ spec: SpecRow; taskQueue: string }> {
  const testbed = project === 'new' ? undefined : await findTestbed(db, project.id, body.testbed);
  let spec: SpecRow;
  try {
    spec = await resolveSpec(db, body.job.spec, testbed);
  } catch (err) {
    if (err instanceof SpecResolutionError) throw new FieldError(`${field}.job.spec`, err.message);
    throw err;
  }
  const taskQueue = await jobRoute(db, spec, organization, activeRunnerSeconds);
  if (!taskQueue) {
    throw new FieldError(
      `${field}.job.spec`,
      `no active runner serves spec "${spec.slug}": none that is unlocked, open to this organization and seen in the last ${activeRunnerSeconds} s`,
    );
  }
  return { spec, taskQueue };
}

export function jobLabels(project: string, body: Pick<NewRun, 'branch' | 'testbed' | 'job'>): JobLabels {
  return { project, branch: body.branch, testbed: body.testbed, image: body.job.image };
}

/**
 * What starts a job's workflow: its input, and the search attributes and one-line summary the
 * Temporal UI shows for it (`labels` name the project, branch, testbed and image); `admission`, the
 * tier's gate and whether the job holds a permit; `firstClaimTicket`, for a job written pinned, lets
 * the workflow dispatch without looking at the job first.
 */
export function jobWorkflowStart(
  config: JobTimings,
  job: JobRow,
  spec: Pick<SpecRow, 'slug'>,
  taskQueue: string,
  labels: JobLabels,
  admission: AdmittedTo | undefined,
  firstClaimTicket?: string,
): { workflowId: string; input: JobWorkflowInput; searchAttributes: SearchAttributePair[]; summary: string } {
  const retry = job.config.retry;
  const input: JobWorkflowInput = {
    jobId: job.id,
    spec: { slug: spec.slug, taskQueue },
    priorityKey: job.priority,
    timeoutSeconds: job.timeout_seconds,
    heartbeatTimeoutSeconds: config.heartbeatTimeoutSeconds,
    queueLimitSeconds: config.queueLimitSeconds,
    pauseCheckIntervalSeconds: config.permitCheckIntervalSeconds,
    concurrencyGate: admission && { ...admission, checkIntervalSeconds: config.permitCheckIntervalSeconds },
    firstClaimTicket,
    startAfter: job.status === 'scheduled' ? job.start_after?.toISOString() : undefined,
    retry: retry && { maxAttempts: retry.max_attempts, backoffSeconds: retry.backoff_seconds, on: retry.on },
  };
  return { workflowId: jobWorkflowId(job.id), input, searchAttributes: jobStartAttributes({ ...labels, spec: spec.slug }), summary: jobSummary(labels) };
}

/**
 * Starts a submission's workflow (a job's or a pipeline's) on the control queue, inside the
 * submission's transaction, or answers 503 when Temporal does not take it in time.
 */
export async function startBeforeCommit(
  app: FastifyInstance,
  workflowType: string,
  options: { workflowId: string; args: unknown[]; typedSearchAttributes: SearchAttributePair[]; staticSummary: string },
  what: 'job' | 'pipeline',
): Promise<void> {
  try {
    // Bounded well below the workflow's wait for the commit, so a start that succeeds late is
    // still followed by the commit its workflow waits for.
    await app.temporal.withDeadline(Date.now() + app.config.workflowStartTimeoutSeconds * 1000, () =>
      app.temporal.workflow.start(workflowType, {
        ...options,
        taskQueue: app.config.controlTaskQueue,
        // A repeated submission (same idempotency key) joins the running workflow, and never
        // starts a second run for one whose workflow already ended.
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        // Honored only when this client shares its connection with a worker of the control queue.
        requestEagerStart: app.config.controlWorker,
      }),
    );
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return;
    app.log.error({ err, workflowId: options.workflowId }, `could not start the ${what} workflow`);
    throw new HttpError(503, 'unavailable', `the ${what} could not be scheduled: Temporal is unreachable; retry later`);
  }
}
