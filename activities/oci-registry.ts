import { formatImageRef, isInsecureRegistry, type ImageRef } from '../common/image-ref';

/** Manifest media types a registry may answer a tag with: OCI and Docker, single images and indexes. */
const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export class ImageNotFoundError extends Error {}

/**
 * Tag → digest through the OCI distribution API (`HEAD /v2/<name>/manifests/<tag>`). A reference that
 * already carries a digest is checked to exist the same way.
 */
export async function resolveDigest(ref: ImageRef, fetchImpl: typeof fetch = fetch): Promise<string> {
  const scheme = isInsecureRegistry(ref.registry) ? 'http' : 'https';
  const reference = ref.digest ?? ref.tag ?? 'latest';
  const url = `${scheme}://${ref.registry}/v2/${ref.repository}/manifests/${reference}`;
  // The registry host is the user's choice: never follow it elsewhere, never wait on it forever.
  const response = await fetchImpl(url, { method: 'HEAD', headers: { Accept: MANIFEST_ACCEPT }, redirect: 'manual', signal: AbortSignal.timeout(15000) });
  if (response.status === 404) throw new ImageNotFoundError(`image ${formatImageRef(ref)} not found in registry ${ref.registry}`);
  if (response.status === 401 || response.status === 403) {
    throw new ImageNotFoundError(`registry ${ref.registry} refused access to ${ref.repository} (HTTP ${response.status})`);
  }
  if (!response.ok) throw new Error(`registry ${ref.registry} answered HTTP ${response.status} for ${formatImageRef(ref)}`);
  const digest = response.headers.get('docker-content-digest');
  if (!digest) throw new Error(`registry ${ref.registry} gave no Docker-Content-Digest for ${formatImageRef(ref)}`);
  return digest;
}
