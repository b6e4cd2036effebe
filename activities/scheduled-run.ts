import { ApplicationFailure } from '@temporalio/activity';
import type { Knex } from 'knex';
import { checkPipeline, pipelineSubmission, pipelineWorkflowInput, pipelineWorkflowSummary } from '../api/pipeline-submission';
import { checkTimeout, placeJob } from '../api/job-submission';
import { JOB_PROJECT_ATTRIBUTE, SCHEDULE_GONE, SCHEDULED_RUN_REFUSED, type JobTimings, type ScheduledJob, type ScheduledPipeline } from '../common/contracts';
import { FieldError } from '../common/field-error';
import type { NewRun } from '../common/schemas';
import type { ScheduleTemplate } from '../common/schemas/schedules';
import { jobGates, tierOf, tierPolicy } from '../common/tiers';
import { projectRules } from '../db/concurrency-rules';
import { DuplicatePipeline, pipelineByIdempotencyKey, pipelineJobRows, writePipeline } from '../db/pipelines';
import { findProject, getOrganization } from '../db/projects';
import type { JobRow, PipelineRow } from '../db/rows';
import { getSchedule } from '../db/schedules';
import { DuplicateSubmission, jobByIdempotencyKey, writeSubmission } from '../db/submissions';

const refused = (message: string) => ApplicationFailure.nonRetryable(message, SCHEDULED_RUN_REFUSED);

/** `activeRunnerSeconds`: how recently a runner must have been seen to count for a run's spec (placeJob). */
export function createScheduledRunActivities(db: Knex, activeRunnerSeconds: number) {
  /**
   * The schedule's template of `kind`, its project and organization's tier, and its checks made
   * again now (they depend on the present: the tier's timeout limit, the spec and a runner serving
   * it): a check that fails refuses the run, naming the template's field.
   */
  async function scheduled<K extends ScheduleTemplate['kind']>(scheduleId: string, kind: K) {
    const schedule = await getSchedule(db, scheduleId);
    if (!schedule) throw ApplicationFailure.nonRetryable(`schedule ${scheduleId} was deleted`, SCHEDULE_GONE);
    const template = schedule.template as Extract<ScheduleTemplate, { kind: K }>;
    if (template.kind !== kind) throw refused(`the schedule's template submits a ${template.kind}, not a ${kind}`);
    const project = (await findProject(db, schedule.project_id))!;
    const organization = await getOrganization(db, project.organization_id);
    const check = async <T>(run: () => Promise<T> | T): Promise<T> => {
      try {
        return await run();
      } catch (err) {
        if (err instanceof FieldError) throw refused(err.message);
        throw err;
      }
    };
    return { schedule, template, project, organization, policy: tierPolicy(tierOf(organization)), check };
  }

  return {
    /**
     * A scheduled run's job, written as POST /v0/run writes one (db/submissions.ts), on behalf of the
     * schedule's creator: the checks that depend on the present are made again now; the image's were
     * made when the schedule was created. The run's workflow id is the idempotency key, so a retry,
     * or a run that already submitted, returns the job it wrote.
     */
    async submitScheduledRun(scheduleId: string, runId: string, gateScope: string): Promise<ScheduledJob> {
      const { schedule, template, project, organization, policy, check } = await scheduled(scheduleId, 'run');
      const body: NewRun = { ...template.run, project: project.id, idempotency_key: runId };
      const labels = { project: project.slug, branch: body.branch, testbed: body.testbed, image: body.job.image };
      const { spec, taskQueue } = await check(async () => {
        checkTimeout(policy, body.job.timeout, 'template.run');
        return placeJob(db, project, organization, body, 'template.run', activeRunnerSeconds);
      });
      const scheduledJob = async (job: JobRow, admitted: boolean): Promise<ScheduledJob> => {
        // The gates the submission took (or will take) the job's permits at: only labelled jobs read the rules.
        const gates = jobGates(job, gateScope, Object.keys(job.labels).length ? await projectRules(db, project.id) : []);
        return {
          jobId: job.id,
          spec: { slug: spec.slug, taskQueue },
          priorityKey: job.priority,
          timeoutSeconds: job.timeout_seconds,
          concurrencyGate: gates.length ? { gates, admitted } : undefined,
          labels,
        };
      };

      // A retry after the write committed: the same job (its workflow decides its permit itself).
      const existing = await jobByIdempotencyKey(db, project.id, runId);
      if (existing) return scheduledJob(existing, false);
      let admitted = false;
      try {
        const { job } = await writeSubmission(
          db,
          { project, body, spec, policy, sourceIp: schedule.source_ip, submittedBy: schedule.created_by, gateScope },
          // The run's workflow starts the job's as its child once this returns: nothing to start here.
          async (_job, admission) => void (admitted = admission?.admitted ?? false),
        );
        return scheduledJob(job, admitted);
      } catch (err) {
        if (!(err instanceof DuplicateSubmission)) throw err;
        return scheduledJob((await jobByIdempotencyKey(db, project.id, runId))!, false);
      }
    },

    /**
     * A scheduled run's pipeline, checked and written as POST /v0/pipelines does
     * (api/pipeline-submission.ts), under the run's workflow id as idempotency key; the run's workflow
     * starts the pipeline's as its child. A retry, or a run that already submitted, gets the same
     * pipeline and the same input.
     */
    async submitScheduledPipeline(scheduleId: string, runId: string, gateScope: string, timings: JobTimings): Promise<ScheduledPipeline> {
      const { schedule, template, project, organization, policy, check } = await scheduled(scheduleId, 'pipeline');
      const body = template.pipeline;
      const checked = await check(() => checkPipeline(db, project, organization, policy, body, 'template.pipeline', activeRunnerSeconds));
      const toScheduled = (pipeline: PipelineRow, jobs: JobRow[]): ScheduledPipeline => ({
        input: pipelineWorkflowInput(timings, gateScope, project, pipeline, jobs, body, checked),
        searchAttributes: [{ key: JOB_PROJECT_ATTRIBUTE, value: project.slug }],
        summary: pipelineWorkflowSummary(project, jobs.length),
      });
      const written = async (pipeline: PipelineRow) => {
        const byKey = new Map((await pipelineJobRows(db, pipeline.id)).map((job) => [job.pipeline_key, job]));
        return toScheduled(pipeline, body.jobs.map((job) => byKey.get(job.key)!));
      };

      const existing = await pipelineByIdempotencyKey(db, project.id, runId);
      if (existing) return written(existing);
      try {
        const { pipeline, jobs } = await writePipeline(
          db,
          pipelineSubmission(project, body, checked, { idempotencyKey: runId, submittedBy: schedule.created_by, sourceIp: schedule.source_ip }),
          // The run's workflow starts the pipeline's once this returns: nothing to start here.
          async () => undefined,
        );
        return toScheduled(pipeline, jobs);
      } catch (err) {
        if (!(err instanceof DuplicatePipeline)) throw err;
        return written((await pipelineByIdempotencyKey(db, project.id, runId))!);
      }
    },
  };
}
