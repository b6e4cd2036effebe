import { setTimeout as sleep } from 'node:timers/promises';
import { StartupError } from '../common/env';
import { describeDatabaseUrl, type DatabaseConfig } from './config';
import { connect, migrateLatest, migrationStatus, ping, type DbLog } from './connection';
import { isDatabaseUnavailable } from './unavailable';

const RETRY_INTERVAL_MS = 500;

/**
 * What a process checks before it serves anything: the database answers within `startupWaitMs`
 * (both restarting together is normal, so an unreachable server is retried that long; a refused
 * login or a missing database is not) and its schema has every migration this code knows, applied
 * here only when BENCHLINE_MIGRATE_ON_START says so. Throws a StartupError naming the database
 * (never the password) and what to do.
 */
export async function checkDatabaseAtStart(config: DatabaseConfig, log: DbLog): Promise<void> {
  const where = describeDatabaseUrl(config.url);
  const deadline = Date.now() + config.startupWaitMs;
  // Its own one-connection pool, without the breaker: each attempt here must really try to connect.
  // knex's own warning per failed attempt is left out: the one line below says what happened.
  const quiet = { warn: () => undefined, info: () => undefined };
  const db = connect(config.url, { min: 0, max: 1 }, { breaker: false, acquireTimeoutMs: Math.max(config.startupWaitMs, RETRY_INTERVAL_MS), log: quiet });
  try {
    for (let waiting = false; ; waiting = true) {
      try {
        await ping(db);
        break;
      } catch (err) {
        if (!isDatabaseUnavailable(err)) throw new StartupError(`cannot use the database ${where}: ${reason(err)}`);
        if (Date.now() + RETRY_INTERVAL_MS > deadline) {
          throw new StartupError(`cannot reach the database ${where} (waited ${Math.round(config.startupWaitMs / 1000)} s, BENCHLINE_STARTUP_DB_WAIT_MS): ${reason(err)}`);
        }
        if (!waiting) log.warn({ database: where, reason: reason(err) }, 'waiting for the database');
        await sleep(RETRY_INTERVAL_MS);
      }
    }
    const { pending, unknown } = await migrationStatus(db);
    // A newer release migrated already (a rolling upgrade): its migrations keep this code's schema.
    if (unknown.length) log.warn({ database: where, unknown }, 'the database has migrations this release does not know');
    if (!pending.length) return;
    if (!config.migrateOnStart) {
      throw new StartupError(`the database ${where} lacks ${pending.length} migration${pending.length > 1 ? 's' : ''} (${pending.join(', ')}): run \`npm run migrate\` (or set BENCHLINE_MIGRATE_ON_START=true)`);
    }
    log.info({ database: where, applied: await migrateLatest(db) }, 'applied pending migrations');
  } finally {
    await db.destroy();
  }
}

/** The driver's code and first line; pg's messages name users and databases, never passwords. */
function reason(err: unknown): string {
  const { code, message } = err as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message.split('\n')[0] : String(err);
  // Several addresses refused at once (localhost as ::1 and 127.0.0.1): AggregateError's message is empty.
  const inner = !text && Array.isArray((err as { errors?: unknown }).errors) ? reason((err as { errors: unknown[] }).errors[0]) : undefined;
  return inner ?? (typeof code === 'string' && !text.includes(code) ? `${code} ${text}` : text);
}
