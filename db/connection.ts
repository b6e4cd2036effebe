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

/** Node's errors for a server that cannot be reached or dropped the connection. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** SQLSTATEs of a server that is down, starting, shutting down or out of connections (class 08: connection exceptions). */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** What node-postgres says when the server went away under an open connection (it gives no code). */
const DROPPED = /Connection terminated|connection error and is not queryable|Connection ended/;

/**
 * True when `err` says the database could not be reached (refused, dropped, restarting, no
 * connection to be had) rather than that the query itself was wrong: worth retrying later.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (err instanceof knex.KnexTimeoutError) return true;
  // Duck-typed: Node's socket errors may come from another realm (jest's sandbox), where instanceof fails.
  if (typeof err !== 'object' || err === null) return false;
  const { code, message, errors } = err as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08'))) return true;
  if (Array.isArray(errors)) return errors.some(isDatabaseUnavailable);
  return typeof message === 'string' && DROPPED.test(message);
}
