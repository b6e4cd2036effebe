import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { bearerToken, CLAIM_TOKEN_HEADER, TOKEN_KINDS } from '../common/tokens';
import { runnerForToken, userForToken } from '../db/auth';
import { claimTokenOrganization } from '../db/organizations';
import type { RunnerRow, UserRow } from '../db/rows';
import { touchRunner } from '../db/runners';
import { forbidden, HttpError, unauthorized } from './errors';

export const RUNNER_UNAVAILABLE = 'runner_unavailable';

declare module 'fastify' {
  interface FastifyRequest {
    user?: UserRow;
    runner?: RunnerRow;
    /** The unclaimed organization whose claim token came with the request (optionalClaimant). */
    claimantOf?: string;
  }
  interface FastifyInstance {
    /** preHandler: a valid user API token is required (checked before validation, see the onRoute hook). */
    requireUser(request: FastifyRequest): Promise<void>;
    /** preHandler: a user API token is read when present (public views need none). */
    optionalUser(request: FastifyRequest): Promise<void>;
    /** preHandler: the runner token of the runner named in the path, which must be neither locked nor archived. */
    requireRunner(request: FastifyRequest): Promise<void>;
    /** preHandler: an anonymous submitter's claim token is read when present, for reads of its jobs and reports. */
    optionalClaimant(request: FastifyRequest): Promise<void>;
  }
}

export default fp(async function auth(app: FastifyInstance) {
  async function readUser(request: FastifyRequest, required: boolean): Promise<void> {
    const token = bearerToken(request.headers.authorization);
    if (!token) {
      if (required) throw unauthorized('an API token is required: Authorization: Bearer <token>');
      return;
    }
    const user = await userForToken(app.db, token);
    if (!user) throw unauthorized(token.startsWith(TOKEN_KINDS.user) ? 'invalid or revoked API token' : 'malformed API token');
    request.user = user;
  }

  app.decorate('requireUser', (request: FastifyRequest) => readUser(request, true));
  app.decorate('optionalUser', (request: FastifyRequest) => readUser(request, false));

  // Checked once here, not per project, so a request without the header costs no query. A token
  // that names no unclaimed organization (wrong, or spent by the claim) is a 401 like a bad API
  // token, rather than a quiet fall back to the redacted view: the client learns its token no
  // longer works. It tells nothing about any project: the lookup does not involve one.
  app.decorate('optionalClaimant', async (request: FastifyRequest) => {
    const token = request.headers[CLAIM_TOKEN_HEADER];
    if (token === undefined) return;
    const organization = typeof token === 'string' ? await claimTokenOrganization(app.db, token) : undefined;
    if (!organization) throw unauthorized(`${CLAIM_TOKEN_HEADER}: not the claim token of an unclaimed organization (wrong, or the organization was claimed)`);
    request.claimantOf = organization;
  });

  // A required token is checked before the input is validated, so a call without one is a 401
  // whatever its body. Routes name these as preHandlers; they are moved here, once, for every route.
  // (The input-text guard, a root preValidation hook, still runs first: no 500 reaches anyone.)
  app.addHook('onRoute', (route) => {
    const chain = [route.preHandler ?? []].flat() as unknown[];
    const required = chain.filter((handler) => handler === app.requireUser || handler === app.requireRunner);
    if (!required.length) return;
    route.preValidation = [...[route.preValidation ?? []].flat(), ...required] as typeof route.preValidation;
    route.preHandler = chain.filter((handler) => !required.includes(handler)) as typeof route.preHandler;
  });

  app.decorate('requireRunner', async (request: FastifyRequest) => {
    const token = bearerToken(request.headers.authorization);
    if (!token) throw unauthorized('a runner token is required: Authorization: Bearer benchline_runner_<64 hex>');
    const runner = await runnerForToken(app.db, token);
    if (!runner) throw unauthorized(token.startsWith(TOKEN_KINDS.runner) && token.length === TOKEN_KINDS.runner.length + 64 ? 'unknown runner token' : 'malformed runner token');
    const named = (request.params as { runner?: string }).runner;
    if (named !== runner.id && named !== runner.slug) throw forbidden('this token belongs to another runner');
    // A distinct code, so the daemon knows to stop taking work rather than fail the job.
    if (runner.archived_at) throw new HttpError(403, RUNNER_UNAVAILABLE, `runner ${runner.slug} is archived`);
    if (runner.locked_at) throw new HttpError(403, RUNNER_UNAVAILABLE, `runner ${runner.slug} is locked`);
    request.runner = runner;
    await touchRunner(app.db, runner.id);
  });
});
