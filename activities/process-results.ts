import type { Knex } from 'knex';
import { parseImageRef } from '../common/image-ref';
import { transitionJob } from '../db/jobs';
import { getOutputs } from '../db/outputs';
import type { ResultsReportRow } from '../db/result-rows';
import { storeResults } from '../db/results';
import type { JobRow } from '../db/rows';
import type { AdapterName } from '../results/adapters';
import { buildTimeResults, fileSizeResults } from '../results/extra-measures';
import type { Fold } from '../results/fold';
import { iterationsOf, parseIterations } from '../results/iterations';
import { mergeResults } from '../results/merge';
import { AdapterError, type Average, type BenchmarkResults } from '../results/types';
import type { JobOutcome } from '../common/contracts';

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

/** The measures Benchline takes itself: output file sizes and the command's duration. */
function extraResults(job: JobRow, settings: ReportSettings, sizes: Map<string, number>): BenchmarkResults {
  const extras: BenchmarkResults[] = [];
  if (settings.file_size?.length) {
    const measured: Record<string, number> = {};
    for (const path of settings.file_size) {
      const size = sizes.get(path);
      if (size === undefined) throw new AdapterError(`file_size: output file ${path} was not collected`, 'file_size');
      measured[path] = size;
    }
    extras.push(fileSizeResults(measured));
  }
  const seconds = settings.build_time ? commandSeconds(job) : undefined;
  if (seconds !== undefined) extras.push(buildTimeResults(parseImageRef(job.config.image).repository, seconds));
  return mergeResults(...extras);
}

export function createProcessResultsActivities(db: Knex) {
  return {
    /**
     * Parses the job's output with the report's adapter and options (iterations folded), adds the
     * file-size and build-time measures, then in one transaction with `completed → processed`:
     * stores the metrics, their boundaries, alerts and change points. Output no adapter understands
     * fails the job with the adapter's reason; it never becomes an empty success.
     */
    async processResults(jobId: string): Promise<JobOutcome> {
      const job = (await db<JobRow>('job').where({ id: jobId }).first())!;
      if (job.status === 'processed') {
        // A retry after the transaction below committed (the reply was lost): report what is stored.
        const [{ count }] = await db('metric').where({ report_id: job.report_id }).count<{ count: string }[]>({ count: '*' });
        return { status: 'processed', metrics: Number(count) };
      }
      const report = (await db<ResultsReportRow>('report').where({ id: job.report_id }).first())!;
      const settings = (report.settings ?? {}) as ReportSettings;
      const measuredOnly = new Set(settings.file_size ?? []);
      const parsedFiles = settings.file_paths ? new Set(settings.file_paths) : undefined;
      let stdout = '';
      const files: Record<string, string> = {};
      const sizes = new Map<string, number>();
      for (const output of await getOutputs(db, jobId)) {
        if (output.kind === 'stdout') stdout = output.content.toString('utf8');
        if (output.kind !== 'file') continue;
        sizes.set(output.path, output.size_bytes);
        const parse = parsedFiles ? parsedFiles.has(output.path) : !measuredOnly.has(output.path);
        if (parse) files[output.path] = output.content.toString('utf8');
      }
      let results: BenchmarkResults;
      try {
        const parsed = parseIterations(iterationsOf({ stdout, files }), { adapter: report.adapter as AdapterName, average: settings.average, fold: settings.fold });
        results = mergeResults(parsed, extraResults(job, settings, sizes));
      } catch (err) {
        if (!(err instanceof AdapterError)) throw err;
        await transitionJob(db, jobId, 'failed', { error: err.message, finished_at: new Date() });
        return { status: 'failed', error: err.message };
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
