/**
 * Pulls one image by digest into an OCI image layout (for `umoci unpack`), every byte through the
 * outbound guard: the registry client fetches manifests and blobs by digest, follows blob redirects
 * hop by hop through the guard, and checks each blob's size and sha256 against its descriptor.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ImageFormatError, ImageNotFoundError, type BlobDescriptor, type Manifest, type RegistryClient } from '../net/oci-registry';

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
/** Docker schema 2 media types → their OCI twins (what skopeo's conversion writes; umoci reads OCI only). */
const DOCKER_TO_OCI: Record<string, string> = {
  'application/vnd.docker.container.image.v1+json': OCI_CONFIG,
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.docker.image.rootfs.diff.tar': 'application/vnd.oci.image.layer.v1.tar',
};
/** Upper bound on one blob, whatever its descriptor claims: reads stop at the descriptor's size. */
const MAX_BLOB_BYTES = 16 * 1024 ** 3;
/** Upper bound on a whole image (config and layers, as their descriptors add up), checked before any download. */
const MAX_IMAGE_BYTES = 32 * 1024 ** 3;
/** Layers downloaded at once. */
const PARALLEL_BLOBS = 3;
/** The tag the layout's index.json gives the image; the caller unpacks `<layout>:image`. */
export const LAYOUT_TAG = 'image';

const descriptor = z.object({
  mediaType: z.string(),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  size: z.number().int().nonnegative().max(MAX_BLOB_BYTES),
});
const imageManifest = z.object({ schemaVersion: z.literal(2), mediaType: z.string().optional(), config: descriptor, layers: z.array(descriptor) });
const imageIndex = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(descriptor.extend({ platform: z.object({ os: z.string(), architecture: z.string() }).optional() })),
});

/** The runner's platform as image indexes name it. */
const PLATFORM = { os: 'linux', architecture: process.arch === 'x64' ? 'amd64' : process.arch };

interface ImageManifest {
  /** The verified bytes' digest, and those bytes. */
  digest: string;
  body: Buffer;
  docker: boolean;
  config: BlobDescriptor & { mediaType: string };
  layers: (BlobDescriptor & { mediaType: string })[];
}

/**
 * Writes the image that `manifest` (fetched through `client` and verified against the digest asked
 * for) names into a new OCI layout at `layout`: for an index, this platform's image, fetched by the
 * digest the index lists. A Docker schema 2 manifest is written as the OCI manifest of the same config
 * and layers (umoci reads OCI only; skopeo converted the same way): the registry's bytes were verified,
 * the rewrite is ours.
 */
export async function pullImageLayout(client: RegistryClient, manifest: Manifest, layout: string): Promise<void> {
  const image = await platformManifest(client, manifest);
  const blobs = join(layout, 'blobs', 'sha256');
  const blobPath = (digest: string) => join(blobs, digest.slice('sha256:'.length));
  await mkdir(blobs, { recursive: true });
  const pending = [image.config, ...image.layers].filter((d, i, all) => all.findIndex((o) => o.digest === d.digest) === i);
  if (pending.reduce((total, d) => total + d.size, 0) > MAX_IMAGE_BYTES) {
    throw new ImageFormatError(`image ${client.registry}/${client.repository}@${manifest.digest} is larger than this runner accepts (${MAX_IMAGE_BYTES} bytes)`);
  }
  // After a failure no new download starts, and the ones under way finish before the caller cleans up.
  let failed = false;
  const worker = async () => {
    for (let next = pending.shift(); next && !failed; next = pending.shift()) {
      await client.blob(next, blobPath(next.digest)).catch((err) => {
        failed = true;
        throw err;
      });
    }
  };
  const outcomes = await Promise.allSettled(Array.from({ length: PARALLEL_BLOBS }, worker));
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failure) throw failure.reason;

  let { digest, body } = image;
  if (image.docker) {
    const oci = (d: BlobDescriptor & { mediaType: string }) => {
      const mediaType = DOCKER_TO_OCI[d.mediaType];
      if (!mediaType) throw new ImageFormatError(`image ${client.registry}/${client.repository}@${manifest.digest} has a part of a kind that cannot be run (${d.mediaType})`);
      return { mediaType, digest: d.digest, size: d.size };
    };
    body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: oci(image.config), layers: image.layers.map(oci) }));
    digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  }
  await writeFile(blobPath(digest), body);
  await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const entry = { mediaType: OCI_MANIFEST, digest, size: body.length, annotations: { 'org.opencontainers.image.ref.name': LAYOUT_TAG } };
  await writeFile(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [entry] }));
}

/** The image manifest `manifest` is, or for an index the one it lists for this platform (fetched and verified by its digest). */
async function platformManifest(client: RegistryClient, manifest: Manifest): Promise<ImageManifest> {
  const name = `${client.registry}/${client.repository}@${manifest.digest}`;
  const unsupported = () => new ImageFormatError(`image ${name} is not an image manifest or index that can be run`);
  const parse = (m: Manifest) => {
    let json: { mediaType?: unknown };
    try {
      json = JSON.parse(m.body.toString('utf8'));
    } catch {
      throw unsupported();
    }
    // The document's own mediaType is the one its digest covers; the header is the registry's word.
    const type = typeof json.mediaType === 'string' ? json.mediaType : m.mediaType?.split(';')[0].trim();
    return { json, type };
  };
  let { json, type } = parse(manifest);
  let chosen = manifest;
  if (type === OCI_INDEX || type === DOCKER_LIST) {
    const index = imageIndex.safeParse(json);
    if (!index.success) throw unsupported();
    const entry = index.data.manifests.find((m) => m.platform?.os === PLATFORM.os && m.platform.architecture === PLATFORM.architecture);
    if (!entry) throw new ImageNotFoundError(`image ${name} has no ${PLATFORM.os}/${PLATFORM.architecture} variant`);
    chosen = await client.manifest(entry.digest);
    ({ json, type } = parse(chosen));
  }
  if (type !== OCI_MANIFEST && type !== DOCKER_MANIFEST) throw unsupported();
  const parsed = imageManifest.safeParse(json);
  if (!parsed.success) throw unsupported();
  return { digest: chosen.digest, body: chosen.body, docker: type === DOCKER_MANIFEST, config: parsed.data.config, layers: parsed.data.layers };
}
