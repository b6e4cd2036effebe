import type { Knex } from 'knex';
import { parseImageRef } from '../common/image-ref';
import { transitionJob } from '../db/jobs';
import { getOutputs } from '../db/outputs';
import type { ResultsReportRow } from '../db/result-rows';
import { storeResults } from '../db/results';
import type { JobRow } from '../db/rows';
import type { AdapterName } from '../results/adapters';
import type { Fold } from '../results/fold';
import { ResultsError, resultsOf, type ResultsInput, type RunOutput } from '../results/pipeline';
import type { Average, BenchmarkResults } from '../results/types';
import { InvalidTransitionError, type JobOutcome } from '../common/contracts';

/** The run options processing reads back from report.settings (see common/schemas/results.ts). */
export interface ReportSettings {
  average?: Average;
  fold?: Fold;
  /** Output files measured by size only. */
  file_size?: string[];
  /** Output files the submitter asked to have parsed (`job.file_paths`); absent on older reports: all files. */
  file_paths?: string[];
  build_time?: boolean;
}

/**
 * The job's command duration for `build_time`: the runner's own measure when the job records one
 * (`execution.duration_ms`), else from `running` to `completed`, which also counts the upload.
 */
function commandSeconds(job: JobRow): number | undefined {
  const measured = job.execution?.duration_ms;
  if (typeof measured === 'number' && Number.isFinite(measured)) return measured / 1000;
  if (job.started_at && job.completed_at) return Math.max(0, (job.completed_at.getTime() - job.started_at.getTime()) / 1000);
  return undefined;
}

/** The job's stored output as the results pipeline takes it: one run, its parsed files, its measured sizes. */
async function resultsInput(db: Knex, job: JobRow, report: ResultsReportRow): Promise<ResultsInput> {
  const settings = (report.settings ?? {}) as ReportSettings;
  const measuredOnly = new Set(settings.file_size ?? []);
  const parsedFiles = settings.file_paths ? new Set(settings.file_paths) : undefined;
  const run: RunOutput = { stdout: '', files: {}, seconds: settings.build_time ? commandSeconds(job) : undefined };
  const sizes = new Map<string, number>();
  for (const output of await getOutputs(db, job.id)) {
    if (output.kind === 'stdout') run.stdout = output.content.toString('utf8');
    if (output.kind !== 'file') continue;
    sizes.set(output.path, output.size_bytes);
    const parse = parsedFiles ? parsedFiles.has(output.path) : !measuredOnly.has(output.path);
    if (parse) run.files[output.path] = output.content.toString('utf8');
  }
  let fileSizes: Record<string, number> | undefined;
  if (settings.file_size?.length) {
    fileSizes = {};
    for (const path of settings.file_size) {
      const size = sizes.get(path);
      if (size === undefined) throw new ResultsError(`file_size: output file ${path} was not collected`, 'file_sizes');
      fileSizes[path] = size;
    }
  }
  return {
    adapter: report.adapter as AdapterName,
    average: settings.average,
    fold: settings.fold,
    runs: [run],
    fileSizes,
    buildTimeBenchmark: parseImageRef(job.config.image).repository,
  };
}

export function createProcessResultsActivities(db: Knex) {
  return {
    /**
     * Turns the job's output into results through the one results pipeline (results/pipeline.ts),
     * then in one transaction with `completed → processed`: stores the metrics, their boundaries,
     * alerts and change points (db/results.ts, as for a local report). Output the pipeline refuses
     * fails the job with its reason at once: it never becomes an empty success, and is never retried
     * (the same output would be refused again). A retry after either outcome committed returns it.
     */
    async processResults(jobId: string): Promise<JobOutcome> {
      const job = (await db<JobRow>('job').where({ id: jobId }).first())!;
      const settled = await settledOutcome(db, job);
      if (settled) return settled;
      const report = (await db<ResultsReportRow>('report').where({ id: job.report_id }).first())!;
      let results: BenchmarkResults;
      try {
        results = resultsOf(await resultsInput(db, job, report));
      } catch (err) {
        if (!(err instanceof ResultsError)) throw err;
        let failed: JobRow;
        try {
          failed = await transitionJob(db, jobId, 'failed', { error: err.message, finished_at: new Date() });
        } catch (raced) {
          if (!(raced instanceof InvalidTransitionError)) throw raced;
          // Another writer settled it first (a cancel): answer with what it stored.
          failed = (await db<JobRow>('job').where({ id: jobId }).first())!;
        }
        return (await settledOutcome(db, failed))!;
      }
      const stored = await db.transaction(async (trx) => {
        const outcome = await storeResults(trx, report, results);
        await trx('report').where({ id: report.id }).update({ end_time: new Date(), spec_id: job.spec_id, image_digest: job.image_digest });
        await transitionJob(trx, jobId, 'processed', { finished_at: new Date() });
        return outcome;
      });
      return { status: 'processed', metrics: stored.metrics };
    },
  };
}

/** The outcome of a job already past processing (a retry after an earlier attempt committed); undefined while it is `completed`. */
async function settledOutcome(db: Knex, job: JobRow): Promise<JobOutcome | undefined> {
  if (job.status === 'processed') {
    const [{ count }] = await db('metric').where({ report_id: job.report_id }).count<{ count: string }[]>({ count: '*' });
    return { status: 'processed', metrics: Number(count) };
  }
  if (job.status === 'failed' || job.status === 'canceled') return { status: job.status, error: job.error ?? job.status };
  return undefined;
}
