import { rm } from 'node:fs/promises';
import { dropDatabase } from '../../devenv/postgres';
import { releaseStaleMounts } from '../../runner/stale-mounts';

export default async function globalTeardown(): Promise<void> {
  const { env, registry, adminUrl, dbName, scratch } = globalThis.__benchline;
  await Promise.allSettled([env.teardown(), registry.stop(), dropDatabase(adminUrl, dbName)]);
  // Runner processes the tests killed on purpose could not unmount their job's overlay.
  await releaseStaleMounts(scratch);
  await rm(scratch, { recursive: true, force: true });
}
