/**
 * Whether an error means Postgres could not be reached or dropped the connection, rather than that
 * the query was wrong: the api answers these 503 + Retry-After so that clients retry.
 */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

// SQLSTATE class 08 (connection exception), 57P01–57P03 (admin/crash shutdown, cannot connect now), 53300 (too many connections).
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|53300)$/;

export function isDatabaseUnavailable(err: unknown): boolean {
  // Duck-typed, not instanceof: socket errors are made by Node's own realm.
  if (err === null || typeof err !== 'object') return false;
  const { name, code, message, errors } = err as { name?: unknown; code?: unknown; message?: unknown; errors?: unknown };
  // knex: no pooled connection within acquireConnectionTimeout; our pool's breaker refusing (db/circuit-breaker.ts).
  if (name === 'KnexTimeoutError' || name === 'DatabaseCircuitOpenError') return true;
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
  // pg: the server went away mid-query, the connect timed out, or a pooled client broke with its
  // connection and is used again (none of these carries a code).
  if (typeof message === 'string' && /^Connection terminated|^Client has encountered a connection error and is not queryable/.test(message)) return true;
  // Several addresses refused at once (localhost as ::1 and 127.0.0.1).
  return Array.isArray(errors) && errors.some(isDatabaseUnavailable);
}
