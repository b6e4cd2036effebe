import { createHash } from 'node:crypto';
import { formatImageRef, isInsecureRegistry, type ImageRef } from '../common/image-ref';
import type { RegistryCredentials } from '../common/schemas';
import { OutboundError, type GuardedResponse, type OutboundGuard } from './outbound';

/** Manifest media types a registry may answer a tag with: OCI and Docker, single images and indexes. */
const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** Manifests are small JSON documents (containerd refuses them past 4 MiB too). */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_TOKEN_BYTES = 64 * 1024;

/** The registry does not serve this reference to these credentials: final for the job. */
export class ImageNotFoundError extends Error {}

/** The registry served content whose digest is not the one it named or the one asked for: refused. */
export class ImageDigestMismatchError extends Error {}

/**
 * Failures retrying will not change (not served, digest mismatch, destination refused, redirect,
 * oversized answer): the job fails with the message. An unreachable registry is worth retrying.
 */
export function isImageRefusal(err: unknown): err is Error {
  return err instanceof ImageNotFoundError || err instanceof ImageDigestMismatchError || (err instanceof OutboundError && err.failure !== 'unreachable');
}

export interface Manifest {
  /** sha256 of the bytes served, computed here: never the registry's word alone. */
  digest: string;
  mediaType?: string;
  body: Buffer;
}

/**
 * The manifest for a tag or digest through the OCI distribution API (`GET /v2/<name>/manifests/<ref>`),
 * with the job's credentials. Its digest is computed from the body and must equal the registry's
 * Docker-Content-Digest and, for a reference by digest, the digest asked for. Registries that want a
 * token (Docker Hub, GHCR…) get the distribution spec's bearer-token handshake. Error messages never
 * carry the registry's status or body.
 */
export async function fetchManifest(guard: OutboundGuard, ref: ImageRef, credentials?: RegistryCredentials): Promise<Manifest> {
  const scheme = isInsecureRegistry(ref.registry) ? 'http' : 'https';
  const url = `${scheme}://${ref.registry}/v2/${ref.repository}/manifests/${ref.digest ?? ref.tag ?? 'latest'}`;
  const name = formatImageRef(ref);
  let response = await get(guard, url);
  if (response.status === 401) {
    const challenge = response.header('www-authenticate') ?? null;
    const bearer = bearerChallenge(challenge);
    if (bearer) response = await get(guard, url, `Bearer ${await registryToken(guard, bearer, ref, credentials)}`);
    else if (credentials && /^Basic\s/i.test(challenge ?? '')) response = await get(guard, url, basicAuth(credentials));
  }
  if (response.status === 404) throw new ImageNotFoundError(`image ${name} not found in registry ${ref.registry}`);
  if (response.status === 401 || response.status === 403) throw new ImageNotFoundError(`registry ${ref.registry} refused access to ${ref.repository}`);
  if (response.status !== 200) throw new Error(`registry ${ref.registry} could not serve ${name}`);
  const digest = `sha256:${createHash('sha256').update(response.body).digest('hex')}`;
  const named = response.header('docker-content-digest');
  if (named && named !== digest) {
    throw new ImageDigestMismatchError(`registry ${ref.registry} served a manifest for ${name} that does not match the digest it named`);
  }
  if (ref.digest && ref.digest !== digest) throw new ImageDigestMismatchError(`registry ${ref.registry} served a manifest for ${name} with another digest`);
  return { digest, mediaType: response.header('content-type'), body: response.body };
}

/** Tag → digest (or a digest checked to be served), pinning what a job will run. */
export async function resolveDigest(guard: OutboundGuard, ref: ImageRef, credentials?: RegistryCredentials): Promise<string> {
  return (await fetchManifest(guard, ref, credentials)).digest;
}

function get(guard: OutboundGuard, url: string, authorization?: string): Promise<GuardedResponse> {
  const headers: Record<string, string> = { Accept: MANIFEST_ACCEPT, ...(authorization ? { Authorization: authorization } : {}) };
  return guard.fetch(url, { headers, maxBytes: MAX_MANIFEST_BYTES });
}

export interface BearerChallenge {
  realm: string;
  service?: string;
  scope?: string;
}

/** Parses `WWW-Authenticate: Bearer realm="…",service="…",scope="…"`; undefined for any other scheme. */
export function bearerChallenge(header: string | null): BearerChallenge | undefined {
  if (!header || !/^Bearer\s/i.test(header)) return undefined;
  const params: Record<string, string> = {};
  for (const [, key, value] of header.matchAll(/(\w+)="([^"]*)"/g)) params[key.toLowerCase()] = value;
  if (!params.realm) return undefined;
  return { realm: params.realm, service: params.service, scope: params.scope };
}

function basicAuth({ username, password }: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/**
 * Asks the registry's token service for a pull token: anonymous for public images, else with the
 * job's credentials. The registry names the service, so it goes through the guard like the registry.
 */
async function registryToken(guard: OutboundGuard, challenge: BearerChallenge, ref: ImageRef, credentials?: RegistryCredentials): Promise<string> {
  const url = new URL(challenge.realm);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isInsecureRegistry(url.host))) {
    throw new Error(`registry ${ref.registry} named a token service over plain HTTP: ${url.origin}`);
  }
  if (challenge.service) url.searchParams.set('service', challenge.service);
  url.searchParams.set('scope', challenge.scope ?? `repository:${ref.repository}:pull`);
  const headers: Record<string, string> = credentials ? { Authorization: basicAuth(credentials) } : {};
  const response = await guard.fetch(url, { headers, maxBytes: MAX_TOKEN_BYTES });
  if (response.status !== 200) throw new ImageNotFoundError(`registry ${ref.registry} refused a token for ${ref.repository}`);
  let token: string | undefined;
  try {
    const body = JSON.parse(response.body.toString('utf8')) as { token?: string; access_token?: string };
    token = body.token ?? body.access_token;
  } catch {
    // Handled below: an unreadable answer is no token.
  }
  if (!token) throw new Error(`registry ${ref.registry}'s token service answered without a token`);
  return token;
}
