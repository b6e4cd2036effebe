/**
 * The guest kernel. Distribution kernels ship as a compressed bzImage; booting the uncompressed ELF
 * inside it through its PVH entry point skips in-guest decompression, which under software emulation
 * is about half of the boot time (measured: 1.7 s against 3.6 s to init with Debian's 6.1 kernel).
 * Firecracker needs the ELF anyway. The ELF is extracted once into the cache, keyed by the bzImage's hash.
 *
 * Distribution kernels build virtio as modules. When the four a virtio-serial channel needs sit in
 * `modules/` next to the kernel (scripts/bootstrap.sh can put them there) and were built for it, they
 * are packed for init to load: results then stream at tens of MiB/s instead of ~0.5 MiB/s over an I/O port.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

/** virtio-serial over virtio-mmio, in load order (each needs the ones before it). */
export const CHANNEL_MODULES = ['virtio_ring', 'virtio', 'virtio_mmio', 'virtio_console'] as const;

export interface KernelModule {
  name: string;
  content: Buffer;
}

export interface GuestKernel {
  /** What the VMM boots. */
  path: string;
  /** The kernel file we were given. */
  source: string;
  format: 'elf-pvh' | 'bzImage';
  /** e.g. "6.1.0-56-amd64", from the bzImage header when there is one. */
  release?: string;
  /** Why the ELF could not be used, when format is bzImage. */
  note?: string;
  /** The channel modules, when present and built for this kernel. */
  modules?: KernelModule[];
  /** Why there are no modules. */
  modulesNote?: string;
}

/** Where scripts/bootstrap.sh puts the kernel it extracts from Debian's linux-image-amd64. */
export function defaultKernelPath(): string {
  return process.env.BENCHLINE_KERNEL ?? path.resolve(__dirname, '../../../.tools/kernel/vmlinuz');
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
// The kernel build appends the uncompressed size (4 bytes) after xz and zstd streams: xz is told to
// stop after one stream, zstd gets the stream without it.
const PAYLOADS: { name: string; magic: Buffer; inflate: (data: Buffer) => Promise<Buffer> }[] = [
  { name: 'gzip', magic: Buffer.from([0x1f, 0x8b]), inflate: async (d) => gunzipSync(d) },
  { name: 'xz', magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), inflate: (d) => filter('xz', ['-dc', '--single-stream'], d) },
  { name: 'zstd', magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), inflate: (d) => filter('zstd', ['-dcq'], d.subarray(0, -4)) },
];

/** Release string of a bzImage (boot protocol >= 2.00 "kernel_version" field), or undefined. */
export function bzImageRelease(image: Buffer): string | undefined {
  if (image.length < 0x260 || image.toString('latin1', 0x202, 0x206) !== 'HdrS') return undefined;
  const offset = image.readUInt16LE(0x20e) + 0x200;
  const end = image.indexOf(0, offset);
  return end > offset ? image.toString('latin1', offset, end).split(' ')[0] : undefined;
}

/** The compressed vmlinux inside a bzImage (boot protocol >= 2.08 payload_offset/length). */
export function bzImagePayload(image: Buffer): Buffer | undefined {
  if (image.length < 0x260 || image.toString('latin1', 0x202, 0x206) !== 'HdrS') return undefined;
  const setupBytes = ((image[0x1f1] || 4) + 1) * 512;
  const offset = setupBytes + image.readUInt32LE(0x248);
  const length = image.readUInt32LE(0x24c);
  return offset + length <= image.length ? image.subarray(offset, offset + length) : undefined;
}

/** Whether an ELF64 kernel has the Xen PHYS32_ENTRY note (type 18) QEMU and Firecracker use for PVH boot. */
export function hasPvhNote(elf: Buffer): boolean {
  if (elf.length < 64 || !elf.subarray(0, 4).equals(ELF_MAGIC) || elf[4] !== 2) return false;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + 56 > elf.length || elf.readUInt32LE(ph) !== 4 /* PT_NOTE */) continue;
    let note = Number(elf.readBigUInt64LE(ph + 8));
    const end = note + Number(elf.readBigUInt64LE(ph + 32));
    while (note + 12 <= end && end <= elf.length) {
      const namesz = elf.readUInt32LE(note);
      const descsz = elf.readUInt32LE(note + 4);
      const type = elf.readUInt32LE(note + 8);
      const name = elf.toString('latin1', note + 12, note + 12 + Math.max(0, namesz - 1));
      if (name === 'Xen' && type === 18) return true;
      note += 12 + align4(namesz) + align4(descsz);
    }
  }
  return false;
}

const align4 = (n: number) => (n + 3) & ~3;

/**
 * Resolves the kernel to boot (extracting the PVH ELF into the cache when possible) and its channel
 * modules (from `modulesDir`, default `modules/` beside the kernel).
 */
export async function prepareKernel(source: string, cacheDir: string, modulesDir?: string): Promise<GuestKernel> {
  const kernel = await resolveKernel(source, cacheDir);
  const found = await loadChannelModules(modulesDir ?? path.join(path.dirname(source), 'modules'), kernel.release);
  return { ...kernel, ...found };
}

/** "vermagic=6.1.0-56-amd64 SMP preempt …" from a module's .modinfo section. */
export function moduleVermagic(ko: Buffer): string | undefined {
  const at = ko.indexOf('vermagic=');
  if (at < 0) return undefined;
  const end = ko.indexOf(0, at);
  return ko.toString('latin1', at + 'vermagic='.length, end < 0 ? undefined : end);
}

async function loadChannelModules(dir: string, release: string | undefined): Promise<Pick<GuestKernel, 'modules' | 'modulesNote'>> {
  const modules: KernelModule[] = [];
  for (const name of CHANNEL_MODULES) {
    const file = path.join(dir, `${name}.ko`);
    const content = await readFile(file).catch(() => undefined);
    if (!content) return { modulesNote: `${file} not found` };
    const built = moduleVermagic(content)?.split(' ')[0];
    // Only a bzImage tells its release; an ELF kernel's modules are trusted to match it.
    if (release && built !== release) return { modulesNote: `${file} was built for ${built ?? 'an unknown kernel'}, not ${release}` };
    modules.push({ name, content });
  }
  return { modules };
}

async function resolveKernel(source: string, cacheDir: string): Promise<GuestKernel> {
  const image = await readFile(source).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`guest kernel ${source} cannot be read (${err.code ?? err.message}); run scripts/bootstrap.sh`);
  });
  const release = bzImageRelease(image);
  if (image.subarray(0, 4).equals(ELF_MAGIC)) {
    if (!hasPvhNote(image)) throw new Error(`guest kernel ${source} is an ELF without a PVH entry point (CONFIG_PVH=y is needed)`);
    return { path: source, source, format: 'elf-pvh', release };
  }
  const bzImage = (note: string): GuestKernel => ({ path: source, source, format: 'bzImage', release, note });
  const payload = bzImagePayload(image);
  if (!payload) return bzImage('not a bzImage with a payload; booting it as is');
  const method = PAYLOADS.find((p) => payload.subarray(0, p.magic.length).equals(p.magic));
  if (!method) return bzImage('unsupported payload compression');

  const key = createHash('sha256').update(image).digest('hex').slice(0, 16);
  const target = path.join(cacheDir, 'kernel', key, 'vmlinux');
  if (await stat(target).then((s) => s.isFile(), () => false)) return { path: target, source, format: 'elf-pvh', release };
  let elf: Buffer;
  try {
    elf = await method.inflate(payload);
  } catch (err) {
    return bzImage(`cannot decompress the ${method.name} payload: ${(err as Error).message}`);
  }
  if (!hasPvhNote(elf)) return bzImage('the kernel has no PVH entry point');
  await mkdir(path.dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  await writeFile(tmp, elf);
  await rename(tmp, target).catch(async (err) => {
    await rm(tmp, { force: true });
    throw err;
  });
  return { path: target, source, format: 'elf-pvh', release };
}

/** Pipes `input` through a decompressor on PATH. (Node has no xz or zstd.) */
function filter(command: string, args: string[], input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { encoding: 'buffer', maxBuffer: 1 << 30 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    );
    child.stdin?.on('error', () => undefined); // the command's exit status reports the failure
    child.stdin?.end(input);
  });
}
