import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { FieldError } from '../common/field-error';
import { InvalidTransitionError } from '../common/contracts';
import { DatabaseCircuitOpenError } from '../db/circuit-breaker';
import { isDatabaseUnavailable } from '../db/unavailable';

/** Seconds a client is told to wait when the database is unreachable: long enough for a restart or failover. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** An error with a status and a code the client can act on; the one JSON shape every error takes. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const badRequest = (field: string, message: string) => new HttpError(400, 'bad_request', `${field}: ${message}`, { field });
export const notFound = (what: string) => new HttpError(404, 'not_found', `${what} not found`);
export const forbidden = (message: string) => new HttpError(403, 'forbidden', message);
export const unauthorized = (message: string) => new HttpError(401, 'unauthorized', message);
export const conflict = (message: string) => new HttpError(409, 'conflict', message);

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = err.validation.map((v) => ({ field: `${err.validationContext}${v.instancePath.replaceAll('/', '.')}`, message: v.message }));
      return reply.status(400).send({
        error: 'bad_request',
        message: issues.map((i) => `${i.field}: ${i.message}`).join('; '),
        details: issues,
      });
    }
    if (err instanceof HttpError) {
      return reply.status(err.statusCode).send({ error: err.code, message: err.message, details: err.details });
    }
    if (err instanceof FieldError) {
      return reply.status(400).send({ error: 'bad_request', message: err.message, details: { field: err.field } });
    }
    if (err instanceof InvalidTransitionError) {
      return reply.status(409).send({ error: 'conflict', message: err.message });
    }
    // Fastify's own client errors (bad JSON, body too large, wrong content type) keep their status.
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.status(err.statusCode).send({ error: err.code ?? 'bad_request', message: err.message });
    }
    if (isDatabaseUnavailable(err)) {
      // The breaker logged when it opened; a line per refused request would flood the log in an outage.
      if (err instanceof DatabaseCircuitOpenError) request.log.debug('database circuit open');
      else request.log.warn({ err }, 'database unavailable');
      // An open breaker knows when it lets a probe through: retrying sooner only meets it again.
      const retryAfter = err instanceof DatabaseCircuitOpenError ? Math.max(1, Math.ceil(err.retryAfterMs / 1000)) : DATABASE_RETRY_AFTER_SECONDS;
      reply.header('retry-after', String(retryAfter));
      return reply.status(503).send({ error: 'unavailable', message: 'database unavailable, retry later' });
    }
    request.log.error({ err }, 'unhandled error');
    return reply.status(500).send({ error: 'internal', message: 'internal server error' });
  });
}
