import { randomUUID } from 'node:crypto';
import { getOrCreateMeasure } from './metrics';
import { FieldError } from '../common/field-error';
import type { Knex } from 'knex';
import type { RunThreshold } from '../common/schemas/results';
import { getOrCreateBranch, getOrCreateTestbed } from './projects';
import type { ResultsReportRow, StartPointBranchRow } from './result-rows';
import type { JobRow, ReportRow, TestbedRow } from './rows';
import { byRef } from './refs';
import { cloneThresholds, resetThresholds, setThreshold } from './thresholds';

export function getReport(db: Knex, reportId: string): Promise<ReportRow | undefined> {
  return db<ReportRow>('report').where({ id: reportId }).first();
}

/** The job that produced a report, if a job did (local runs have none). */
export function reportJob(db: Knex, reportId: string): Promise<Pick<JobRow, 'id' | 'status' | 'error'> | undefined> {
  return db<JobRow>('job').where({ report_id: reportId }).first('id', 'status', 'error');
}

/** The run options a report keeps in `settings`: what its results were parsed and judged with. */
export function reportSettings(body: Record<string, unknown> & { job?: { file_paths?: string[] } }): Record<string, unknown> {
  const keys = [
    'average', 'fold', 'file_size', 'build_time', 'thresholds', 'thresholds_reset',
    'start_point', 'start_point_clone_thresholds', 'start_point_reset', 'command', 'file_sizes',
  ];
  const settings: Record<string, unknown> = Object.fromEntries(keys.filter((k) => body[k] !== undefined).map((k) => [k, body[k]]));
  if (body.job?.file_paths) settings.file_paths = body.job.file_paths;
  else if (body.job && body.file_size) settings.file_paths = [];
  if (Array.isArray(body.results)) settings.iterations = body.results.length;
  return settings;
}

export interface StartPointOptions {
  start_point?: string;
  start_point_clone_thresholds?: boolean;
  start_point_reset?: boolean;
}

export interface ReportRequest extends StartPointOptions {
  projectId: string;
  branch: string;
  testbed: string;
  adapter: string;
  /** The run options, kept on the report as given. */
  settings: Record<string, unknown>;
  thresholds?: RunThreshold[];
  thresholds_reset?: boolean;
  startTime?: Date;
  endTime?: Date;
}

/** The part of a ReportRequest a submission body (a job run or a local run's results) carries as is. */
export type SubmissionOptions = Pick<ReportRequest, 'branch' | 'testbed' | 'adapter' | 'thresholds' | 'thresholds_reset' | keyof StartPointOptions>;

export function reportRequestFrom(projectId: string, body: SubmissionOptions & Record<string, unknown>): ReportRequest {
  const { branch, testbed, adapter, thresholds, thresholds_reset, start_point, start_point_clone_thresholds, start_point_reset } = body;
  return { projectId, branch, testbed, adapter, thresholds, thresholds_reset, start_point, start_point_clone_thresholds, start_point_reset, settings: reportSettings(body) };
}

/**
 * Creates a report with its branch and testbed (on first use), after applying the run's start point
 * and thresholds, so the results it gets are judged by them. Call inside the submission's
 * transaction: a refused option leaves nothing behind.
 */
export async function createReport(trx: Knex, r: ReportRequest): Promise<CreatedReport> {
  return (await createReports(trx, [r]))[0];
}

export interface CreatedReport {
  report: ResultsReportRow;
  branch: StartPointBranchRow;
  testbed: TestbedRow;
}

/**
 * createReport for many reports at once (a pipeline's jobs), in their order: each branch and testbed
 * is looked up once, start points and thresholds are applied request by request, and the reports
 * are written in one INSERT.
 */
export async function createReports(trx: Knex, requests: ReportRequest[]): Promise<CreatedReport[]> {
  const branches = new Map<string, StartPointBranchRow>();
  const testbeds = new Map<string, TestbedRow>();
  const placed: { branch: StartPointBranchRow; testbed: TestbedRow }[] = [];
  for (const r of requests) {
    const branchKey = JSON.stringify([r.projectId, r.branch]);
    const testbedKey = JSON.stringify([r.projectId, r.testbed]);
    // A start point changes the branch row: the next request looks it up afresh.
    const movesBranch = r.start_point !== undefined || r.start_point_reset;
    const branch = (!movesBranch && branches.get(branchKey)) || ((await getOrCreateBranch(trx, r.projectId, r.branch)) as StartPointBranchRow);
    const testbed = testbeds.get(testbedKey) ?? (await getOrCreateTestbed(trx, r.projectId, r.testbed));
    if (movesBranch) {
      await applyStartPoint(trx, r.projectId, branch, r);
      branches.delete(branchKey);
    } else branches.set(branchKey, branch);
    testbeds.set(testbedKey, testbed);
    if (r.thresholds?.length || r.thresholds_reset) {
      const kept: string[] = [];
      for (const { measure: slug, ...model } of r.thresholds ?? []) {
        const measure = await getOrCreateMeasure(trx, r.projectId, slug);
        await setThreshold(trx, { projectId: r.projectId, branchId: branch.id, testbedId: testbed.id, measureId: measure.id }, model);
        kept.push(measure.id);
      }
      if (r.thresholds_reset) await resetThresholds(trx, branch.id, testbed.id, kept);
    }
    placed.push({ branch, testbed });
  }
  // Ids chosen here, so each report is matched to its request whatever order RETURNING gives.
  const ids = requests.map(() => randomUUID());
  const rows = await trx<ResultsReportRow>('report')
    .insert(
      requests.map((r, i) => ({
        id: ids[i],
        project_id: r.projectId,
        branch_id: placed[i].branch.id,
        testbed_id: placed[i].testbed.id,
        adapter: r.adapter,
        settings: JSON.stringify(r.settings) as unknown as Record<string, unknown>,
        ...(r.startTime && { start_time: r.startTime }),
        ...(r.endTime && { end_time: r.endTime }),
      })),
    )
    .returning('*');
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id, i) => ({ report: byId.get(id)!, ...placed[i] }));
}

/**
 * Points the branch at its start point. The start point's metrics up to now become this branch's
 * history (a pull-request branch is judged against main's recent results). Given again with the same
 * start point, nothing changes: the branch keeps the fork time it has. A different start point, or
 * `start_point_reset`, forks anew from now; a reset also drops the branch's own earlier metrics from
 * its history (a reset with no start point leaves the branch with no history at all).
 */
async function applyStartPoint(trx: Knex, projectId: string, branch: StartPointBranchRow, o: StartPointOptions): Promise<void> {
  // Locked: two submissions forking one branch at once must not interleave.
  const current = (await trx<StartPointBranchRow>('branch').where({ id: branch.id }).forUpdate().first())!;
  let start: StartPointBranchRow | undefined;
  if (o.start_point !== undefined) {
    start = await byRef(trx<StartPointBranchRow>('branch').where({ project_id: projectId }), o.start_point).first();
    if (!start) throw new FieldError('body.start_point', `branch "${o.start_point}" does not exist in this project`);
    if (start.id === branch.id) throw new FieldError('body.start_point', `branch "${branch.slug}" cannot start from itself`);
  }
  // The database's clock, like report.start_time's default: history is cut by comparing the two.
  const now = trx.fn.now() as unknown as Date;
  if (o.start_point_reset || (start && current.start_point_branch_id !== start.id)) {
    const newest = start ? await trx('report').where({ branch_id: start.id }).orderBy([{ column: 'start_time', order: 'desc' }, { column: 'created_at', order: 'desc' }]).first('id') : undefined;
    await trx('branch')
      .where({ id: branch.id })
      .update({
        start_point_branch_id: start?.id ?? null,
        start_point_report_id: newest?.id ?? null,
        start_point_time: start ? now : null,
        ...(o.start_point_reset && { history_since: now }),
      });
  }
  if (start && o.start_point_clone_thresholds) await cloneThresholds(trx, projectId, start.id, branch.id);
}

/** One branch's stretch of a series' history: its reports in [since, until). */
export interface HistorySegment {
  branchId: string;
  since: Date | null;
  until: Date;
}

const MAX_START_POINT_DEPTH = 8;

/**
 * Where a branch's history lies: its own reports before `until` (and since its last reset), then
 * its start point's reports before the fork, and so on up the chain of start points.
 */
export async function historySegments(db: Knex, branchId: string, until: Date): Promise<HistorySegment[]> {
  const segments: HistorySegment[] = [];
  const seen = new Set<string>();
  let limit = until;
  let branch = await db<StartPointBranchRow>('branch').where({ id: branchId }).first();
  while (branch && !seen.has(branch.id) && segments.length < MAX_START_POINT_DEPTH) {
    seen.add(branch.id);
    segments.push({ branchId: branch.id, since: branch.history_since, until: limit });
    if (!branch.start_point_branch_id || !branch.start_point_time) break;
    if (branch.start_point_time < limit) limit = branch.start_point_time;
    branch = await db<StartPointBranchRow>('branch').where({ id: branch.start_point_branch_id }).first();
  }
  return segments;
}

/** Far enough ahead that every report is before it: the whole of a series. */
const END_OF_TIME = new Date('9999-12-31T00:00:00Z');

/**
 * A branch's whole history as reads show it: with its start point, what thresholds judge it by
 * (its own reports since its last reset, then its start point's before the fork, up the chain);
 * without, every report of its own.
 */
export async function branchHistory(db: Knex, branchId: string, withStartPoint: boolean): Promise<HistorySegment[]> {
  return withStartPoint ? historySegments(db, branchId, END_OF_TIME) : [{ branchId, since: null, until: END_OF_TIME }];
}

/** Restricts a query over `report` to the segments' reports. */
export function inSegments(query: Knex.QueryBuilder, segments: readonly HistorySegment[]): Knex.QueryBuilder {
  return query.where((q) => {
    for (const s of segments) {
      q.orWhere((w) => {
        w.where('report.branch_id', s.branchId).where('report.start_time', '<', s.until);
        if (s.since) w.where('report.start_time', '>=', s.since);
      });
    }
  });
}
