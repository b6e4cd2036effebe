import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { ImageRefError, parseImageRef } from '../../common/image-ref';
import { errorBody, newRun, runAccepted, type NewRun, type RunAccepted } from '../../common/schemas';
import { JOB_WORKFLOW, jobWorkflowId, type JobWorkflowInput } from '../../common/contracts';
import { concurrencyGate, effectiveTimeoutSeconds, tierOf, tierPolicy, type TierPolicy } from '../../common/tiers';
import { transitionJob } from '../../db/jobs';
import { getOrCreateTestbed, getOrganization, unclaimedProject } from '../../db/projects';
import { createReport, reportRequestFrom } from '../../db/reports';
import type { JobRow } from '../../db/rows';
import { resolveSpec, SpecResolutionError } from '../../db/specs';
import { workflowUiUrl } from '../config';
import { rateLimit } from '../rate-limit';
import { badRequest, HttpError, unauthorized } from '../errors';
import { writableProject } from '../resources';

const UNIQUE_VIOLATION = '23505';

/** POST /v0/run: one submission becomes a report, a pending job and a running jobWorkflow. */
const runRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/v0/run',
    {
      // Anonymous submissions are allowed: they run under an unclaimed organization, in the unclaimed tier.
      preHandler: [rateLimit(app.db, app.config.rateLimits), app.optionalUser],
      schema: {
        summary: 'Submit a benchmark job',
        tags: ['run'],
        body: newRun,
        response: { 202: runAccepted, 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 429: errorBody, 503: errorBody },
      },
    },
    async (request, reply) => {
      const body = request.body;
      let image;
      try {
        image = parseImageRef(body.job.image);
      } catch (err) {
        if (err instanceof ImageRefError) throw badRequest('body.job.image', err.message);
        throw err;
      }
      const allowed = app.config.allowedRegistries;
      if (allowed && !allowed.includes(image.registry)) {
        throw badRequest('body.job.image', `registry ${image.registry} is not one this server pulls from (${allowed.join(', ')})`);
      }
      // Anonymous submissions are always in the unclaimed tier: check them fully before an
      // unclaimed organization is created for them.
      if (!request.user) checkTimeout(tierPolicy('unclaimed'), body.job.timeout);
      const found = request.user ? { project: await writableProject(app.db, request, body.project, 'member') } : await unclaimedProject(app.db, body.project);
      if (!found) throw unauthorized(`project "${body.project}" belongs to a claimed organization: an API token is required`);
      const { project, claim } = found;
      const policy = tierPolicy(tierOf(await getOrganization(app.db, project.organization_id)));
      checkTimeout(policy, body.job.timeout);

      const byKey = () =>
        body.idempotency_key ? app.db<JobRow>('job').where({ project_id: project.id, idempotency_key: body.idempotency_key }).first() : undefined;
      let existing = await byKey();
      let job = existing;
      if (!job) {
        try {
          job = await createSubmission(body, project.id, project.organization_id, policy, request.ip);
          app.metrics.jobsSubmitted.inc({ tier: policy.tier });
        } catch (err) {
          // Two submissions with one idempotency key raced: the unique index let one in; return that one.
          existing = (err as { code?: string }).code === UNIQUE_VIOLATION ? await byKey() : undefined;
          if (!existing) throw err;
          job = existing;
        }
      }

      const workflowId = jobWorkflowId(job.id);
      const input: JobWorkflowInput = {
        jobId: job.id,
        priorityKey: job.priority,
        timeoutSeconds: job.timeout_seconds,
        heartbeatTimeoutSeconds: app.config.heartbeatTimeoutSeconds,
        queueLimitSeconds: app.config.queueLimitSeconds,
        concurrencyGate: concurrencyGate(tierPolicy(job.tier), { organizationId: job.organization_id, sourceIp: job.source_ip }),
      };
      try {
        await app.temporal.workflow.start<(input: JobWorkflowInput) => Promise<unknown>>(JOB_WORKFLOW, {
          workflowId,
          taskQueue: app.config.controlTaskQueue,
          args: [input],
          // A repeated submission (same idempotency key) joins the running workflow, and never
          // starts a second run for a job whose workflow already ended.
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) return reply.status(202).send(accepted(job, claim));
        request.log.error({ err, job: job.id }, 'could not start the job workflow');
        if (!existing) await transitionJob(app.db, job.id, 'failed', { error: 'could not start the job workflow', finished_at: new Date() });
        throw new HttpError(503, 'unavailable', 'the job could not be scheduled: Temporal is unreachable; retry later');
      }
      return reply.status(202).send(accepted(job, claim));
    },
  );

  function accepted(job: JobRow, claim?: RunAccepted['claim']): RunAccepted {
    const workflowId = jobWorkflowId(job.id);
    return { report: job.report_id, job: job.id, status: job.status, workflow_id: workflowId, temporal_ui_url: workflowUiUrl(app.config, workflowId), claim };
  }

  function checkTimeout(policy: TierPolicy, timeout: number | undefined) {
    if (timeout !== undefined && policy.maxTimeoutSeconds !== undefined && timeout > policy.maxTimeoutSeconds) {
      throw badRequest('body.job.timeout', `the ${policy.tier} tier allows at most ${policy.maxTimeoutSeconds} seconds, got ${timeout}`);
    }
  }


  /** Report and job in one transaction: either both exist or neither. */
  async function createSubmission(body: NewRun, projectId: string, organizationId: string, policy: ReturnType<typeof tierPolicy>, sourceIp: string): Promise<JobRow> {
    return app.db.transaction(async (trx) => {
      const testbed = await getOrCreateTestbed(trx, projectId, body.testbed);
      let spec;
      try {
        spec = await resolveSpec(trx, body.job.spec, testbed);
      } catch (err) {
        if (err instanceof SpecResolutionError) throw badRequest('body.job.spec', err.message);
        throw err;
      }
      const { report } = await createReport(trx, reportRequestFrom(projectId, body));
      const { spec: _spec, timeout, ...config } = body.job;
      // Files measured for their size are collected like any output file (but not parsed).
      if (body.file_size?.length) config.file_paths = [...new Set([...(config.file_paths ?? []), ...body.file_size])];
      const [job] = await trx<JobRow>('job')
        .insert({
          report_id: report.id,
          project_id: projectId,
          organization_id: organizationId,
          requested_spec_id: body.job.spec === undefined ? null : spec.id,
          status: 'pending',
          tier: policy.tier,
          priority: policy.priorityKey,
          timeout_seconds: effectiveTimeoutSeconds(policy, timeout),
          config,
          source_ip: sourceIp,
          idempotency_key: body.idempotency_key ?? null,
        })
        .returning('*');
      return job;
    });
  }
};

export default runRoutes;
