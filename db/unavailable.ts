/**
 * Whether an error means Postgres could not be reached or dropped the connection, rather than that
 * the query was wrong: the api answers these 503 + Retry-After so that clients retry.
 */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

// SQLSTATE class 08 (connection exception), 57P01–57P03 (admin/crash shutdown, cannot connect now), 53300 (too many connections).
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|53300)$/;

export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  // knex: no pooled connection within acquireConnectionTimeout.
  if (err.name === 'KnexTimeoutError') return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
  // pg: the server went away mid-query, or the connect timed out (neither carries a code).
  if (/^Connection terminated/.test(err.message)) return true;
  // Several addresses refused at once (localhost as ::1 and 127.0.0.1).
  if (err instanceof AggregateError) return err.errors.some(isDatabaseUnavailable);
  return false;
}
