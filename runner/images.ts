import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { logger } from '../common/logger';
import type { RegistryCredentials } from '../common/schemas';
import { ImageDigestMismatchError, isImageRefusal, RegistryClient, type Manifest } from '../net/oci-registry';
import { OutboundError, type OutboundGuard } from '../net/outbound';
import { LAYOUT_TAG, pullImageLayout } from './oci-pull';
import { runTool } from './process';

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
 * A pull work dir no live runner on this host owns, untouched this long, is a leftover: one from
 * another container (another host name, whose pids mean nothing here) or from before work dirs were
 * named by owner. No pull takes a day.
 */
const FOREIGN_WORK_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/**
 * Pulls images by digest (registry → OCI layout, every connection through the outbound guard, see
 * oci-pull.ts → umoci unpack) into a cache keyed by source and digest. A digest names immutable
 * content, so a cached unpack never goes stale; concurrent pulls of one image race harmlessly to a
 * rename and one wins.
 *
 * Tenants share runners, so a digest alone proves nothing about who may run it: every job, cache
 * hit or not, first shows that its own registry, repository and credentials serve the digest (the
 * manifest fetched through the outbound guard and hashed on this side, net/oci-registry.ts), and the cache is keyed by
 * registry + repository + digest so one source's unpack is never handed to a job naming another.
 */
export class ImageCache {
  /**
   * This process's pulls work under tmp/<host name>.<pid>: runners on one host share the cache, and
   * the name tells a crashed runner's half-finished pulls from a live one's.
   */
  private readonly work: string;
  /** Configs of the unpacks this process has used, by cache key. */
  private readonly configs = new Map<string, ImageConfig>();

  constructor(
    private readonly dir: string,
    private readonly outbound: OutboundGuard,
  ) {
    this.work = join(dir, 'tmp', workOwner());
  }

  /**
   * Run once at start, before any pull: removes what earlier runs left behind, and returns it
   * (relative to the cache). Pull work dirs of processes on this host that are gone (a live runner's
   * are left alone; any other once untouched for a day), and bundles/, the digest-keyed unpacks from
   * before the by-source layout, which no runner reads any more.
   */
  async removeLeftovers(): Promise<string[]> {
    const tmp = join(this.dir, 'tmp');
    const leftovers: string[] = [];
    for (const name of await entries(tmp)) {
      if (await isLeftoverWork(join(tmp, name), name)) leftovers.push(join('tmp', name));
    }
    if (existsSync(join(this.dir, 'bundles'))) leftovers.push('bundles');
    for (const path of leftovers) await rm(join(this.dir, path), { recursive: true, force: true });
    return leftovers;
  }

  /**
   * The image, pulled if this host has not got it from this source yet, with the job's credentials
   * (they go to the registry only, never to a host it redirects a download to).
   */
  async ensure(image: ImageLocation, credentials?: RegistryCredentials): Promise<CachedImage> {
    if (!DIGEST.test(image.digest)) throw new ImageDigestMismatchError(`refusing to pull "${image.digest}": not a sha256 digest`);
    const registry = new RegistryClient(this.outbound, image.registry, image.repository, credentials);
    const manifest = await registry.manifest(image.digest);
    const key = imageKey(image);
    const bundle = join(this.dir, 'by-source', key);
    let config: ImageConfig | undefined;
    if (!existsSync(join(bundle, 'image-config.json'))) config = await this.pull(registry, manifest, bundle);
    // An unpack never changes once renamed into place: read its config once per process, not per job.
    config ??= this.configs.get(key) ?? (JSON.parse(await readFile(join(bundle, 'image-config.json'), 'utf8')) as ImageConfig);
    this.configs.set(key, config);
    return { digest: image.digest, key, rootfs: join(bundle, 'rootfs'), config };
  }

  /** The pulled image's config (the same one written to the bundle's image-config.json). */
  private async pull(registry: RegistryClient, manifest: Manifest, bundle: string): Promise<ImageConfig> {
    const work = join(this.work, `${manifest.digest.slice(7, 19)}-${randomBytes(4).toString('hex')}`);
    const name = `${registry.registry}/${registry.repository}@${manifest.digest}`;
    await mkdir(work, { recursive: true, mode: 0o700 });
    try {
      try {
        await pullImageLayout(registry, manifest, join(work, 'layout'));
      } catch (err) {
        // What the registry (or a host it redirected to) did is for the log; the job gets the
        // refusal's own message (which names the registry only) or a plain one.
        logger.warn({ image: name, err: (err as Error).message, detail: err instanceof OutboundError ? err.detail : undefined }, 'image pull failed');
        if (isImageRefusal(err)) throw err;
        throw new Error(`could not pull ${name}`);
      }
      await runTool('umoci', ['unpack', '--image', `${work}/layout:${LAYOUT_TAG}`, `${work}/bundle`]);
      const config = await readImageConfig(join(work, 'layout'));
      await writeFile(join(work, 'bundle', 'image-config.json'), JSON.stringify(config));
      await mkdir(join(this.dir, 'by-source'), { recursive: true });
      await rename(join(work, 'bundle'), bundle).catch((err) => {
        if (!existsSync(join(bundle, 'image-config.json'))) throw err;
      });
      return config;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
}

function workOwner(): string {
  return `${hostname()}.${process.pid}`;
}

async function entries(dir: string): Promise<string[]> {
  return readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
}

/** Whether tmp/<name> is no live pull's: its owner on this host is gone, or it is not ours to judge and has lain a day. */
async function isLeftoverWork(path: string, name: string): Promise<boolean> {
  const dot = name.lastIndexOf('.');
  const pid = Number(name.slice(dot + 1));
  if (dot > 0 && name.slice(0, dot) === hostname() && Number.isInteger(pid) && pid > 0) {
    return pid !== process.pid && !isAlive(pid);
  }
  const { mtimeMs } = await stat(path);
  return Date.now() - mtimeMs > FOREIGN_WORK_MAX_AGE_MS;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The cache key: sha256 over registry, repository and digest (NUL-separated, so no two sources collide). */
export function imageKey(image: ImageLocation): string {
  return createHash('sha256').update(`${image.registry}\0${image.repository}\0${image.digest}`).digest('hex');
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
