/**
 * The guest's initramfs is two concatenated newc archives (Linux unpacks them in order, later entries
 * winning): the image's root filesystem, packed once per image (source and digest) and cached, and a small per-job
 * archive with init, the job file and /dev/console. A job therefore never re-reads the image tree.
 */
import { createHash } from 'node:crypto';
import { singleFlight } from './single-flight';
import { constants, createWriteStream } from 'node:fs';
import { appendFile, copyFile, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { finished, pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { GUEST_INIT_PATH, GUEST_JOB_PATH, GUEST_MODULES_DIR } from '../../guest/job-config';
import { CpioWriter, memorySink, S_IFCHR, S_IFDIR, S_IFREG } from './cpio';
import { KernelModule } from './kernel';

/** Where a channel module sits in the guest (relative to /). */
export const guestModulePath = (name: string) => `${GUEST_MODULES_DIR}/${name}.ko`;

/** Bump when the packing changes, so stale cached archives are not reused. */
const FORMAT_VERSION = 1;
const packing = new Map<string, Promise<ImageArchive>>();

export interface ImageArchive {
  path: string;
  bytes: number;
  /** Size once unpacked in the guest (what its memory must hold). */
  unpackedBytes: number;
  cacheHit: boolean;
}

export interface ImageArchiveOptions {
  cacheDir: string;
  rootfs: string;
  /** The image cache's key (source and digest): the archive is shared exactly as the unpacked image is. */
  imageKey: string;
  /** gzip the image archive: smaller on disk, but the guest spends boot time inflating it (slow under TCG). */
  compress: boolean;
}

export function imageArchivePath(options: Omit<ImageArchiveOptions, 'rootfs'>): string {
  // Keys become file names: anything unexpected is hashed rather than trusted as a path component.
  const name = /^(?:[a-z0-9]+:)?[a-f0-9]{32,128}$/.test(options.imageKey)
    ? options.imageKey.replace(':', '-')
    : `x-${createHash('sha256').update(options.imageKey).digest('hex')}`;
  return path.join(options.cacheDir, 'images', `${name}.v${FORMAT_VERSION}.cpio${options.compress ? '.gz' : ''}`);
}

/** Removes the image's archives, compressed or not (its unpacked image was evicted from the cache). */
export async function forgetImageArchives(options: Omit<ImageArchiveOptions, 'rootfs' | 'compress'>): Promise<void> {
  await Promise.all([false, true].map((compress) => rm(imageArchivePath({ ...options, compress }), { force: true })));
}

/** The image's archive, packed on first use; concurrent callers share one packing. */
export function ensureImageArchive(options: ImageArchiveOptions): Promise<ImageArchive> {
  const target = imageArchivePath(options);
  return singleFlight(packing, target, () => packImage(target, options), 'when-settled');
}

async function packImage(target: string, options: ImageArchiveOptions): Promise<ImageArchive> {
  const existing = await stat(target).catch(() => undefined);
  if (existing?.isFile()) return { ...(await describeArchive(target, options.compress)), cacheHit: true };
  if (!(await stat(options.rootfs).catch(() => undefined))?.isDirectory()) {
    throw new Error(`image root filesystem ${options.rootfs} is not a directory`);
  }
  await mkdir(path.dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
  try {
    const file = createWriteStream(tmp);
    const gzip = options.compress ? createGzip({ level: 6 }) : undefined;
    const written = gzip ? pipeline(gzip, file) : finished(file);
    const writer = new CpioWriter(gzip ?? file);
    await writer.addTree(options.rootfs);
    await writer.finish();
    await written;
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { ...(await describeArchive(target, options.compress)), cacheHit: false };
}

async function describeArchive(file: string, compressed: boolean): Promise<Omit<ImageArchive, 'cacheHit'>> {
  const bytes = (await stat(file)).size;
  if (!compressed) return { path: file, bytes, unpackedBytes: bytes };
  // gzip's trailer holds the uncompressed size modulo 2^32: enough for an initramfs that fits in memory.
  const fh = await open(file, 'r');
  try {
    const trailer = Buffer.alloc(4);
    await fh.read(trailer, 0, 4, bytes - 4);
    return { path: file, bytes, unpackedBytes: trailer.readUInt32LE(0) };
  } finally {
    await fh.close();
  }
}

/**
 * The per-job archive: init, the job file, the kernel modules init loads for its channel, and the
 * console node the kernel opens for init's fds 0-2.
 */
export async function jobArchive(init: Buffer, jobFile: Buffer, modules: KernelModule[] = []): Promise<Buffer> {
  const { stream, contents } = memorySink();
  const writer = new CpioWriter(stream);
  const mtime = Date.now() / 1000;
  await writer.add({ name: '.benchline', mode: S_IFDIR | 0o700, mtime, size: 0 });
  await writer.add({ name: GUEST_INIT_PATH, mode: S_IFREG | 0o755, mtime, size: init.length }, init);
  await writer.add({ name: GUEST_JOB_PATH, mode: S_IFREG | 0o600, mtime, size: jobFile.length }, jobFile);
  if (modules.length) await writer.add({ name: GUEST_MODULES_DIR, mode: S_IFDIR | 0o700, mtime, size: 0 });
  for (const m of modules) {
    await writer.add({ name: guestModulePath(m.name), mode: S_IFREG | 0o600, mtime, size: m.content.length }, m.content);
  }
  await writer.add({ name: 'dev', mode: S_IFDIR | 0o755, mtime, size: 0 });
  await writer.add({ name: 'dev/console', mode: S_IFCHR | 0o600, mtime, size: 0, rdevMajor: 5, rdevMinor: 1 });
  await writer.finish();
  return contents();
}

/** Writes image archive + job archive to `dest` (a reflink where the filesystem can), returns its size. */
export async function writeInitrd(dest: string, image: Pick<ImageArchive, 'path' | 'bytes'> | undefined, job: Buffer): Promise<number> {
  if (!image) {
    await appendFile(dest, job, { flag: 'w' });
    return job.length;
  }
  await copyFile(image.path, dest, constants.COPYFILE_FICLONE);
  // Linux looks for the next archive's "070701" only at 4-byte offsets, and a gzip stream has any length.
  const pad = (4 - (image.bytes % 4)) % 4;
  await appendFile(dest, Buffer.concat([Buffer.alloc(pad), job]));
  return image.bytes + pad + job.length;
}
