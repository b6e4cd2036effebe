import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import { bearerToken, hashToken } from '../common/tokens';
import { countRequest, sweepRateLimits } from '../db/rate-limit';
import { HttpError } from './errors';

export interface RateLimits {
  /** Requests per window allowed for one API token. */
  perToken: number;
  /** Requests per window allowed from one source IP, for requests without a valid token. */
  perIp: number;
  windowSeconds: number;
}

/**
 * Counts a request against `key` in the current fixed window: seconds until the window ends when
 * over `limit`. One upsert, so it holds across api replicas; stale windows are swept now and then.
 */
async function hit(db: Knex, key: string, limit: number, windowSeconds: number, now = Date.now()): Promise<number | undefined> {
  const windowStart = new Date(Math.floor(now / 1000 / windowSeconds) * windowSeconds * 1000);
  const count = await countRequest(db, key, windowStart);
  if (Math.random() < 0.01) await sweepRateLimits(db, new Date(now - 2 * windowSeconds * 1000));
  return count > limit ? Math.max(1, Math.ceil((windowStart.getTime() + windowSeconds * 1000 - now) / 1000)) : undefined;
}

const rateLimits = new WeakSet<object>();

/** Whether a preHandler is a rate limit (the OpenAPI document lists 429 for its routes). */
export const isRateLimit = (handler: unknown): boolean => typeof handler === 'function' && rateLimits.has(handler);

/**
 * preHandler, after the user is read: 429 with Retry-After once the caller is over its limit. A
 * request with a valid token counts against that token only (a CI fleet behind one NAT shares an
 * IP, not a token); anonymous requests count against their source IP.
 */
export function rateLimit(db: Knex, limits: RateLimits) {
  const limit = async (request: FastifyRequest, reply: FastifyReply) => {
    const token = request.user ? bearerToken(request.headers.authorization) : undefined;
    // Keyed by the token's hash: the plaintext never reaches the database.
    const [key, limit] = token ? [`token:${hashToken(token)}`, limits.perToken] : [`ip:${request.ip}`, limits.perIp];
    const retryAfter = await hit(db, key, limit, limits.windowSeconds);
    if (retryAfter !== undefined) {
      reply.header('retry-after', String(retryAfter));
      throw new HttpError(429, 'rate_limited', `too many submissions: retry in ${retryAfter}s`);
    }
  };
  rateLimits.add(limit);
  return limit;
}
