import { ApplicationFailure } from '@temporalio/activity';
import type { Knex } from 'knex';
import { parseImageRef } from '../common/image-ref';
import { runnerTaskQueue, type ResolvedSpec } from '../common/contracts';
import { getJob } from '../db/jobs';
import type { JobRow } from '../db/rows';
import { resolveSpec as resolveSpecChain, SpecResolutionError } from '../db/specs';
import { ImageNotFoundError, resolveDigest } from './oci-registry';

async function requireJob(db: Knex, jobId: string): Promise<JobRow> {
  const job = await getJob(db, jobId);
  if (!job) throw ApplicationFailure.nonRetryable(`job ${jobId} does not exist`, 'JobGone');
  return job;
}

export function createResolveActivities(db: Knex) {
  return {
    /** explicit spec → testbed's current spec → default spec; an explicit spec becomes the testbed's current one. */
    async resolveSpec(jobId: string): Promise<ResolvedSpec> {
      const job = await requireJob(db, jobId);
      const report = await db('report').where({ id: job.report_id }).first('testbed_id');
      const testbed = await db('testbed').where({ id: report.testbed_id }).first();
      try {
        const spec = await resolveSpecChain(db, job.requested_spec_id ?? undefined, testbed);
        await db.transaction(async (trx) => {
          await trx('job').where({ id: jobId }).update({ spec_id: spec.id });
          if (job.requested_spec_id) await trx('testbed').where({ id: testbed.id }).update({ spec_id: spec.id });
        });
        const org = await db('organization').where({ id: job.organization_id }).first('slug');
        const dedicated = await db('runner')
          .join('runner_spec', 'runner_spec.runner_id', 'runner.id')
          .where({ 'runner.organization_id': job.organization_id, 'runner_spec.spec_id': spec.id })
          .whereNull('runner.archived_at')
          .first('runner.id');
        // An organization with its own runners for this spec uses its dedicated queue.
        return { slug: spec.slug, taskQueue: runnerTaskQueue(spec.slug, dedicated ? org.slug : undefined) };
      } catch (err) {
        if (err instanceof SpecResolutionError) throw ApplicationFailure.nonRetryable(err.message, 'SpecUnavailable');
        throw err;
      }
    },

    /** Pins the job to its image's digest, before any runner time is spent. */
    async resolveImageDigest(jobId: string): Promise<string> {
      const job = await requireJob(db, jobId);
      try {
        const digest = await resolveDigest(parseImageRef(job.config.image), job.config.image_credentials);
        await db('job').where({ id: jobId }).update({ image_digest: digest });
        return digest;
      } catch (err) {
        if (err instanceof ImageNotFoundError) throw ApplicationFailure.nonRetryable(err.message, 'ImageNotFound');
        throw err;
      }
    },
  };
}
