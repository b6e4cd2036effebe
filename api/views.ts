import type { Knex } from 'knex';
import { jobWorkflowId } from '../common/task-queues';
import type { JobView, ReportView } from '../common/schemas';
import { reportMetrics } from '../db/metrics';
import { queuePosition } from '../db/jobs';
import { listOutputs } from '../db/outputs';
import type { JobRow, ProjectRow, ReportRow } from '../db/rows';
import { workflowUiUrl, type ApiConfig } from './config';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

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
