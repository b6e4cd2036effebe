/**
 * A streaming writer for the "newc" cpio format, the one the Linux kernel unpacks as an initramfs.
 * Written here rather than shelling out to cpio(1) so that in-memory entries (init, the job file,
 * /dev/console) need no staging directory and the image's files are only ever read.
 */
import { once } from 'node:events';
import { Stats } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;
export const S_IFSOCK = 0o140000;

export interface CpioEntry {
  /** Path inside the archive, relative, without a leading "./". */
  name: string;
  /** Full st_mode: file type bits and permissions. */
  mode: number;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch. */
  mtime?: number;
  nlink?: number;
  ino?: number;
  rdevMajor?: number;
  rdevMinor?: number;
  size: number;
}

const MAX_U32 = 0xffffffff;
const pad4 = (n: number) => (4 - (n % 4)) % 4;
const hex8 = (n: number) => {
  if (!Number.isInteger(n) || n < 0 || n > MAX_U32) throw new RangeError(`cpio field out of range: ${n}`);
  return n.toString(16).padStart(8, '0');
};

/** The 110-byte newc header plus the NUL-terminated, 4-byte-padded name. */
export function newcHeader(entry: CpioEntry & { ino: number }): Buffer {
  const name = Buffer.from(`${entry.name}\0`, 'utf8');
  const fields = [
    entry.ino,
    entry.mode,
    entry.uid ?? 0,
    entry.gid ?? 0,
    entry.nlink ?? ((entry.mode & S_IFMT) === S_IFDIR ? 2 : 1),
    Math.max(0, Math.floor(entry.mtime ?? 0)),
    entry.size,
    0, // devmajor/devminor of the file's own filesystem: irrelevant inside an archive
    0,
    entry.rdevMajor ?? 0,
    entry.rdevMinor ?? 0,
    name.length,
    0, // check: unused by "070701"
  ];
  const header = Buffer.from(`070701${fields.map(hex8).join('')}`, 'latin1');
  return Buffer.concat([header, name, Buffer.alloc(pad4(header.length + name.length))]);
}

export class CpioWriter {
  private nextIno = 1;
  private offset = 0;
  private readonly hardLinks = new Map<string, number>();
  private failure?: Error;

  constructor(private readonly out: Writable) {
    // Remember a write error (disk full…) and raise it on the next write instead of crashing the process.
    out.on('error', (err: Error) => (this.failure ??= err));
  }

  /** An entry whose body (file content, symlink target) is given in memory. */
  async add(entry: CpioEntry & { ino?: number }, body: Buffer = Buffer.alloc(0)): Promise<void> {
    if (body.length !== entry.size) throw new Error(`cpio entry ${entry.name}: size ${entry.size} but ${body.length} bytes given`);
    await this.put(newcHeader({ ...entry, ino: entry.ino ?? this.nextIno++ }));
    await this.put(body);
    await this.put(Buffer.alloc(pad4(body.length)));
  }

  /** Adds `root`'s whole tree (pre-order, sorted names), preserving type, mode, owner and mtime. */
  async addTree(root: string): Promise<void> {
    const walk = async (rel: string): Promise<void> => {
      const names = (await readdir(path.join(root, rel))).sort();
      for (const name of names) {
        const relPath = rel ? `${rel}/${name}` : name;
        const full = path.join(root, relPath);
        const st = await lstat(full);
        await this.addFromStats(relPath, full, st);
        if (st.isDirectory()) await walk(relPath);
      }
    };
    await walk('');
  }

  async finish(): Promise<void> {
    await this.add({ name: 'TRAILER!!!', mode: 0, nlink: 1, size: 0, ino: 0 });
    if (this.failure) throw this.failure;
    this.out.end();
    await once(this.out, 'finish');
  }

  /** Bytes written so far (before any compression the output stream applies). */
  get bytes(): number {
    return this.offset;
  }

  private async addFromStats(name: string, full: string, st: Stats): Promise<void> {
    const base = { name, mode: st.mode, uid: st.uid, gid: st.gid, mtime: st.mtimeMs / 1000 };
    const type = st.mode & S_IFMT;
    if (type === S_IFREG) {
      if (st.size > MAX_U32) throw new Error(`${full} is ${st.size} bytes; an initramfs cannot hold files of 4 GiB or more`);
      // The kernel turns later entries with the same ino and nlink >= 2 into hard links to the first,
      // writing their (empty) bodies into it: so the content is stored once.
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? this.hardLinks.get(key) : undefined;
      if (first !== undefined) return this.add({ ...base, nlink: st.nlink, ino: first, size: 0 });
      const ino = this.nextIno++;
      if (st.nlink > 1) this.hardLinks.set(key, ino);
      return this.addFile({ ...base, nlink: st.nlink, ino, size: st.size }, full);
    }
    if (type === S_IFLNK) {
      const target = Buffer.from(await readlink(full), 'utf8');
      return this.add({ ...base, size: target.length }, target);
    }
    if (type === S_IFDIR || type === S_IFIFO) return this.add({ ...base, size: 0 });
    if (type === S_IFCHR || type === S_IFBLK) {
      const rdevMajor = Math.floor(st.rdev / 256) & 0xfff; // Linux dev_t encoding (major 12 bits, minor 20)
      const rdevMinor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
      return this.add({ ...base, size: 0, rdevMajor, rdevMinor });
    }
    // Sockets cannot be meaningfully copied; a fresh one is created by whoever binds it.
  }

  private async addFile(entry: CpioEntry & { ino: number }, source: string): Promise<void> {
    await this.put(newcHeader(entry));
    const fh = await open(source, 'r');
    try {
      let left = entry.size;
      while (left > 0) {
        const buf = Buffer.allocUnsafe(Math.min(left, 1 << 20));
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) throw new Error(`${source} shrank while it was being packed`);
        await this.put(buf.subarray(0, bytesRead));
        left -= bytesRead;
      }
    } finally {
      await fh.close();
    }
    await this.put(Buffer.alloc(pad4(entry.size)));
  }

  private async put(buf: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    if (buf.length === 0) return;
    this.offset += buf.length;
    if (!this.out.write(buf)) await once(this.out, 'drain');
  }
}

/** A Writable that keeps everything in memory, for small archives. */
export function memorySink(): { stream: Writable; contents: () => Buffer } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { stream, contents: () => Buffer.concat(chunks) };
}
