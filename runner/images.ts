import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
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
  /**
   * Ends this job's use of the rootfs (its in-use marker goes), so eviction may take the entry.
   * Call it once the executor is done with the rootfs; a process that dies without calling it
   * releases by dying (its marker names its pid).
   */
  release(): Promise<void>;
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
 * Default budget for the unpacked images: 20 GiB holds a few dozen typical benchmark images (a few
 * hundred MiB each) and still fits beside the OS and job scratch on a modest benchmark host's disk.
 */
export const DEFAULT_IMAGE_CACHE_MAX_BYTES = 20 * 1024 ** 3;

/*
 * An entry, by-source/<key>/, holds besides rootfs/ and image-config.json:
 *  - size: the unpack's bytes, counted once at pull time (summing these never re-walks a rootfs);
 *  - last-used: its mtime is the last ensure() of the entry by any process sharing the cache;
 *  - in-use/<host>.<pid>.<nonce>: one per job using the rootfs right now (gone on release; a dead
 *    pid's counts as released);
 *  - evicting/<host>.<pid>.<nonce>: an evictor about to take the entry away.
 * A user writes its in-use marker and then looks for evicting ones; an evictor writes its evicting
 * marker and then looks for in-use ones. Whichever comes second sees the other and backs off, so
 * no entry is renamed away under a job (and two evictors race harmlessly to one atomic rename).
 */
const SIZE_FILE = 'size';
const LAST_USED_FILE = 'last-used';
const IN_USE_DIR = 'in-use';
const EVICTING_DIR = 'evicting';
/** How long a user waits before looking again at an entry an evictor holds (a readdir and a rename). */
const EVICTION_RETRY_MS = 50;
/** A marker from another host's runner (its pid means nothing here) counts this long: no job takes a week. */
const FOREIGN_MARKER_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
/**
 * An evictor's claim is one rename away from done: past this age it is a leftover (a crash, or a
 * container restarted with the same host name and pid), whoever it names, and users ignore it.
 */
const EVICTING_CLAIM_MAX_AGE_MS = 10 * 60 * 1000;
/** How many times ensure() looks again at an entry an evictor holds before giving the job up (retryable). */
const ENSURE_MAX_TRIES = 200;

export interface ImageCacheOptions {
  /** Total bytes of unpacked images the cache keeps; least recently used entries go beyond it. */
  maxBytes?: number;
  /** Called with each evicted entry's key, to drop what was derived from it (the executor's forgetImage). */
  onEvicted?: (imageKey: string) => Promise<void>;
}

/**
 * Pulls images by digest (registry → OCI layout, every connection through the outbound guard, see
 * oci-pull.ts → umoci unpack) into a cache keyed by source and digest. A digest names immutable
 * content, so a cached unpack never goes stale; concurrent pulls of one image race harmlessly to a
 * rename and one wins. Entries beyond the size budget go least recently used first, never one a
 * live job on this host uses (see the marker protocol above).
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
  private readonly maxBytes: number;
  private readonly onEvicted?: (imageKey: string) => Promise<void>;
  /** One eviction pass at a time in this process (others on the host are handled by the markers). */
  private evicting: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly outbound: OutboundGuard,
    options: ImageCacheOptions = {},
  ) {
    this.work = join(dir, 'tmp', workOwner());
    this.maxBytes = options.maxBytes ?? DEFAULT_IMAGE_CACHE_MAX_BYTES;
    this.onEvicted = options.onEvicted;
  }

  /**
   * Run once at start, before any pull: removes what earlier runs left behind, and returns it
   * (relative to the cache). Pull work dirs of processes on this host that are gone (a live runner's
   * are left alone; any other once untouched for a day), and bundles/, the digest-keyed unpacks from
   * before the by-source layout, which no runner reads any more. Then brings the cache within its
   * size budget (see evict()).
   */
  async removeLeftovers(): Promise<string[]> {
    const tmp = join(this.dir, 'tmp');
    const leftovers: string[] = [];
    for (const name of await entries(tmp)) {
      if (await isLeftoverWork(join(tmp, name), name)) leftovers.push(join('tmp', name));
    }
    if (existsSync(join(this.dir, 'bundles'))) leftovers.push('bundles');
    for (const path of leftovers) await rm(join(this.dir, path), { recursive: true, force: true });
    // A host that filled its disk before the budget existed (or whose budget was lowered) starts within it.
    await this.evictLogged();
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
    for (let tries = 0; tries < ENSURE_MAX_TRIES; tries++) {
      let config: ImageConfig | undefined;
      let pulled = false;
      if (!existsSync(join(bundle, 'image-config.json'))) {
        config = await this.pull(registry, manifest, bundle);
        pulled = true;
      }
      const marker = await this.markInUse(bundle);
      // Renamed away (evicted) before the marker landed, or an evictor holds it: look again.
      if (!marker) continue;
      await touch(join(bundle, LAST_USED_FILE));
      // An unpack never changes once renamed into place: read its config once per process, not per job.
      config ??= this.configs.get(key) ?? (JSON.parse(await readFile(join(bundle, 'image-config.json'), 'utf8')) as ImageConfig);
      this.configs.set(key, config);
      // The new entry is marked in use, so the pass never takes what this job is about to run.
      if (pulled) await this.evictLogged();
      return { digest: image.digest, key, rootfs: join(bundle, 'rootfs'), config, release: once(() => rm(marker, { force: true })) };
    }
    throw new Error(`image ${image.registry}/${image.repository}@${image.digest}: the cache entry stayed claimed by an evictor; try again`);
  }

  /**
   * The path of a new in-use marker in the entry, or undefined when the entry is gone or an evictor
   * is taking it (then after a short wait, so that the caller's next look finds it settled).
   */
  private async markInUse(bundle: string): Promise<string | undefined> {
    const marker = join(bundle, IN_USE_DIR, markerName());
    // No mkdir -p: the write must fail if the entry was renamed away, not recreate a husk of it.
    await mkdir(join(bundle, IN_USE_DIR)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST' && err.code !== 'ENOENT') throw err;
    });
    try {
      await writeFile(marker, '', { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    if ((await liveMarkers(join(bundle, EVICTING_DIR), EVICTING_CLAIM_MAX_AGE_MS)).length === 0) return marker;
    await rm(marker, { force: true });
    await delay(EVICTION_RETRY_MS);
    return undefined;
  }

  /**
   * While the entries add up to more than the budget, removes the least recently used one that no
   * live job uses. Serialized within this process; safe beside other processes' pulls and passes.
   */
  evict(): Promise<void> {
    const pass = this.evicting.then(() => this.evictPass());
    this.evicting = pass.catch(() => undefined);
    return pass;
  }

  /** A pass that fails (a permission, a full disk) costs the cache its budget for now, not the job or the runner its start. */
  private evictLogged(): Promise<void> {
    return this.evict().catch((err: Error) => logger.warn({ err: err.message, maxBytes: this.maxBytes }, 'image cache eviction failed; the cache may be over its size budget'));
  }

  private async evictPass(): Promise<void> {
    const root = join(this.dir, 'by-source');
    const all: CacheEntry[] = [];
    for (const key of await entries(root)) {
      const entry = await readEntry(join(root, key), key);
      if (entry) all.push(entry);
    }
    let total = all.reduce((sum, e) => sum + e.bytes, 0);
    const oldestFirst = all.sort((a, b) => a.lastUsedMs - b.lastUsedMs);
    for (const entry of oldestFirst) {
      if (total <= this.maxBytes) return;
      if (await this.evictEntry(entry)) {
        total -= entry.bytes;
        logger.info(
          { imageKey: entry.key, bytes: entry.bytes, lastUsed: new Date(entry.lastUsedMs).toISOString(), cacheBytes: total, maxBytes: this.maxBytes },
          'evicted image from the cache: least recently used while over its size budget',
        );
      }
    }
    if (total > this.maxBytes) logger.warn({ cacheBytes: total, maxBytes: this.maxBytes }, 'image cache over its size budget: every remaining entry is in use');
  }

  /** Takes the entry away unless a live job uses it; false when it was left (or another process took it first). */
  private async evictEntry(entry: CacheEntry): Promise<boolean> {
    if ((await liveMarkers(join(entry.path, IN_USE_DIR))).length) return false;
    const claim = join(entry.path, EVICTING_DIR, markerName());
    try {
      // No mkdir -p: after another evictor's rename this must fail, not recreate a husk of the entry.
      await mkdir(join(entry.path, EVICTING_DIR)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      await writeFile(claim, '', { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false; // gone already
      throw err;
    }
    // Renamed into this process's work dir: a crash mid-delete leaves a leftover removeLeftovers() takes.
    const away = join(this.work, `evicted-${entry.key}-${randomBytes(4).toString('hex')}`);
    let renamed = false;
    try {
      // A user that marked the entry before our claim landed is seen here; one after it sees our claim.
      if ((await liveMarkers(join(entry.path, IN_USE_DIR))).length) return false;
      await mkdir(this.work, { recursive: true, mode: 0o700 });
      await rename(entry.path, away);
      renamed = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false; // another evictor's rename won
      throw err;
    } finally {
      // A claim left behind would hold every later user of the entry off.
      if (!renamed) await rm(claim, { force: true });
    }
    this.configs.delete(entry.key);
    await rm(away, { recursive: true, force: true });
    await this.onEvicted?.(entry.key);
    return true;
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
      // Counted once here, so that the budget check sums small files instead of walking every rootfs.
      await writeFile(join(work, 'bundle', SIZE_FILE), String(await treeBytes(join(work, 'bundle', 'rootfs'))));
      await mkdir(join(work, 'bundle', IN_USE_DIR));
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

/** host.pid.nonce: whose marker it is (a dead pid on this host releases it), unique per job. */
function markerName(): string {
  return `${workOwner()}.${randomBytes(4).toString('hex')}`;
}

interface CacheEntry {
  key: string;
  path: string;
  bytes: number;
  lastUsedMs: number;
}

/** An entry's recorded size and last use; undefined for what is not (or no longer) a complete entry. */
async function readEntry(path: string, key: string): Promise<CacheEntry | undefined> {
  try {
    const config = await stat(join(path, 'image-config.json'));
    let bytes = Number(await readFile(join(path, SIZE_FILE), 'utf8').catch(() => NaN));
    if (!Number.isSafeInteger(bytes)) {
      // Pulled before sizes were recorded: counted once now, and recorded.
      bytes = await treeBytes(join(path, 'rootfs'));
      await writeFile(join(path, SIZE_FILE), String(bytes));
    }
    const lastUsed = await stat(join(path, LAST_USED_FILE)).catch(() => config);
    return { key, path, bytes, lastUsedMs: lastUsed.mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Disk blocks of every file under `dir`, as the budget is about the disk: symlinks count as
 * themselves, never followed, and a hard-linked file (umoci keeps an image's links: busybox,
 * coreutils) once, however many names it has.
 */
async function treeBytes(dir: string, seen = new Set<string>()): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const info = await lstat(path);
    if (info.nlink > 1 && !info.isDirectory()) {
      const inode = `${info.dev}:${info.ino}`;
      if (seen.has(inode)) continue;
      seen.add(inode);
    }
    total += info.blocks * 512 + (entry.isDirectory() ? await treeBytes(path, seen) : 0);
  }
  return total;
}

/** The markers in `dir` whose owner may still be running: ours, a live pid on this host, or another host's not yet a week old. */
async function liveMarkers(dir: string, maxAgeMs?: number): Promise<string[]> {
  const live: string[] = [];
  for (const name of await entries(dir)) {
    const [host, pid] = ownerOf(name);
    const ownerLive = host === hostname() ? pid === process.pid || isAlive(pid) : await youngerThan(join(dir, name), FOREIGN_MARKER_MAX_AGE_MS);
    if (ownerLive && (maxAgeMs === undefined || (await youngerThan(join(dir, name), maxAgeMs)))) live.push(name);
    // A dead owner's marker is released: tidy it away in passing.
    else await rm(join(dir, name), { force: true });
  }
  return live;
}

function ownerOf(marker: string): [string, number] {
  const parts = marker.split('.');
  return [parts.slice(0, -2).join('.'), Number(parts[parts.length - 2])];
}

async function youngerThan(path: string, ms: number): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  return !!info && Date.now() - info.mtimeMs < ms;
}

/** Sets the file's mtime to now (creating it if missing): the entry's last use, seen by every process. */
async function touch(path: string): Promise<void> {
  const now = new Date();
  await utimes(path, now, now).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    await writeFile(path, '');
  });
}

function once(fn: () => Promise<unknown>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn().then(() => undefined));
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
  if (!Number.isInteger(pid) || pid <= 0) return false;
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
