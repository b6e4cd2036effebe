import type { Knex } from 'knex';
import { jobWorkflowId } from '../common/task-queues';
import type { JobSummary, JobView, ReportView } from '../common/schemas';
import { reportMetrics } from '../db/metrics';
import { queuePosition } from '../db/jobs';
import { listOutputs } from '../db/outputs';
import type { JobRow, ProjectRow, ReportRow } from '../db/rows';
import { workflowUiUrl, type ApiConfig } from './config';
import { iso } from './resources';

/**
 * The job as the API shows it. `withPrivate` is true only for members of the project's organization:
 * the spec, the job config (image, env, which may hold secrets) and execution details never reach
 * anyone else, even on public projects.
 */
export async function toJobView(db: Knex, config: ApiConfig, project: ProjectRow, job: JobRow, withPrivate: boolean): Promise<JobView> {
  const runner = job.runner_id ? await db('runner').where({ id: job.runner_id }).first('slug') : undefined;
  const workflowId = jobWorkflowId(job.id);
  const view: JobView = {
    uuid: job.id,
    project: project.slug,
    report: job.report_id,
    status: job.status,
    tier: job.tier,
    priority: job.priority,
    timeout_seconds: job.timeout_seconds,
    image_digest: job.image_digest,
    runner: runner?.slug ?? null,
    attempt: job.attempt,
    queue_position: await queuePosition(db, job),
    exit_code: job.exit_code,
    error: job.error,
    outputs: await listOutputs(db, job.id),
    created: job.created_at.toISOString(),
    claimed: iso(job.claimed_at),
    started: iso(job.started_at),
    completed: iso(job.completed_at),
    finished: iso(job.finished_at),
    workflow_id: workflowId,
    temporal_ui_url: workflowUiUrl(config, workflowId),
  };
  if (withPrivate) {
    const spec = job.spec_id ? await db('spec').where({ id: job.spec_id }).first('slug') : undefined;
    view.spec = spec?.slug ?? null;
    view.config = job.config;
    view.execution = job.execution;
  }
  return view;
}

/** Jobs with their project and runner slugs, in one query, for lists. */
export function jobSummaries(db: Knex) {
  return db('job')
    .join('project', 'project.id', 'job.project_id')
    .leftJoin('runner', 'runner.id', 'job.runner_id')
    .select('job.*', 'project.slug as project_slug', 'runner.slug as runner_slug');
}

export function toJobSummary(config: ApiConfig, row: JobRow & { project_slug: string; runner_slug: string | null }): JobSummary {
  const workflowId = jobWorkflowId(row.id);
  return {
    uuid: row.id,
    project: row.project_slug,
    report: row.report_id,
    status: row.status,
    tier: row.tier,
    priority: row.priority,
    runner: row.runner_slug,
    attempt: row.attempt,
    exit_code: row.exit_code,
    error: row.error,
    created: row.created_at.toISOString(),
    started: iso(row.started_at),
    finished: iso(row.finished_at),
    workflow_id: workflowId,
    temporal_ui_url: workflowUiUrl(config, workflowId),
  };
}

export async function toReportView(db: Knex, project: ProjectRow, report: ReportRow): Promise<ReportView> {
  const [branch, testbed, job] = await Promise.all([
    db('branch').where({ id: report.branch_id }).first('slug'),
    db('testbed').where({ id: report.testbed_id }).first('slug'),
    db('job').where({ report_id: report.id }).first('id'),
  ]);
  return {
    uuid: report.id,
    project: project.slug,
    branch: branch.slug,
    testbed: testbed.slug,
    adapter: report.adapter,
    start_time: report.start_time.toISOString(),
    end_time: iso(report.end_time),
    job: job?.id ?? null,
    results: await reportMetrics(db, report.id),
  };
}
