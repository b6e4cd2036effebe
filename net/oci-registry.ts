import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { formatImageRef, type ImageRef } from '../common/image-ref';
import type { RegistryCredentials } from '../common/schemas';
import { OutboundError, type GuardedRequest, type GuardedResponse, type GuardedStream, type OutboundGuard } from './outbound';

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

/** The registry serves something that is not a runnable image (an unknown manifest or layer kind): refused. */
export class ImageFormatError extends Error {}

/**
 * Failures retrying will not change (not served, digest mismatch, not an image, destination refused, redirect,
 * oversized answer): the job fails with the message. An unreachable registry is worth retrying.
 */
export function isImageRefusal(err: unknown): err is Error {
  return err instanceof ImageNotFoundError || err instanceof ImageDigestMismatchError || err instanceof ImageFormatError || (err instanceof OutboundError && err.failure !== 'unreachable');
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
export function fetchManifest(guard: OutboundGuard, ref: ImageRef, credentials?: RegistryCredentials, timeoutMs?: number): Promise<Manifest> {
  return new RegistryClient(guard, ref.registry, ref.repository, credentials, timeoutMs).manifest(ref.digest ?? ref.tag ?? 'latest', formatImageRef(ref));
}

/** Tag → digest (or a digest checked to be served), pinning what a job will run; `timeoutMs` bounds each request. */
export async function resolveDigest(guard: OutboundGuard, ref: ImageRef, credentials?: RegistryCredentials, timeoutMs?: number): Promise<string> {
  return (await fetchManifest(guard, ref, credentials, timeoutMs)).digest;
}

/** A content descriptor from a manifest: what a blob must hash to and how long it is. */
export interface BlobDescriptor {
  digest: string;
  size: number;
}

/** Redirects a blob download may take (registry → CDN, sometimes one more hop at the CDN). */
const MAX_BLOB_REDIRECTS = 5;
/** A layer download's whole exchange; its size is bounded by the manifest's descriptor. */
const BLOB_TIMEOUT_MS = 30 * 60 * 1000;

/**
 * One repository of one registry, as one caller with one set of credentials sees it: the
 * authorization a first 401 earned is kept for its later requests (and earned again on a 401, as a
 * token expires during a long pull). Every connection, blob redirects included, goes through `guard`.
 */
export class RegistryClient {
  private readonly base: URL;
  private authorization?: string;

  constructor(
    private readonly guard: OutboundGuard,
    readonly registry: string,
    readonly repository: string,
    private readonly credentials?: RegistryCredentials,
    /** Deadline of each manifest and token request (the guard's default when unset); blob downloads have their own. */
    private readonly timeoutMs?: number,
  ) {
    this.base = new URL(`${guard.isInsecureRegistry(registry) ? 'http' : 'https'}://${registry}/v2/${repository}/`);
  }

  /** The manifest `reference` (tag or digest) names; `name` is how messages call the image. */
  async manifest(reference: string, name = `${this.registry}/${this.repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`): Promise<Manifest> {
    const response = await this.fetch(`manifests/${reference}`, { headers: { Accept: MANIFEST_ACCEPT }, maxBytes: MAX_MANIFEST_BYTES, timeoutMs: this.timeoutMs });
    const { registry } = this;
    if (response.status === 404) throw new ImageNotFoundError(`image ${name} not found in registry ${registry}`);
    if (response.status === 401 || response.status === 403) throw new ImageNotFoundError(`registry ${registry} refused access to ${this.repository}`);
    if (response.status !== 200) throw new Error(`registry ${registry} could not serve ${name}`);
    const digest = `sha256:${createHash('sha256').update(response.body).digest('hex')}`;
    const named = response.header('docker-content-digest');
    if (named && named !== digest) {
      throw new ImageDigestMismatchError(`registry ${registry} served a manifest for ${name} that does not match the digest it named`);
    }
    if (reference.startsWith('sha256:') && reference !== digest) throw new ImageDigestMismatchError(`registry ${registry} served a manifest for ${name} with another digest`);
    return { digest, mediaType: response.header('content-type'), body: response.body };
  }

  /**
   * Streams the blob `descriptor` names into a new file at `path` and checks it: exactly its size
   * (reads stop there) and its sha256. Registries redirect blob downloads to CDNs, so redirects are
   * followed here, and only here: a bounded number, never from https to http, each hop resolved,
   * checked and pinned by the guard, and the registry's authorization sent to the registry only.
   * A refused hop is a refusal that names the registry, never where it pointed.
   */
  async blob(descriptor: BlobDescriptor, path: string): Promise<void> {
    const request: GuardedRequest = { redirect: 'manual', maxBytes: descriptor.size, timeoutMs: BLOB_TIMEOUT_MS };
    let url = new URL(`blobs/${descriptor.digest}`, this.base);
    let response = await this.stream(url, request);
    for (let hops = 0; response.status >= 300 && response.status < 400; hops++) {
      const location = response.header('location');
      let next: URL | undefined;
      try {
        next = new URL(location ?? '', url);
      } catch {
        // Handled below: no usable location is no hop.
      }
      const downgrade = next && next.protocol !== 'https:' && url.protocol === 'https:';
      if (!next || downgrade || hops === MAX_BLOB_REDIRECTS) {
        throw new OutboundError('refused', `registry ${this.registry} redirected a download to a destination that is not allowed`, `HTTP ${response.status} to ${location}`);
      }
      url = next;
      response = await this.stream(url, request);
    }
    if (response.status !== 200) {
      response.body.destroy();
      throw new OutboundError('unreachable', `registry ${this.registry} could not serve ${this.repository}@${descriptor.digest}`, `HTTP ${response.status} from ${url.host}`);
    }
    const hash = createHash('sha256');
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    await pipeline(response.body, tap, createWriteStream(path, { flags: 'wx', mode: 0o600 })).catch((err) => {
      throw this.hopError(url, err);
    });
    const digest = `sha256:${hash.digest('hex')}`;
    if (digest !== descriptor.digest || size !== descriptor.size) {
      throw new ImageDigestMismatchError(`registry ${this.registry} served content for ${this.repository}@${descriptor.digest} that does not match its digest`);
    }
  }

  /** A request to the registry, read whole, answering a 401 with the handshake it asks for. */
  private async fetch(path: string, request: GuardedRequest): Promise<GuardedResponse> {
    const url = new URL(path, this.base);
    let response = await this.guard.fetch(url, this.authorized(url, request));
    if (response.status === 401 && (await this.authorize(response.header('www-authenticate')))) response = await this.guard.fetch(url, this.authorized(url, request));
    return response;
  }

  /** One hop of a blob download, streamed; at the registry, a 401 gets the handshake as in fetch(). */
  private async stream(url: URL, request: GuardedRequest): Promise<GuardedStream> {
    try {
      let response = await this.guard.stream(url, this.authorized(url, request));
      if (response.status === 401 && url.origin === this.base.origin) {
        response.body.destroy();
        if (await this.authorize(response.header('www-authenticate'))) response = await this.guard.stream(url, this.authorized(url, request));
      }
      return response;
    } catch (err) {
      throw this.hopError(url, err);
    }
  }

  /** The registry's authorization goes to the registry only: a CDN's presigned URL carries its own. */
  private authorized(url: URL, request: GuardedRequest): GuardedRequest {
    if (!this.authorization || url.origin !== this.base.origin) return request;
    return { ...request, headers: { ...request.headers, Authorization: this.authorization } };
  }

  /** Earns the authorization a 401's challenge asks for; false when there is none to earn. */
  private async authorize(challenge: string | undefined): Promise<boolean> {
    const bearer = bearerChallenge(challenge ?? null);
    if (bearer) this.authorization = `Bearer ${await registryToken(this.guard, bearer, this, this.credentials, this.timeoutMs)}`;
    else if (this.credentials && /^Basic\s/i.test(challenge ?? '')) this.authorization = basicAuth(this.credentials);
    else return false;
    return true;
  }

  /**
   * A failure at a host the registry redirected to, told as the registry's: the user named the
   * registry, not that host (which goes to the log detail).
   */
  private hopError(url: URL, err: unknown): unknown {
    if (url.origin === this.base.origin) return err;
    return retold(err, url, (refused) => `registry ${this.registry} redirected a download to ${refused ? 'a destination that is not allowed' : 'a destination that failed'}`);
  }
}

/**
 * The guard's error for `url`, a host the registry chose (a redirect hop, a token service), told as the
 * registry's: the guard's message names that host, so it moves to the log detail with the failure kept
 * (a refusal stays final, an unreachable host stays worth retrying).
 */
function retold(err: unknown, url: URL, message: (refused: boolean) => string): unknown {
  if (!(err instanceof OutboundError)) return err;
  return new OutboundError(err.failure, message(err.failure === 'refused'), `${url.host}: ${err.message}${err.detail ? ` (${err.detail})` : ''}`);
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
async function registryToken(guard: OutboundGuard, challenge: BearerChallenge, ref: { registry: string; repository: string }, credentials?: RegistryCredentials, timeoutMs?: number): Promise<string> {
  // The realm is the registry's choice, never the user's: refusals and failures name the registry,
  // and the realm goes to the log detail only. A refusal is final (isImageRefusal), as for the registry itself.
  const refusal = `registry ${ref.registry} named a token service that is not allowed`;
  const notAllowed = (detail: string) => new OutboundError('refused', refusal, detail);
  let url: URL;
  try {
    url = new URL(challenge.realm);
  } catch {
    throw notAllowed(`unparsable realm ${JSON.stringify(challenge.realm)}`);
  }
  // Plain HTTP would send the job's credentials in the clear: only where the registry itself may be spoken to so.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && guard.isInsecureRegistry(url.host))) throw notAllowed(`plain HTTP: ${url.origin}`);
  if (challenge.service) url.searchParams.set('service', challenge.service);
  url.searchParams.set('scope', challenge.scope ?? `repository:${ref.repository}:pull`);
  const headers: Record<string, string> = credentials ? { Authorization: basicAuth(credentials) } : {};
  const response = await guard.fetch(url, { headers, maxBytes: MAX_TOKEN_BYTES, timeoutMs }).catch((err: unknown) => {
    throw retold(err, url, (refused) => (refused ? refusal : `registry ${ref.registry}'s token service failed`));
  });
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
