import { dropDatabase, ensureDatabase } from '../../devenv/postgres';

/**
 * An empty database of the test's own on the run's Postgres server (no migrations applied), for a
 * process that must start on a schema of a given state; `drop` removes it.
 */
export async function scratchDatabase(prefix: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const admin = new URL(process.env.DATABASE_URL!);
  admin.pathname = '/postgres';
  const name = `${prefix}_${Date.now()}_${process.pid}`;
  const url = await ensureDatabase(admin.toString(), name);
  return { name, url, drop: () => dropDatabase(admin.toString(), name) };
}
