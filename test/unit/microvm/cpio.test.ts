import { execFileSync } from 'node:child_process';
import { linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CpioWriter, memorySink, newcHeader, S_IFREG } from '../../../runner/executors/microvm/cpio';
import { ensureImageArchive, imageArchivePath, jobArchive, writeInitrd } from '../../../runner/executors/microvm/initramfs';

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'cpio-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** Unpacks with GNU cpio, the reference implementation of the format. */
function extract(archive: Buffer, into: string): void {
  mkdirSync(into, { recursive: true });
  execFileSync('cpio', ['-idm', '--quiet', '--no-absolute-filenames'], { cwd: into, input: archive });
}

describe('newc cpio', () => {
  test('header layout', () => {
    const header = newcHeader({ name: 'a', mode: S_IFREG | 0o644, ino: 7, size: 5, mtime: 16, uid: 1, gid: 2 });
    expect(header.toString('latin1', 0, 6)).toBe('070701');
    expect(header.toString('latin1', 6, 14)).toBe('00000007');
    expect(header.toString('latin1', 14, 22)).toBe((S_IFREG | 0o644).toString(16).padStart(8, '0'));
    expect(header.toString('latin1', 54, 62)).toBe('00000005'); // filesize
    expect(header.toString('latin1', 94, 102)).toBe('00000002'); // namesize, with the NUL
    expect(header.length % 4).toBe(0);
    expect(() => newcHeader({ name: 'x', mode: 0, ino: 1, size: 2 ** 32 })).toThrow(RangeError);
  });

  test('packs a tree that GNU cpio unpacks identically (binary data, symlinks, hard links, empty files)', async () => {
    const root = path.join(tmp, 'root');
    mkdirSync(path.join(root, 'dir/sub'), { recursive: true });
    const binary = Buffer.from(Array.from({ length: 70_001 }, (_, i) => (i * 131) & 0xff));
    writeFileSync(path.join(root, 'dir/bin.dat'), binary);
    writeFileSync(path.join(root, 'empty'), '');
    writeFileSync(path.join(root, 'dir/sub/odd'), 'abc');
    linkSync(path.join(root, 'dir/bin.dat'), path.join(root, 'hard'));
    symlinkSync('dir/sub/odd', path.join(root, 'link'));

    const { stream, contents } = memorySink();
    const writer = new CpioWriter(stream);
    await writer.addTree(root);
    await writer.finish();
    const archive = contents();
    expect(archive.length % 4).toBe(0);
    // The hard link's content is stored once.
    expect(archive.length).toBeLessThan(binary.length * 2);

    const out = path.join(tmp, 'out');
    extract(archive, out);
    expect(readFileSync(path.join(out, 'dir/bin.dat'))).toEqual(binary);
    expect(readFileSync(path.join(out, 'hard'))).toEqual(binary);
    expect(statSync(path.join(out, 'hard')).ino).toBe(statSync(path.join(out, 'dir/bin.dat')).ino);
    expect(readFileSync(path.join(out, 'empty')).length).toBe(0);
    expect(readlinkSync(path.join(out, 'link'))).toBe('dir/sub/odd');
    expect(lstatSync(path.join(out, 'dir/sub')).isDirectory()).toBe(true);
  });

  test('in-memory entries must match their declared size', async () => {
    const writer = new CpioWriter(memorySink().stream);
    await expect(writer.add({ name: 'x', mode: S_IFREG | 0o644, size: 3 }, Buffer.from('ab'))).rejects.toThrow(/size 3/);
  });
});

describe('initramfs', () => {
  test('the job archive carries init, the job file, the channel modules and /dev/console', async () => {
    const archive = await jobArchive(Buffer.from('#!init'), Buffer.from('job\0'), [{ name: 'virtio', content: Buffer.from('ko') }]);
    const out = path.join(tmp, 'job');
    mkdirSync(out);
    // GNU cpio cannot mknod as non-root; listing is enough for the node.
    const listing = execFileSync('cpio', ['-itv', '--quiet'], { input: archive, encoding: 'utf8' });
    expect(listing).toMatch(/^crw------- .* 5, +1 .* dev\/console$/m);
    execFileSync('cpio', ['-idm', '--quiet', '.benchline/*'], { cwd: out, input: archive });
    expect(readFileSync(path.join(out, '.benchline/init'), 'utf8')).toBe('#!init');
    expect(statSync(path.join(out, '.benchline/init')).mode & 0o777).toBe(0o755);
    expect(readFileSync(path.join(out, '.benchline/job'))).toEqual(Buffer.from('job\0'));
    expect(readFileSync(path.join(out, '.benchline/modules/virtio.ko'), 'utf8')).toBe('ko');
  });

  test('image archives are cached by digest, and a gzip image is padded so the job archive that follows is found', async () => {
    const root = path.join(tmp, 'rootfs');
    mkdirSync(root);
    writeFileSync(path.join(root, 'f'), 'x'.repeat(1001));
    const options = { cacheDir: path.join(tmp, 'cache'), rootfs: root, imageKey: `sha256:${'b'.repeat(64)}`, compress: true };
    const first = await ensureImageArchive(options);
    expect(first.cacheHit).toBe(false);
    expect(first.path).toBe(imageArchivePath(options));
    expect(first.unpackedBytes).toBeGreaterThan(1001);
    const second = await ensureImageArchive(options);
    expect(second).toEqual({ ...first, cacheHit: true });

    const job = await jobArchive(Buffer.from('init'), Buffer.from('job'));
    const initrd = path.join(tmp, 'initrd');
    const size = await writeInitrd(initrd, first, job);
    const pad = (4 - (first.bytes % 4)) % 4;
    expect(size).toBe(first.bytes + pad + job.length);
    expect(statSync(initrd).size).toBe(size); // the size reported is the file's, not just arithmetic
    expect(readFileSync(initrd).subarray(first.bytes + pad).equals(job)).toBe(true);
  });

  test('digests that are not digests never become paths', () => {
    const p = imageArchivePath({ cacheDir: '/c', imageKey: '../../etc/passwd', compress: false });
    expect(path.dirname(p)).toBe('/c/images');
    expect(path.basename(p)).toMatch(/^x-[0-9a-f]{64}\.v1\.cpio$/);
  });
});
