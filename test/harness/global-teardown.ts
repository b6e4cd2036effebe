import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { dropDatabase } from '../../devenv/postgres';
import { releaseStaleMounts } from '../../runner/stale-mounts';

export default async function globalTeardown(): Promise<void> {
  const { env, registry, adminUrl, dbName, scratch } = globalThis.__benchline;
  await Promise.allSettled([env.teardown(), registry.stop(), dropDatabase(adminUrl, dbName)]);
  // Runner processes the tests killed on purpose could not unmount their job's overlay.
  await releaseStaleMounts(scratch);
  // What tests keep for people to look at (the console's screenshots) outlives the scratch folder.
  const artifacts = join(scratch, 'artifacts');
  if (existsSync(artifacts)) {
    const kept = join(process.env.BENCHLINE_TEST_ARTIFACTS ?? join(tmpdir(), 'benchline-test-artifacts'), basename(scratch));
    await mkdir(kept, { recursive: true });
    await rename(artifacts, join(kept, 'artifacts'));
    console.log(`test artifacts: ${kept}/artifacts`);
  }
  await rm(scratch, { recursive: true, force: true });
}
