import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { errorBody, newRun, runAccepted, type RunAccepted } from '../../common/schemas';
import { hashToken } from '../../common/tokens';
import { JOB_WORKFLOW, jobWorkflowId, runnerTaskQueue, type AdmittedTo, type JobLabels } from '../../common/contracts';
import { jobGates, tierOf, tierPolicy } from '../../common/tiers';
import { projectRules } from '../../db/concurrency-rules';
import { getOrganization } from '../../db/projects';
import { delayedStart } from '../../common/start-after';
import { sealRunCredentials } from '../../common/secret-box';
import type { JobRow, OrganizationRow, SpecRow } from '../../db/rows';
import { findSpec, jobRoute } from '../../db/specs';
import { DuplicateSubmission, jobByIdempotencyKey, ProjectClaimed, writeSubmission } from '../../db/submissions';
import { OutboundGuard } from '../../net/outbound';
import { workflowUiUrl } from '../config';
import { digestWithin } from '../image-pin';
import { rateLimit } from '../rate-limit';
import { checkJobImage, checkTimeout, jobLabels, jobWorkflowStart, placeJob, startBeforeCommit } from '../job-submission';
import { anonymousProject, tokenRequired } from '../project-access';
import { writableProject } from '../resources';

/**
 * POST /v0/run: one submission becomes a report, a pending job and a running jobWorkflow, or
 * nothing at all. Every check (image, registry, project, tier, timeout, spec and its runners) is
 * made before the single transaction that writes it, and the workflow is started inside that
 * transaction, before COMMIT. When the registry names the image's digest within the budget, the job
 * is written pinned to it with attempt 1's claim ticket, and the workflow's first task dispatches it.
 */
const runRoutes: FastifyPluginAsyncZod = async (app) => {
  const registries = new OutboundGuard(app.config.outbound);

  app.post(
    '/v0/run',
    {
      // Anonymous submissions are allowed: they run under an unclaimed organization, in the unclaimed tier.
      preHandler: [app.optionalUser, rateLimit(app.db, app.config.rateLimits)],
      schema: {
        summary: 'Submit a benchmark job',
        tags: ['run'],
        body: newRun,
        response: { 202: runAccepted, 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 429: errorBody, 503: errorBody },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const image = checkJobImage(app, request, body.job.image, 'body');
      // Asked now, answered while the database checks below run; it never rejects.
      const digest = digestWithin(registries, image, body.job.image_credentials, app.config.imageResolveBudgetMs);
      const project = request.user ? await writableProject(app.db, request, body.project, 'member') : await anonymousProject(app.db, body.project, 'body.project');
      const organization = project === 'new' ? undefined : await getOrganization(app.db, project.organization_id);
      const policy = tierPolicy(organization ? tierOf(organization) : 'unclaimed');
      checkTimeout(policy, body.job.timeout, 'body');
      const startAfter = delayedStart(body.start_after, new Date(), 'body.start_after');
      const labels = jobLabels(project === 'new' ? body.project : project.slug, body);

      if (project !== 'new') {
        const existing = await jobByIdempotencyKey(app.db, project.id, body.idempotency_key);
        if (existing) return reply.status(202).send(await resume(existing, organization!, labels));
      }
      const { spec, taskQueue } = await placeJob(app.db, project, organization, body, 'body', app.config.runnerActiveSeconds);

      const imageDigest = await digest;
      // Single-use, for attempt 1's runJob only; stored hashed, handed over in the workflow's input.
      const firstTicket = imageDigest ? randomUUID() : undefined;
      const pinned = imageDigest ? { imageDigest, claimTicketHash: hashToken(firstTicket!) } : undefined;
      try {
        const { job, claim } = await writeSubmission(
          app.db,
          // Sealed before the transaction: nothing can fail half-way through the write for it.
          { project, body: sealRunCredentials(body, app.config.secretsKey), spec, policy, sourceIp: request.ip, submittedBy: request.user?.id ?? null, gateScope: app.config.controlTaskQueue, pinned, startAfter },
          (job, admission) => startWorkflow(job, spec, taskQueue, labels, admission, firstTicket),
        );
        app.metrics.jobsSubmitted.inc({ tier: policy.tier });
        return reply.status(202).send(accepted(job, claim));
      } catch (err) {
        if (err instanceof ProjectClaimed) throw tokenRequired(body.project);
        if (!(err instanceof DuplicateSubmission)) throw err;
        // The same idempotency key won a race with this request (for a new name, in the project the
        // winner created): answer with that job.
        const winner = (await jobByIdempotencyKey(app.db, err.projectId, body.idempotency_key))!;
        return reply.status(202).send(await resume(winner, organization ?? (await getOrganization(app.db, winner.organization_id)), labels));
      }
    },
  );

  /**
   * A repeated submission: the job was committed with its workflow started, so this normally joins
   * it (USE_EXISTING) or finds it ended (REJECT_DUPLICATE). A job whose workflow is missing (written
   * before submissions started it in their transaction) gets one now.
   */
  async function resume(job: JobRow, organization: OrganizationRow, labels: JobLabels): Promise<RunAccepted> {
    // Jobs written before submissions pinned the spec are the reconciler's to settle.
    const spec = job.spec_id ? await findSpec(app.db, job.spec_id) : undefined;
    if (!spec) return accepted(job);
    // The job was accepted once: if its runners are gone meanwhile, it waits on the shared queue
    // and fails at the queue limit, saying so.
    const taskQueue = (await jobRoute(app.db, spec, organization, app.config.runnerActiveSeconds)) ?? runnerTaskQueue(spec.slug);
    // Not admitted here: a new workflow takes its permits, or its places in the queues, itself.
    const gates = jobGates(job, app.config.controlTaskQueue, await projectRules(app.db, job.project_id));
    await startWorkflow(job, spec, taskQueue, labels, gates.length ? { gates, admitted: false } : undefined);
    return accepted(job);
  }

  /**
   * Starts the job's workflow, or answers 503 when Temporal does not take it in time. `labels` give
   * the workflow its search attributes and the one line the Temporal UI shows for it; `admission`,
   * the tier's gate and whether the job holds a permit; `firstTicket`, attempt 1's claim ticket of a
   * job written pinned.
   */
  async function startWorkflow(job: JobRow, spec: Pick<SpecRow, 'slug'>, taskQueue: string, labels: JobLabels, admission: AdmittedTo | undefined, firstTicket?: string): Promise<void> {
    const { workflowId, input, searchAttributes, summary } = jobWorkflowStart(app.config, job, spec, taskQueue, labels, admission, firstTicket);
    await startBeforeCommit(app, JOB_WORKFLOW, { workflowId, args: [input], typedSearchAttributes: searchAttributes, staticSummary: summary }, 'job');
  }

  function accepted(job: JobRow, claim?: RunAccepted['claim']): RunAccepted {
    const workflowId = jobWorkflowId(job.id);
    return { report: job.report_id, job: job.id, status: job.status, workflow_id: workflowId, temporal_ui_url: workflowUiUrl(app.config, workflowId), claim };
  }
};

export default runRoutes;
