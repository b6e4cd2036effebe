/**
 * OCI image references: `[registry/]repository[:tag][@sha256:digest]`, as `docker pull` reads them.
 */
export interface ImageRef {
  /** host[:port] of the registry, e.g. `127.0.0.1:5000` or `registry-1.docker.io`. */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

export class ImageRefError extends Error {}

export function parseImageRef(input: string): ImageRef {
  let rest = input.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new ImageRefError(`"${input}": digest must be sha256:<64 hex>`);
  }
  let registry = 'registry-1.docker.io';
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  // As docker does: the first component is a registry host when it has a dot, a port, or is localhost.
  if (first && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    rest = rest.slice(slash + 1);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new ImageRefError(`"${input}": invalid tag "${tag}"`);
  }
  if (registry === 'registry-1.docker.io' && !rest.includes('/')) rest = `library/${rest}`;
  if (!REPOSITORY.test(rest)) throw new ImageRefError(`"${input}": invalid repository name "${rest}"`);
  if (!tag && !digest) tag = 'latest';
  return { registry, repository: rest, tag, digest };
}

export function formatImageRef(ref: ImageRef): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}
