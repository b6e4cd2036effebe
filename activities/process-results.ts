import type { Knex } from 'knex';
import { transitionJob } from '../db/jobs';
import { writeMetrics } from '../db/metrics';
import { getOutputs } from '../db/outputs';
import { parseResults, type AdapterName } from '../results/adapters';
import { AdapterError, type AdapterInput } from '../results/types';
import type { JobOutcome } from '../workflows/job';

export function createProcessResultsActivities(db: Knex) {
  return {
    /**
     * Parses the job's output with the report's adapter and stores the metrics. Output no adapter
     * understands fails the job with the adapter's reason; it never becomes an empty success.
     */
    async processResults(jobId: string): Promise<JobOutcome> {
      const job = await db('job').where({ id: jobId }).first();
      const report = await db('report').where({ id: job.report_id }).first();
      const input: AdapterInput = { stdout: '', files: {} };
      for (const output of await getOutputs(db, jobId)) {
        if (output.kind === 'stdout') input.stdout = output.content.toString('utf8');
        if (output.kind === 'file') input.files[output.path] = output.content.toString('utf8');
      }
      let results;
      try {
        results = parseResults(report.adapter as AdapterName, input);
      } catch (err) {
        if (!(err instanceof AdapterError)) throw err;
        await transitionJob(db, jobId, 'failed', { error: err.message, finished_at: new Date() });
        return { status: 'failed', error: err.message };
      }
      const metrics = await db.transaction(async (trx) => {
        const count = await writeMetrics(trx, job.project_id, report.id, results);
        await trx('report').where({ id: report.id }).update({ end_time: new Date() });
        await transitionJob(trx, jobId, 'processed', { finished_at: new Date() });
        return count;
      });
      return { status: 'processed', metrics };
    },
  };
}
