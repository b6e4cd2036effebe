import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isInsecureRegistry } from '../common/image-ref';
import { logger } from '../common/logger';
import type { RegistryCredentials } from '../common/schemas';
import { fetchManifest, ImageDigestMismatchError, type Manifest } from '../net/oci-registry';
import { startGuardedProxy } from '../net/guarded-proxy';
import type { OutboundGuard } from '../net/outbound';
import { CommandError, runTool } from './process';

export interface ImageConfig {
  entrypoint: string[];
  cmd: string[];
  env: Record<string, string>;
  workingDir: string;
}

export interface CachedImage {
  digest: string;
  /**
   * What the cache holds the image under: where it came from (registry, repository) and its digest.
   * Executors key anything they derive from the image by it, so nothing crosses between sources.
   */
  key: string;
  /** Unpacked root filesystem, shared by every job of this image from this source: read-only by contract. */
  rootfs: string;
  config: ImageConfig;
}

export interface ImageLocation {
  registry: string;
  repository: string;
  digest: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * Pulls images by digest (skopeo → OCI layout → umoci unpack) into a cache keyed by source and
 * digest. A digest names immutable content, so a cached unpack never goes stale; concurrent pulls of
 * one image race harmlessly to a rename and one wins.
 *
 * Tenants share runners, so a digest alone proves nothing about who may run it: every job, cache
 * hit or not, first shows that its own registry, repository and credentials serve the digest (the
 * manifest fetched through the outbound guard and hashed here), and the cache is keyed by
 * registry + repository + digest so one source's unpack is never handed to a job naming another.
 */
export class ImageCache {
  constructor(
    private readonly dir: string,
    private readonly outbound: OutboundGuard,
  ) {}

  /**
   * The image, pulled if this host has not got it from this source yet. Credentials, when the
   * registry needs them, reach skopeo through a 0600 auth file in a private work directory, never a
   * command line.
   */
  async ensure(image: ImageLocation, credentials?: RegistryCredentials): Promise<CachedImage> {
    if (!DIGEST.test(image.digest)) throw new ImageDigestMismatchError(`refusing to pull "${image.digest}": not a sha256 digest`);
    const manifest = await fetchManifest(this.outbound, image, credentials);
    const key = imageKey(image);
    const bundle = join(this.dir, 'by-source', key);
    if (!existsSync(join(bundle, 'image-config.json'))) await this.pull(image, manifest, bundle, credentials);
    const config: ImageConfig = JSON.parse(await readFile(join(bundle, 'image-config.json'), 'utf8'));
    return { digest: image.digest, key, rootfs: join(bundle, 'rootfs'), config };
  }

  private async pull(image: ImageLocation, manifest: Manifest, bundle: string, credentials?: RegistryCredentials): Promise<void> {
    const work = join(this.dir, 'tmp', `${image.digest.slice(7, 19)}-${randomBytes(4).toString('hex')}`);
    await mkdir(work, { recursive: true, mode: 0o700 });
    try {
      const tls = isInsecureRegistry(image.registry) ? ['--src-tls-verify=false'] : [];
      const auth = credentials ? ['--src-authfile', await writeAuthFile(join(work, 'auth.json'), image.registry, credentials)] : [];
      const source = `docker://${image.registry}/${image.repository}@${image.digest}`;
      // ensure() fetched the manifest through the guard, so a refused registry never gets here; every
      // host skopeo contacts (the registry, its token service, blob redirects) then goes through the
      // guarded proxy, resolved once, checked and pinned there.
      const proxy = await startGuardedProxy(this.outbound);
      try {
        await runTool('skopeo', ['copy', '--quiet', ...tls, ...auth, source, `oci:${work}/layout:image`], { env: proxy.env });
      } catch (err) {
        if (!(err instanceof CommandError)) throw err;
        // skopeo's stderr quotes what the registry answered: logs only, the job gets a plain message.
        logger.warn({ image: source, stderr: err.stderr }, 'image pull failed');
        throw new Error(`could not pull ${image.registry}/${image.repository}@${image.digest}`);
      } finally {
        await proxy.close();
      }
      await verifyLayout(join(work, 'layout'), image.digest, manifest);
      await runTool('umoci', ['unpack', '--image', `${work}/layout:image`, `${work}/bundle`]);
      const config = await readImageConfig(join(work, 'layout'));
      await writeFile(join(work, 'bundle', 'image-config.json'), JSON.stringify(config));
      await mkdir(join(this.dir, 'by-source'), { recursive: true });
      await rename(join(work, 'bundle'), bundle).catch((err) => {
        if (!existsSync(join(bundle, 'image-config.json'))) throw err;
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
}

/** The cache key: sha256 over registry, repository and digest (NUL-separated, so no two sources collide). */
export function imageKey(image: ImageLocation): string {
  return createHash('sha256').update(`${image.registry}\0${image.repository}\0${image.digest}`).digest('hex');
}

/**
 * What skopeo wrote must be what was asked for: the manifest of that digest, or (for an index, of
 * which skopeo copies this platform's image) one the verified index lists.
 */
async function verifyLayout(layout: string, digest: string, manifest: Manifest): Promise<void> {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const pulled = index.manifests[0]?.digest;
  if (pulled === digest) return;
  let listed: { digest?: string }[] = [];
  try {
    listed = (JSON.parse(manifest.body.toString('utf8')) as { manifests?: { digest?: string }[] }).manifests ?? [];
  } catch {
    // Not JSON: nothing is listed, so nothing but the digest itself matches.
  }
  if (!pulled || !listed.some((m) => m.digest === pulled)) throw new ImageDigestMismatchError(`the pulled image is not ${digest}`);
}

/** A containers-auth.json holding one registry's credentials, readable by this user only. */
async function writeAuthFile(path: string, registry: string, { username, password }: RegistryCredentials): Promise<string> {
  const auth = Buffer.from(`${username}:${password}`).toString('base64');
  await writeFile(path, JSON.stringify({ auths: { [registry]: { auth } } }), { mode: 0o600 });
  return path;
}

/** Reads Entrypoint, Cmd, Env and WorkingDir from an OCI layout's (single) image config. */
async function readImageConfig(layout: string): Promise<ImageConfig> {
  const blob = async (digest: string) => JSON.parse(await readFile(join(layout, 'blobs', ...digest.split(':')), 'utf8'));
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  const manifest = await blob(index.manifests[0].digest);
  const { config = {} } = await blob(manifest.config.digest);
  const env: Record<string, string> = {};
  for (const entry of (config.Env ?? []) as string[]) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return { entrypoint: config.Entrypoint ?? [], cmd: config.Cmd ?? [], env, workingDir: config.WorkingDir || '/' };
}

/** Docker's rule: the job's entrypoint replaces the image's (and drops its cmd); the job's cmd replaces the image's cmd. */
export function resolveArgv(image: ImageConfig, entrypoint: string[] | undefined, cmd: string[] | undefined): string[] {
  if (entrypoint) return [...entrypoint, ...(cmd ?? [])];
  return [...image.entrypoint, ...(cmd ?? image.cmd)];
}
