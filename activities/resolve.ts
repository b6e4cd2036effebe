import { ApplicationFailure, log } from '@temporalio/activity';
import type { Knex } from 'knex';
import { parseImageRef } from '../common/image-ref';
import { hashToken } from '../common/tokens';
import { getJob, issueClaimTicket } from '../db/jobs';
import type { JobRow } from '../db/rows';
import { isImageRefusal, resolveDigest } from '../net/oci-registry';
import { OutboundError, type OutboundGuard } from '../net/outbound';

async function requireJob(db: Knex, jobId: string): Promise<JobRow> {
  const job = await getJob(db, jobId);
  if (!job) throw ApplicationFailure.nonRetryable(`job ${jobId} does not exist`, 'JobGone');
  return job;
}

export function createResolveActivities(db: Knex, outbound: OutboundGuard) {
  return {
    /** Whether the submission's transaction committed the job row yet (see the workflow's submissionCommitted). */
    async jobExists(jobId: string): Promise<boolean> {
      return (await getJob(db, jobId)) !== undefined;
    },

    /** Pins the job to its image's digest, before any runner time is spent, and issues attempt 1's claim ticket. */
    async resolveImageDigest(jobId: string, firstClaimTicket: string): Promise<string> {
      const job = await requireJob(db, jobId);
      try {
        const digest = await resolveDigest(outbound, parseImageRef(job.config.image), job.config.image_credentials);
        await db('job').where({ id: jobId }).update({ image_digest: digest });
        await issueClaimTicket(db, jobId, 1, hashToken(firstClaimTicket));
        return digest;
      } catch (err) {
        // What answered (address, socket error) is for operators, not for the job's error.
        if (err instanceof OutboundError) log.warn('registry connection failed or refused', { jobId, reason: err.message, detail: err.detail });
        if (isImageRefusal(err)) throw ApplicationFailure.nonRetryable(err.message, 'ImageNotFound');
        throw err;
      }
    },
  };
}
