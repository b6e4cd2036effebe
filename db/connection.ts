import knex, { type Knex } from 'knex';
import { logger as processLogger } from '../common/logger';
import { migrationSource } from '../migrations';
import { CircuitBreaker, type CircuitState } from './circuit-breaker';
import { isDatabaseUnavailable } from './unavailable';

export type Db = Knex;

export interface ConnectOptions {
  /** The pool's circuit breaker (default: opens after 5 consecutive failures, probes after 2 s); false: none. */
  breaker?: { threshold: number; cooldownMs: number } | false;
  /** Statements that take at least this long are logged and counted; unset: not timed. */
  slowQueryMs?: number;
  /** How long a query waits for a pooled connection (knex's default: 60 s). */
  acquireTimeoutMs?: number;
  /** Where breaker changes and slow statements are logged (default: the process's pino logger). */
  log?: DbLog;
}

export type DbLog = Pick<typeof processLogger, 'warn' | 'info'>;

/** What a pool has seen: its breaker and its slow statements, for /metrics and /ready. */
export interface DbHealth {
  breaker?: CircuitBreaker;
  slowQueries: number;
}

const health = new WeakMap<Db, DbHealth>();

export function dbHealth(db: Db): DbHealth | undefined {
  return health.get(db);
}

export const DEFAULT_BREAKER = { threshold: 5, cooldownMs: 2000 };

export function connect(databaseUrl: string, pool = { min: 0, max: 10 }, options: ConnectOptions = {}): Db {
  // A failed statement's error message carries its SQL text but not its bound values, which can be
  // secrets (token hashes, claim tickets) and reach logs through the api's error handler.
  const log = options.log ?? processLogger;
  const db = knex({
    client: 'pg',
    connection: databaseUrl,
    pool,
    compileSqlOnError: false,
    acquireConnectionTimeout: options.acquireTimeoutMs,
    // knex's own warnings (a failed acquire, with its stack) as one structured line, not console output.
    log: { warn: (message: string) => log.warn({ knex: firstLine(message) }, 'knex warning'), error: (message: string) => log.warn({ knex: firstLine(message) }, 'knex error') },
  });
  const state: DbHealth = { slowQueries: 0 };
  health.set(db, state);
  if (options.breaker !== false) state.breaker = guardPool(db, options.breaker ?? DEFAULT_BREAKER, log);
  if (options.slowQueryMs !== undefined) timeStatements(db, options.slowQueryMs, state, log);
  return db;
}

/**
 * Puts a circuit breaker in front of the pool's acquire, which every query and transaction goes
 * through. Failures: an acquire that could not connect, or a statement on a pooled connection that
 * found the server gone. Success: a statement completed, or the probe got a connection. Anything
 * else (a constraint violation, a syntax error) says nothing about the database being reachable.
 */
function guardPool(db: Db, settings: { threshold: number; cooldownMs: number }, log: DbLog): CircuitBreaker {
  const breaker = new CircuitBreaker({
    ...settings,
    onStateChange: (to: CircuitState, cause?: unknown) => {
      if (to === 'open') log.warn({ cooldownMs: settings.cooldownMs, cause: describeCause(cause) }, 'database circuit open: refusing queries until a probe connects');
      else if (to === 'closed') log.info('database circuit closed: the database answers again');
    },
  });
  const client = db.client as { acquireConnection(): Promise<unknown> };
  const acquire = client.acquireConnection.bind(client);
  client.acquireConnection = async () => {
    const probe = breaker.admit();
    try {
      const connection = await acquire();
      if (probe) breaker.success();
      return connection;
    } catch (err) {
      // A probe that failed for another reason (the pool destroyed) must still reopen, not stay half-open.
      if (probe || isDatabaseUnavailable(err)) breaker.failure(err);
      throw err;
    }
  };
  db.on('query-response', () => breaker.success());
  db.on('query-error', (err: unknown) => {
    if (isDatabaseUnavailable(err)) breaker.failure(err);
  });
  return breaker;
}

const firstLine = (text: string) => String(text).split('\n')[0];

/** Only the error's code or first line: a connection error can name hosts, never the password. */
function describeCause(cause: unknown): string | undefined {
  if (!cause || typeof cause !== 'object') return undefined;
  const { code, message } = cause as { code?: unknown; message?: unknown };
  return typeof code === 'string' ? code : typeof message === 'string' ? firstLine(message) : undefined;
}

/** Longest statement text a slow-query line carries. */
const MAX_LOGGED_SQL = 2000;

/**
 * Times every statement between knex's `query` and its `query-response` or `query-error` events
 * (matched by the statement's uid); those at or past `thresholdMs` are logged with their SQL text
 * (placeholders, never the bound values) and counted. Statements without a uid (a transaction's
 * BEGIN and COMMIT) are not timed.
 */
function timeStatements(db: Db, thresholdMs: number, state: DbHealth, log: DbLog): void {
  const started = new Map<string, number>();
  db.on('query', (query: { __knexQueryUid?: string }) => {
    if (!query.__knexQueryUid) return;
    // A statement whose end never came (a driver-level timeout) must not grow the map forever.
    if (started.size >= 10000) started.clear();
    started.set(query.__knexQueryUid, performance.now());
  });
  const ended = (query: { __knexQueryUid?: string; sql?: string; method?: string }, failed: boolean) => {
    const start = query.__knexQueryUid !== undefined ? started.get(query.__knexQueryUid) : undefined;
    if (start === undefined) return;
    started.delete(query.__knexQueryUid!);
    const durationMs = performance.now() - start;
    if (durationMs < thresholdMs) return;
    state.slowQueries++;
    log.warn({ durationMs: Math.round(durationMs), thresholdMs, sql: query.sql?.slice(0, MAX_LOGGED_SQL), failed }, 'slow query');
  };
  db.on('query-response', (_response: unknown, query: Parameters<typeof ended>[0]) => ended(query, false));
  db.on('query-error', (_err: unknown, query: Parameters<typeof ended>[0]) => ended(query, true));
}

export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = await db.migrate.latest({ migrationSource });
  return applied;
}

/**
 * Which of the code's migrations the database lacks, and which it has that the code does not know
 * (a newer release migrated it). Read-only: knex's own status call would create its table.
 */
export async function migrationStatus(db: Db): Promise<{ pending: string[]; unknown: string[] }> {
  const { rows } = await db.raw<{ rows: { present: boolean }[] }>("select to_regclass('knex_migrations') is not null as present");
  const applied: string[] = rows[0].present ? await db('knex_migrations').pluck('name') : [];
  const known = await migrationSource.getMigrations([]);
  return { pending: known.filter((m) => !applied.includes(m)), unknown: applied.filter((m) => !known.includes(m)) };
}

/** A round trip that needs only a live connection: the readiness probe. */
export async function ping(db: Db): Promise<void> {
  await db.raw('select 1');
}
