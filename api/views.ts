import type { Knex } from 'knex';
import { jobWorkflowId, pipelineWorkflowId } from '../common/contracts';
import type { PipelineSummary, PipelineView } from '../common/schemas/pipelines';
import type {
  AttemptView, AlertSummary, AlertView, BoundaryView, ChangePointView, JobListItem, JobSummary, JobView, MetricView, ReportView, ThresholdModelView, ThresholdView,
} from '../common/schemas';
import type { AlertListRow } from '../db/alerts';
import { reportMetrics, type ReportMetricRow } from '../db/metrics';
import type { AlertRow, ResultsReportRow, ThresholdModelRow } from '../db/result-rows';
import type { ThresholdListRow } from '../db/thresholds';
import type { ChangePointListRow } from '../db/series';
import { attemptsOf, type RecordedAttemptRow } from '../db/attempts';
import { queuePosition, queuePositions } from '../db/jobs';
import { listOutputs } from '../db/outputs';
import type { JobSummaryRow } from '../db/job-lists';
import { getPipeline, pipelineEdges, pipelineJobCounts, pipelineJobs, type PipelineListRow } from '../db/pipelines';
import { waitedGates } from '../db/permits';
import { slugById } from '../db/refs';
import { specPauseOf } from '../db/specs';
import { reportJob } from '../db/reports';
import type { JobRow, PipelineRow, ProjectRow, ReportRow } from '../db/rows';
import { workflowUiUrl, type ApiConfig } from './config';
import { iso } from './resources';

/**
 * The job as the API shows it: its summary (as lists show it, redacted the same way) and what only
 * the detail view looks up. `withPrivate` is true only for members of the project's organization:
 * the spec, the job config (image, env, which may hold secrets), execution details and the error
 * never reach anyone else, even on public projects.
 */
/**
 * Why a pending job does not start besides its place in the queue: its spec paused by an operator,
 * its pipeline paused, or the gates (its tier's, a concurrency rule's) it waits at for a permit.
 */
async function waitingOf(db: Knex, job: JobRow): Promise<string | null> {
  const specPause = await specPauseOf(db, job.id);
  const pipeline = job.pipeline_id ? await getPipeline(db, job.pipeline_id) : undefined;
  const gates = await waitedGates(db, job.id);
  const reasons = [
    ...(specPause === null ? [] : [`spec paused: ${specPause}`]),
    ...(pipeline?.paused_at ? [`pipeline paused since ${pipeline.paused_at.toISOString()}: none of its jobs starts until it is resumed`] : []),
    ...gates.map(({ permits, rule }) =>
      rule === 'deleted'
        ? 'concurrency rule deleted: released shortly'
        : rule
          ? `concurrency rule ${JSON.stringify(rule.match)}: at most ${rule.max} at once`
          : `tier permit: the ${job.tier} tier runs at most ${permits} at once`,
    ),
  ];
  return reasons.length ? reasons.join('; ') : null;
}

export async function toJobView(db: Knex, config: ApiConfig, project: ProjectRow, job: JobRow, withPrivate: boolean): Promise<JobView> {
  const runner = job.runner_id ? await slugById(db, 'runner', job.runner_id) : undefined;
  const row = { ...job, project_slug: project.slug, runner_slug: runner ?? null };
  const view: JobView = {
    ...toJobSummary(config, row, withPrivate),
    attempts: attemptViews(row, await attemptsOf(db, [job.id]), withPrivate),
    timeout_seconds: job.timeout_seconds,
    image_digest: job.image_digest,
    queue_position: await queuePosition(db, job),
    starts_in_seconds: job.status === 'scheduled' && job.start_after ? Math.max(0, Math.ceil((job.start_after.getTime() - Date.now()) / 1000)) : null,
    waiting: job.status === 'pending' ? await waitingOf(db, job) : null,
    outputs: await listOutputs(db, job.id),
    claimed: iso(job.claimed_at),
    completed: iso(job.completed_at),
  };
  if (withPrivate) {
    view.spec = (job.spec_id ? await slugById(db, 'spec', job.spec_id) : undefined) ?? null;
    // Members see that credentials were given and for whom, never the password.
    const { image_credentials: credentials, ...config } = job.config;
    view.config = credentials ? { ...config, image_credentials: { username: credentials.username, password: '***' } } : config;
    view.execution = job.execution;
  }
  return view;
}

/**
 * A job's error as the caller may see it, in every view of a job (detail and lists alike). Errors
 * are built from private inputs: the image reference and what its registry answered (a private
 * repository's name, a token endpoint's scope), the spec, the benchmark's output. Replacing known
 * strings cannot catch every way a registry or a benchmark may quote them, so non-members get a
 * sentence that says only that there is an error; members see it whole.
 */
export function visibleError(job: Pick<JobRow, 'error'>, withPrivate: boolean): string | null {
  if (job.error === null || withPrivate) return job.error;
  return "the job's error is shown to members of its project's organization";
}

/**
 * Every runJob attempt of a job, oldest first: those that failed and were tried again (job_attempt),
 * then the job row's own, the last. Until a retry claims the job, the row's runner and times are
 * still the previous attempt's, so the last attempt shows them only once it holds the claim.
 */
function attemptViews(job: JobSummaryRow, recorded: RecordedAttemptRow[], withPrivate: boolean): AttemptView[] {
  const current = Math.max((recorded.at(-1)?.attempt ?? 0) + 1, job.attempt);
  const own = job.attempt === current;
  return [
    ...recorded.map((a) => ({
      attempt: a.attempt,
      status: 'failed' as const,
      kind: a.kind,
      error: visibleError(a, withPrivate),
      exit_code: a.exit_code,
      runner: a.runner_slug,
      dispatched: a.dispatched_at.toISOString(),
      claimed: iso(a.claimed_at),
      started: iso(a.started_at),
      ended: a.ended_at.toISOString(),
      retry_at: a.retry_at.toISOString(),
    })),
    {
      attempt: current,
      status: 'current' as const,
      kind: null,
      error: visibleError(job, withPrivate),
      exit_code: job.exit_code,
      runner: own ? job.runner_slug : null,
      dispatched: null,
      claimed: own ? iso(job.claimed_at) : null,
      started: own ? iso(job.started_at) : null,
      ended: iso(job.finished_at),
      retry_at: null,
    },
  ];
}

/**
 * Jobs as lists show them (`withPrivate` as for toJobSummary), with the queue positions of the
 * waiting ones among them and of `watched` (more jobs), all found in one query; `projectId` keeps
 * both to one project's jobs, so a caller's list of ids reveals nothing of other projects. Returns
 * the positions found too.
 */
export async function jobListItems(
  db: Knex,
  config: ApiConfig,
  rows: JobSummaryRow[],
  withPrivate: boolean,
  scope: { projectId?: string; watched?: string[] } = {},
): Promise<{ items: JobListItem[]; positions: Map<string, number> }> {
  const waiting = rows.filter((r) => r.status === 'pending').map((r) => r.id);
  const positions = await queuePositions(db, { jobIds: [...new Set([...waiting, ...(scope.watched ?? [])])], projectId: scope.projectId });
  return { items: rows.map((row) => ({ ...toJobSummary(config, row, withPrivate), queue_position: positions.get(row.id) ?? null })), positions };
}

/** A job in a list; `withPrivate` as for toJobView, so a list never shows more than the job's own view. */
export function toJobSummary(config: ApiConfig, row: JobSummaryRow, withPrivate: boolean): JobSummary {
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
    error: visibleError(row, withPrivate),
    created: row.created_at.toISOString(),
    start_after: iso(row.start_after),
    started: iso(row.started_at),
    finished: iso(row.finished_at),
    workflow_id: workflowId,
    temporal_ui_url: workflowUiUrl(config, workflowId),
  };
}

/**
 * A report with its judged results and alerts. Its settings (run options, and for a local run the
 * command line) are private like a job's config: `withPrivate` only for members and the submitter.
 */
export async function toReportView(db: Knex, project: ProjectRow, report: ReportRow, withPrivate = true): Promise<ReportView> {
  const { spec_id: specId, image_digest: imageDigest } = report as ResultsReportRow;
  const [branch, testbed, job, spec, metrics] = await Promise.all([
    slugById(db, 'branch', report.branch_id),
    slugById(db, 'testbed', report.testbed_id),
    reportJob(db, report.id),
    specId ? slugById(db, 'spec', specId) : undefined,
    reportMetrics(db, report.id),
  ]);
  const results = metrics.map(toMetricView);
  const alerts: AlertView[] = metrics.flatMap((m) =>
    m.alerts.map((a) =>
      toAlertView(project, {
        ...a, benchmark: m.benchmark, measure: m.measure, units: m.units, branch: branch!, testbed: testbed!,
        report_id: report.id, baseline: m.boundary?.baseline ?? null,
      }, m.boundary!.model),
    ),
  );
  return {
    uuid: report.id,
    project: project.slug,
    branch: branch!,
    testbed: testbed!,
    adapter: report.adapter,
    start_time: report.start_time.toISOString(),
    end_time: iso(report.end_time),
    job: job?.id ?? null,
    // A job that did not process has no results: its status and error say why.
    job_status: job?.status ?? null,
    job_error: job ? visibleError(job, withPrivate) : null,
    image_digest: imageDigest ?? null,
    // The spec and the run's settings (which can hold a local command line) are private.
    ...(withPrivate && { spec: spec ?? null, settings: report.settings ?? {} }),
    results,
    alerts,
  };
}

export function toModelView(m: ThresholdModelRow): ThresholdModelView {
  return {
    uuid: m.id,
    test: m.test,
    lower_boundary: m.lower_boundary,
    upper_boundary: m.upper_boundary,
    min_sample_size: m.min_sample_size,
    max_sample_size: m.max_sample_size,
    window: m.window_seconds,
    created: m.created_at.toISOString(),
    replaced: iso(m.replaced_at),
  };
}

export function toThresholdView(project: ProjectRow, t: ThresholdListRow, model: ThresholdModelRow | undefined): ThresholdView {
  return {
    uuid: t.id,
    project: project.slug,
    branch: t.branch_slug,
    testbed: t.testbed_slug,
    measure: t.measure_slug,
    model: model ? toModelView(model) : null,
    created: t.created_at.toISOString(),
    modified: t.modified_at.toISOString(),
  };
}

export const toAlertSummary = (a: AlertRow): AlertSummary => ({ uuid: a.id, side: a.side, status: a.status, limit: a.limit, value: a.value });

export function toAlertView(project: ProjectRow, a: AlertListRow, model: ThresholdModelRow): AlertView {
  return {
    ...toAlertSummary(a),
    project: project.slug,
    benchmark: a.benchmark,
    measure: a.measure,
    units: a.units,
    branch: a.branch,
    testbed: a.testbed,
    report: a.report_id,
    metric: a.metric_id,
    threshold: a.threshold_id,
    model: toModelView(model),
    baseline: a.baseline,
    created: a.created_at.toISOString(),
    modified: a.modified_at.toISOString(),
  };
}

/**
 * A metric as a report shows it. The change is measured against the boundary's centre when a
 * threshold model computed one (so the % and the limits tell one story), else against the previous
 * value of the series (which for a branch with a start point is the start point's latest before the fork).
 */
export function toMetricView(m: ReportMetricRow): MetricView {
  const boundary: BoundaryView | null = m.boundary
    ? {
        threshold: m.boundary.threshold_id,
        model: toModelView(m.boundary.model),
        baseline: m.boundary.baseline,
        lower_limit: m.boundary.lower_limit,
        upper_limit: m.boundary.upper_limit,
        skipped: m.boundary.skipped,
      }
    : null;
  const [baseline, source] =
    boundary?.baseline != null ? [boundary.baseline, 'threshold' as const] : m.previous_value !== null ? [m.previous_value, 'previous' as const] : [null, null];
  return {
    uuid: m.id,
    benchmark: m.benchmark,
    measure: m.measure,
    measure_name: m.measure_name,
    units: m.units,
    value: m.value,
    lower_value: m.lower_value,
    upper_value: m.upper_value,
    previous_value: m.previous_value,
    baseline,
    baseline_source: source,
    change_percent: baseline !== null && baseline !== 0 ? (m.value / baseline - 1) * 100 : null,
    boundary,
    alerts: m.alerts.map(toAlertSummary),
  };
}

export function toChangePointView(c: ChangePointListRow): ChangePointView {
  return {
    uuid: c.id,
    branch: c.branch,
    testbed: c.testbed,
    benchmark: c.benchmark,
    measure: c.measure,
    metric: c.metric_id,
    report: c.report_id,
    start_time: c.start_time.toISOString(),
    series_index: c.series_index,
    mean_before: c.mean_before,
    mean_after: c.mean_after,
    stddev_before: c.stddev_before,
    stddev_after: c.stddev_after,
    percent_change: c.percent_change,
    pvalue: c.pvalue,
    created: c.created_at.toISOString(),
    modified: c.modified_at.toISOString(),
  };
}

/** What a pipeline shows in lists and in its own view: status, counts, timings, its workflow. */
async function pipelineSummaryOf(db: Knex, config: ApiConfig, projectSlug: string, row: PipelineRow) {
  const workflowId = pipelineWorkflowId(row.id);
  return {
    uuid: row.id,
    project: projectSlug,
    status: row.status,
    counts: row.counts ?? (await pipelineJobCounts(db, row.id)),
    max_parallel: row.max_parallel,
    paused: iso(row.paused_at),
    created: row.created_at.toISOString(),
    finished: iso(row.finished_at),
    duration_seconds: row.finished_at ? (row.finished_at.getTime() - row.created_at.getTime()) / 1000 : null,
    workflow_id: workflowId,
    temporal_ui_url: workflowUiUrl(config, workflowId),
  };
}

export async function toPipelineSummary(db: Knex, config: ApiConfig, row: PipelineListRow): Promise<PipelineSummary> {
  return { ...(await pipelineSummaryOf(db, config, row.project_slug, row)), job_count: Number(row.job_count) };
}

/** The pipeline with each job (redacted as any job view is for non-members) and its edges by job key. */
export async function toPipelineView(db: Knex, config: ApiConfig, project: ProjectRow, pipeline: PipelineRow, withPrivate: boolean): Promise<PipelineView> {
  const jobs = await pipelineJobs(db, pipeline.id);
  const keys = new Map(jobs.map((j) => [j.id, j.pipeline_key!]));
  const attempts = new Map<string, RecordedAttemptRow[]>();
  for (const a of await attemptsOf(db, jobs.map((j) => j.id))) attempts.set(a.job_id, [...(attempts.get(a.job_id) ?? []), a]);
  return {
    ...(await pipelineSummaryOf(db, config, project.slug, pipeline)),
    jobs: jobs.map((j) => ({ key: j.pipeline_key!, ...toJobSummary(config, j, withPrivate), attempts: attemptViews(j, attempts.get(j.id) ?? [], withPrivate) })),
    edges: (await pipelineEdges(db, pipeline.id)).map((e) => ({ job: keys.get(e.job_id)!, needs: keys.get(e.needs_job_id)!, requires_success: e.requires_success })),
  };
}
