import type { ImageRef } from '../common/image-ref';
import type { RegistryCredentials } from '../common/schemas';
import { resolveDigest } from '../net/oci-registry';
import type { OutboundGuard } from '../net/outbound';
import { within } from '../common/within';

/**
 * The digest the registry names for `image` within `budgetMs` (name lookup included), or undefined
 * when it does not answer in time or refuses. Undefined is no verdict: the job workflow then resolves
 * the image with its retried activity, which waits out an outage and fails the job on a refusal with
 * the same message, so nothing here is logged (it holds nothing the job's own lookup will not say).
 */
export async function digestWithin(guard: OutboundGuard, image: ImageRef, credentials: RegistryCredentials | undefined, budgetMs: number): Promise<string | undefined> {
  return within(resolveDigest(guard, image, credentials, budgetMs), budgetMs, 'the digest lookup').catch(() => undefined);
}
