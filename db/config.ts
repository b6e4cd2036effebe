import { z } from 'zod';
import { envBool, envInt } from '../common/env';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/benchline';

/** Where a database URL points, for messages: user, host, port and database, never the password. */
export function describeDatabaseUrl(databaseUrl: string): string {
  if (!URL.canParse(databaseUrl)) return 'an unparsable DATABASE_URL';
  const url = new URL(databaseUrl);
  return `${url.username ? `${decodeURIComponent(url.username)}@` : ''}${url.hostname || 'localhost'}:${url.port || 5432}/${decodeURIComponent(url.pathname.slice(1))}`;
}

// Never echoes the value: it may carry a password.
const databaseUrl = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const value = v?.trim() || DEFAULT_DATABASE_URL;
    if (URL.canParse(value) && ['postgres:', 'postgresql:'].includes(new URL(value).protocol) && new URL(value).pathname.length > 1) return value;
    ctx.addIssue({ code: 'custom', message: 'expected postgres://user[:password]@host[:port]/database' });
    return z.NEVER;
  });

/** The database settings the api and the orchestrator share, one entry per variable (parseEnv). */
export const databaseEnv = {
  DATABASE_URL: databaseUrl,
  /** How long a starting process waits for Postgres to answer: a restart of both at once is normal. */
  BENCHLINE_STARTUP_DB_WAIT_MS: envInt(15000, { max: 600000 }),
  /** Apply pending migrations at start instead of refusing to start (a single-process deployment). */
  BENCHLINE_MIGRATE_ON_START: envBool(false),
  /** Statements slower than this are logged (statement text, never values) and counted. */
  BENCHLINE_SLOW_QUERY_MS: envInt(1000),
  /** Consecutive connection failures that open the pool's circuit breaker. */
  BENCHLINE_DB_BREAKER_THRESHOLD: envInt(5, { min: 1, max: 1000 }),
  /** How long an open breaker refuses before one request probes the database again. */
  BENCHLINE_DB_BREAKER_COOLDOWN_MS: envInt(2000, { min: 100, max: 600000 }),
};

export interface DatabaseConfig {
  url: string;
  startupWaitMs: number;
  migrateOnStart: boolean;
  slowQueryMs: number;
  breaker: { threshold: number; cooldownMs: number };
}

export function databaseConfig(env: z.output<z.ZodObject<typeof databaseEnv>>): DatabaseConfig {
  return {
    url: env.DATABASE_URL,
    startupWaitMs: env.BENCHLINE_STARTUP_DB_WAIT_MS,
    migrateOnStart: env.BENCHLINE_MIGRATE_ON_START,
    slowQueryMs: env.BENCHLINE_SLOW_QUERY_MS,
    breaker: { threshold: env.BENCHLINE_DB_BREAKER_THRESHOLD, cooldownMs: env.BENCHLINE_DB_BREAKER_COOLDOWN_MS },
  };
}
