import { ApplicationFailure } from '@temporalio/activity';
import type { Knex } from 'knex';
import { SCHEDULE_GONE, SCHEDULED_RUN_REFUSED, type ScheduledJob } from '../common/contracts';
import type { NewRun } from '../common/schemas';
import { jobGates, tierOf, tierPolicy } from '../common/tiers';
import { projectRules } from '../db/concurrency-rules';
import { findProject, findTestbed, getOrganization } from '../db/projects';
import type { JobRow } from '../db/rows';
import { getSchedule } from '../db/schedules';
import { jobRoute, resolveSpec, SpecResolutionError } from '../db/specs';
import { DuplicateSubmission, jobByIdempotencyKey, writeSubmission } from '../db/submissions';

const refused = (message: string) => ApplicationFailure.nonRetryable(message, SCHEDULED_RUN_REFUSED);

export function createScheduledRunActivities(db: Knex) {
  return {
    /**
     * A scheduled run's job, written as POST /v0/run writes one (db/submissions.ts), on behalf of the
     * schedule's creator: the checks that depend on the present (the organization's tier and its
     * timeout limit, the spec and a runner serving it) are made again now; the image's were made
     * when the schedule was created. The run's workflow id is the idempotency key, so a retry, or a
     * run that already submitted, returns the job it wrote.
     */
    async submitScheduledRun(scheduleId: string, runId: string, gateScope: string): Promise<ScheduledJob> {
      const schedule = await getSchedule(db, scheduleId);
      if (!schedule) throw ApplicationFailure.nonRetryable(`schedule ${scheduleId} was deleted`, SCHEDULE_GONE);
      const project = (await findProject(db, schedule.project_id))!;
      const organization = await getOrganization(db, project.organization_id);
      const body: NewRun = { ...schedule.template.run, project: project.id, idempotency_key: runId };
      const labels = { project: project.slug, branch: body.branch, testbed: body.testbed, image: body.job.image };
      const scheduled = async (job: JobRow, slug: string, taskQueue: string, admitted: boolean): Promise<ScheduledJob> => {
        // The gates the submission took (or will take) the job's permits at: only labelled jobs read the rules.
        const gates = jobGates(job, gateScope, Object.keys(job.labels).length ? await projectRules(db, project.id) : []);
        return {
          jobId: job.id,
          spec: { slug, taskQueue },
          priorityKey: job.priority,
          timeoutSeconds: job.timeout_seconds,
          concurrencyGate: gates.length ? { gates, admitted } : undefined,
          labels,
        };
      };

      const policy = tierPolicy(tierOf(organization));
      if (body.job.timeout !== undefined && policy.maxTimeoutSeconds !== undefined && body.job.timeout > policy.maxTimeoutSeconds) {
        throw refused(`template.run.job.timeout: the ${policy.tier} tier allows at most ${policy.maxTimeoutSeconds} seconds, got ${body.job.timeout}`);
      }
      let spec;
      try {
        spec = await resolveSpec(db, body.job.spec, await findTestbed(db, project.id, body.testbed));
      } catch (err) {
        if (err instanceof SpecResolutionError) throw refused(`template.run.job.spec: ${err.message}`);
        throw err;
      }
      const taskQueue = await jobRoute(db, spec, organization);
      if (!taskQueue) throw refused(`template.run.job.spec: no active runner serves spec "${spec.slug}"`);

      // A retry after the write committed: the same job (its workflow decides its permit itself).
      const existing = await jobByIdempotencyKey(db, project.id, runId);
      if (existing) return scheduled(existing, spec.slug, taskQueue, false);
      let admitted = false;
      try {
        const { job } = await writeSubmission(
          db,
          { project, body, spec, policy, sourceIp: schedule.source_ip, submittedBy: schedule.created_by, gateScope },
          // The run's workflow starts the job's as its child once this returns: nothing to start here.
          async (_job, admission) => void (admitted = admission?.admitted ?? false),
        );
        return scheduled(job, spec.slug, taskQueue, admitted);
      } catch (err) {
        if (!(err instanceof DuplicateSubmission)) throw err;
        return scheduled((await jobByIdempotencyKey(db, project.id, runId))!, spec.slug, taskQueue, false);
      }
    },
  };
}
