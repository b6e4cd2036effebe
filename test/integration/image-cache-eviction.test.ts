import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildAndPushImage } from '../../devenv/images';
import { startRegistry, type RunningRegistry } from '../../devenv/registry';
import { freePort } from '../../devenv/wait';
import { OutboundGuard } from '../../net/outbound';
import { ImageCache, imageKey, type ImageLocation } from '../../runner/images';

/**
 * The runner's image cache under a size budget: real images in a real registry, real pulls and
 * unpacks, the budget set so that two of the three images fit and the third forces one out.
 */
describe('image cache eviction', () => {
  let registry: RunningRegistry;
  const images: Record<'a' | 'b' | 'c', ImageLocation> = {} as never;
  const guard = new OutboundGuard({ allowPrivateNetworks: true });
  /** Each image's recorded size, from a first cache with room for all three. */
  const bytes: Record<string, number> = {};
  let budget: number;

  beforeAll(async () => {
    registry = await startRegistry(mkdtempSync(join(tmpdir(), 'benchline-evict-registry-')), await freePort());
    for (const name of ['a', 'b', 'c'] as const) {
      // Different payloads: different digests, and sizes that matter against the budget.
      const digest = await buildAndPushImage({ reference: `${registry.address}/evict/${name}:latest`, entrypoint: ['/bin/true'], files: { [`/${name}.txt`]: name.repeat(64 * 1024) } });
      images[name] = { registry: registry.address, repository: `evict/${name}`, digest };
    }
    const roomy = new ImageCache(mkdtempSync(join(tmpdir(), 'benchline-evict-measure-')), guard);
    for (const image of Object.values(images)) {
      const cached = await roomy.ensure(image);
      bytes[cached.key] = Number(readFileSync(join(cached.rootfs, '..', 'size'), 'utf8'));
      await cached.release();
    }
    const sizes = Object.values(bytes);
    expect(sizes.every((n) => n > 64 * 1024)).toBe(true);
    // Any two fit, all three do not.
    budget = sizes.reduce((a, b) => a + b) - 1;
  });
  afterAll(async () => {
    await registry?.stop();
  });

  const newCache = () => {
    const dir = mkdtempSync(join(tmpdir(), 'benchline-evict-cache-'));
    // What the executor is told to forget (the daemon passes its forgetImage): each evicted key, in order.
    const evicted: string[] = [];
    return { dir, evicted, cache: new ImageCache(dir, guard, { maxBytes: budget, onEvicted: async (key) => void evicted.push(key) }) };
  };
  const entry = (dir: string, name: keyof typeof images) => join(dir, 'by-source', imageKey(images[name]));
  const cached = (dir: string) => readdirSync(join(dir, 'by-source')).sort();
  const keys = (...names: (keyof typeof images)[]) => names.map((n) => imageKey(images[n])).sort();
  const total = (dir: string) => cached(dir).reduce((sum, key) => sum + bytes[key], 0);
  /** Uses the image as a job does: ensure, then release once the executor would be done. */
  const use = async (cache: ImageCache, name: keyof typeof images) => {
    const image = await cache.ensure(images[name]);
    expect(readFileSync(join(image.rootfs, `${name}.txt`), 'utf8')).toHaveLength(64 * 1024);
    await image.release();
    return image;
  };
  /** An in-use marker as another runner process on this host leaves it while its job runs. */
  const markInUse = (dir: string, name: keyof typeof images, pid: number) => writeFileSync(join(entry(dir, name), 'in-use', `${hostname()}.${pid}.0badc0de`), '');

  it('evicts the least recently used image, not one just used, and pulls it again on its next use', async () => {
    const { dir, cache, evicted } = newCache();
    await use(cache, 'a');
    await use(cache, 'b');
    await use(cache, 'a'); // a cache hit makes a the most recent: b is now the oldest
    await use(cache, 'c');
    expect(cached(dir)).toEqual(keys('a', 'c'));
    expect(total(dir)).toBeLessThanOrEqual(budget);

    // b comes back transparently, and the oldest now (a) makes room for it.
    await use(cache, 'b');
    expect(cached(dir)).toEqual(keys('b', 'c'));
    expect(total(dir)).toBeLessThanOrEqual(budget);
    expect(evicted).toEqual([imageKey(images.b), imageKey(images.a)]);
  });

  it('never evicts an image a live runner process is using, nor the one a job holds in this process', async () => {
    const { dir, cache } = newCache();
    await use(cache, 'a');
    await use(cache, 'b');
    // a is the least recently used, but another runner on this host (the test's parent process stands in) runs a job on it.
    markInUse(dir, 'a', process.ppid);
    await use(cache, 'c');
    expect(cached(dir)).toEqual(keys('a', 'c'));

    // A job of this process still holds c (not released): pulling b again must take neither a nor c.
    const holding = await cache.ensure(images.c);
    await use(cache, 'b');
    expect(cached(dir)).toEqual(keys('a', 'b', 'c'));
    expect(existsSync(join(holding.rootfs, 'c.txt'))).toBe(true);
    // Released, c is fair game again on the next pull; a stays in use.
    await holding.release();
    await cache.evict();
    expect(cached(dir)).toEqual(keys('a', 'b'));
  });

  it('counts a marker of a process that is gone as released', async () => {
    const { dir, cache } = newCache();
    await use(cache, 'a');
    await use(cache, 'b');
    // spawnSync reaps its child: the pid names no process any more (a runner that crashed mid-job).
    markInUse(dir, 'a', spawnSync('true').pid!);
    await use(cache, 'c');
    expect(cached(dir)).toEqual(keys('b', 'c'));
  });

  it('ignores an evictor claim left behind long ago, even one naming this very process', async () => {
    const { dir, cache } = newCache();
    await use(cache, 'a');
    // As a runner that died mid-eviction leaves it, in a container restarted with its host name and pid.
    const claim = join(entry(dir, 'a'), 'evicting', `${hostname()}.${process.pid}.0badc0de`);
    mkdirSync(dirname(claim), { recursive: true });
    writeFileSync(claim, '');
    const longAgo = new Date(Date.now() - 11 * 60 * 1000);
    utimesSync(claim, longAgo, longAgo);
    await use(cache, 'a');
    expect(existsSync(claim)).toBe(false);
  });

  it('brings a cache over its budget within it at start, and records sizes of entries pulled before they were', async () => {
    const { dir, cache } = newCache();
    await use(cache, 'a');
    await use(cache, 'b');
    await use(cache, 'c');
    expect(cached(dir)).toHaveLength(2);
    const roomy = new ImageCache(dir, guard, { maxBytes: budget * 10 });
    await use(roomy, 'a');
    await use(roomy, 'b');
    await use(roomy, 'c');
    expect(cached(dir)).toEqual(keys('a', 'b', 'c'));
    // An entry from before sizes were recorded is counted (once) and recorded.
    const sizeFile = join(entry(dir, 'b'), 'size');
    rmSync(sizeFile);

    // A runner started with the smaller budget evicts the oldest (a) before taking any job.
    expect(await new ImageCache(dir, guard, { maxBytes: budget }).removeLeftovers()).toEqual([]);
    expect(cached(dir)).toEqual(keys('b', 'c'));
    expect(Number(readFileSync(sizeFile, 'utf8'))).toBe(bytes[imageKey(images.b)]);
  });

  it('keeps every image a job holds while two processes sharing the cache pull and evict at once', async () => {
    const { dir } = newCache();
    // Two caches on one directory stand for two runner processes on one host: each pull evicts.
    const runners = [new ImageCache(dir, guard, { maxBytes: budget }), new ImageCache(dir, guard, { maxBytes: budget })];
    // A long job on runner 0 holds a, the least recently used image from here on.
    const long = await runners[0].ensure(images.a);
    // Meanwhile both runners run short jobs on b and c at once: every pull of either is followed
    // by an eviction pass, racing the other runner's pulls and passes.
    await Promise.all([
      (async () => {
        for (const name of ['b', 'c', 'b', 'c'] as const) await use(runners[0], name);
      })(),
      (async () => {
        for (const name of ['c', 'b', 'c', 'b'] as const) await use(runners[1], name);
      })(),
    ]);
    expect(readFileSync(join(long.rootfs, 'a.txt'), 'utf8')).toHaveLength(64 * 1024);
    await long.release();
    await runners[0].evict();
    expect(total(dir)).toBeLessThanOrEqual(budget);
    // Nothing half-evicted is left behind: every entry is whole.
    for (const key of cached(dir)) expect(existsSync(join(dir, 'by-source', key, 'rootfs', 'bin', 'busybox'))).toBe(true);
  });
});
