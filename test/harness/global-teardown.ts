import { rm } from 'node:fs/promises';
import { dropDatabase } from '../../devenv/postgres';

export default async function globalTeardown(): Promise<void> {
  const { env, registry, adminUrl, dbName, scratch } = globalThis.__benchline;
  await Promise.allSettled([env.teardown(), registry.stop(), dropDatabase(adminUrl, dbName)]);
  await rm(scratch, { recursive: true, force: true });
}
