import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutboundGuard } from '../../net/outbound';
import { ImageCache } from '../../runner/images';

/** What a runner removes from the shared image cache at start: leftovers only, never a live runner's pull. */
describe('image cache leftovers', () => {
  const file = (path: string) => {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, 'x');
  };
  const dayAndAMinuteAgo = new Date(Date.now() - (24 * 60 + 1) * 60 * 1000);

  it('removes pulls of runners on this host that are gone, day-old foreign work dirs and the digest-keyed bundles', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'benchline-leftovers-'));
    const tmp = (name: string) => join(dir, 'tmp', name);
    // spawnSync reaps its child: the pid no longer names a process.
    const deadPid = spawnSync('true').pid;
    file(join(tmp(`${hostname()}.${deadPid}`), '0123456789ab-00c0ffee', 'layout', 'blobs', 'sha256', 'aa'));
    // Another runner on this host pulling right now (the test runner's parent process stands in for it).
    file(join(tmp(`${hostname()}.${process.ppid}`), '0123456789ab-11c0ffee', 'layout', 'index.json'));
    // A runner in another container: its pids mean nothing here, so only its age counts.
    file(join(tmp('runner-container.7'), 'fresh', 'layout', 'index.json'));
    file(join(tmp('runner-container.8'), 'stale', 'layout', 'index.json'));
    utimesSync(tmp('runner-container.8'), dayAndAMinuteAgo, dayAndAMinuteAgo);
    // Named as pulls were before work dirs carried their owner.
    file(join(tmp('0123456789ab-22c0ffee'), 'layout', 'index.json'));
    utimesSync(tmp('0123456789ab-22c0ffee'), dayAndAMinuteAgo, dayAndAMinuteAgo);
    file(join(dir, 'bundles', 'a'.repeat(64), 'rootfs', 'bin', 'sh'));
    file(join(dir, 'by-source', 'b'.repeat(64), 'image-config.json'));

    const removed = await new ImageCache(dir, new OutboundGuard({ allowPrivateNetworks: false })).removeLeftovers();

    expect(removed.sort()).toEqual(['bundles', join('tmp', '0123456789ab-22c0ffee'), join('tmp', `${hostname()}.${deadPid}`), join('tmp', 'runner-container.8')].sort());
    for (const path of removed) expect(existsSync(join(dir, path))).toBe(false);
    expect(existsSync(join(tmp(`${hostname()}.${process.ppid}`), '0123456789ab-11c0ffee', 'layout', 'index.json'))).toBe(true);
    expect(existsSync(join(tmp('runner-container.7'), 'fresh'))).toBe(true);
    expect(existsSync(join(dir, 'by-source', 'b'.repeat(64), 'image-config.json'))).toBe(true);
    // Nothing left to remove the second time.
    expect(await new ImageCache(dir, new OutboundGuard({ allowPrivateNetworks: false })).removeLeftovers()).toEqual([]);
  });

  it('has nothing to remove from a cache that does not exist yet', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'benchline-leftovers-')), 'images');
    expect(await new ImageCache(dir, new OutboundGuard({ allowPrivateNetworks: false })).removeLeftovers()).toEqual([]);
  });
});
