import knex, { type Knex } from 'knex';
import { migrationSource } from '../migrations';

export type Db = Knex;

export function connect(databaseUrl: string, pool = { min: 0, max: 10 }): Db {
  return knex({ client: 'pg', connection: databaseUrl, pool });
}

export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = await db.migrate.latest({ migrationSource });
  return applied;
}

/** A round trip that needs only a live connection: the readiness probe. */
export async function ping(db: Db): Promise<void> {
  await db.raw('select 1');
}
