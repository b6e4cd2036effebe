import { ApplicationFailure, log } from '@temporalio/activity';
import type { Knex } from 'knex';
import { parseImageRef } from '../common/image-ref';
import { openCredentials, SecretOpenError } from '../common/secret-box';
import { hashToken } from '../common/tokens';
import { committedJob, issueClaimTicket } from '../db/jobs';
import { isImageRefusal, resolveDigest } from '../net/oci-registry';
import { OutboundError, type OutboundGuard } from '../net/outbound';

/** `secretsKey` opens the job's sealed registry password, for this lookup only. */
export function createResolveActivities(db: Knex, outbound: OutboundGuard, secretsKey: Buffer) {
  return {
    /**
     * Pins the job to its image's digest, before any runner time is spent, and issues attempt 1's
     * claim ticket; null when the submission that started the workflow did not commit the job.
     */
    async resolveImageDigest(jobId: string, firstClaimTicket: string): Promise<string | null> {
      const job = await committedJob(db, jobId);
      if (!job) return null;
      try {
        const digest = await resolveDigest(outbound, parseImageRef(job.config.image), openCredentials(job.config.image_credentials, secretsKey));
        await issueClaimTicket(db, jobId, 1, hashToken(firstClaimTicket), { image_digest: digest });
        return digest;
      } catch (err) {
        // What answered (address, socket error) is for operators, not for the job's error.
        if (err instanceof OutboundError) log.warn('registry connection failed or refused', { jobId, reason: err.message, detail: err.detail });
        if (isImageRefusal(err)) throw ApplicationFailure.nonRetryable(err.message, 'ImageNotFound');
        // Sealed under another key: no retry opens it; the job fails saying so.
        if (err instanceof SecretOpenError) throw ApplicationFailure.nonRetryable(`the job's registry credentials: ${err.message}`, 'SecretUnreadable');
        throw err;
      }
    },
  };
}
