import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { forgetImageArchives, imageArchivePath } from '../../../runner/executors/microvm/initramfs';

describe('forgetImageArchives', () => {
  it("removes an evicted image's packed archives, compressed or not, and no other image's", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'benchline-archives-'));
    const evicted = 'a'.repeat(64);
    const kept = 'b'.repeat(64);
    const paths = [
      imageArchivePath({ cacheDir, imageKey: evicted, compress: false }),
      imageArchivePath({ cacheDir, imageKey: evicted, compress: true }),
      imageArchivePath({ cacheDir, imageKey: kept, compress: false }),
    ];
    for (const path of paths) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, 'cpio');
    }
    await forgetImageArchives({ cacheDir, imageKey: evicted });
    expect(paths.map((p) => existsSync(p))).toEqual([false, false, true]);
    // Nothing there (the microVM never packed it): not an error.
    await forgetImageArchives({ cacheDir, imageKey: evicted });
  });
});
