import { formatImageRef, isInsecureRegistry, type ImageRef } from '../common/image-ref';
import type { RegistryCredentials } from '../common/schemas';

/** Manifest media types a registry may answer a tag with: OCI and Docker, single images and indexes. */
const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

const TIMEOUT_MS = 15000;

export class ImageNotFoundError extends Error {}

/**
 * Tag → digest through the OCI distribution API (`HEAD /v2/<name>/manifests/<tag>`). A reference that
 * already carries a digest is checked to exist the same way. Registries that want a token (Docker
 * Hub, GHCR…) get the distribution spec's anonymous bearer-token handshake.
 */
export async function resolveDigest(ref: ImageRef, credentials?: RegistryCredentials): Promise<string> {
  const scheme = isInsecureRegistry(ref.registry) ? 'http' : 'https';
  const url = `${scheme}://${ref.registry}/v2/${ref.repository}/manifests/${ref.digest ?? ref.tag ?? 'latest'}`;
  let response = await head(url);
  if (response.status === 401) {
    const challenge = response.headers.get('www-authenticate');
    const bearer = bearerChallenge(challenge);
    if (bearer) response = await head(url, `Bearer ${await registryToken(bearer, ref, credentials)}`);
    else if (credentials && /^Basic\s/i.test(challenge ?? '')) response = await head(url, basicAuth(credentials));
  }
  if (response.status === 404) throw new ImageNotFoundError(`image ${formatImageRef(ref)} not found in registry ${ref.registry}`);
  if (response.status === 401 || response.status === 403) {
    throw new ImageNotFoundError(`registry ${ref.registry} refused access to ${ref.repository} (HTTP ${response.status})`);
  }
  if (!response.ok) throw new Error(`registry ${ref.registry} answered HTTP ${response.status} for ${formatImageRef(ref)}`);
  const digest = response.headers.get('docker-content-digest');
  if (!digest) throw new Error(`registry ${ref.registry} gave no Docker-Content-Digest for ${formatImageRef(ref)}`);
  return digest;
}

/** The registry host is the user's choice: never follow it elsewhere, never wait on it forever. */
function head(url: string, authorization?: string): Promise<Response> {
  const headers: Record<string, string> = { Accept: MANIFEST_ACCEPT, ...(authorization ? { Authorization: authorization } : {}) };
  return fetch(url, { method: 'HEAD', headers, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
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

/** Asks the registry's token service for a pull token: anonymous for public images, else with the job's credentials. */
async function registryToken(challenge: BearerChallenge, ref: ImageRef, credentials?: RegistryCredentials): Promise<string> {
  const url = new URL(challenge.realm);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isInsecureRegistry(url.host))) {
    throw new Error(`registry ${ref.registry} named a token service over plain HTTP: ${url.origin}`);
  }
  if (challenge.service) url.searchParams.set('service', challenge.service);
  url.searchParams.set('scope', challenge.scope ?? `repository:${ref.repository}:pull`);
  const headers: Record<string, string> = credentials ? { Authorization: basicAuth(credentials) } : {};
  const response = await fetch(url, { headers, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!response.ok) throw new ImageNotFoundError(`registry ${ref.registry} refused a token for ${ref.repository} (HTTP ${response.status})`);
  const body = (await response.json()) as { token?: string; access_token?: string };
  const token = body.token ?? body.access_token;
  if (!token) throw new Error(`registry ${ref.registry}'s token service answered without a token`);
  return token;
}
