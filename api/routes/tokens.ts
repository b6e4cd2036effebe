import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createdToken, newToken, tokenView } from '../../common/schemas/organizations';
import { booleanFilter, paginationQuery } from '../../common/schemas/pagination';
import { isUuid } from '../../db/refs';
import { createUserToken, findUserToken, revokeUserToken, tokensQuery, type TokenRow } from '../../db/tokens';
import { notFound } from '../errors';
import { paginate } from '../pagination';
import { errorResponses, iso } from '../resources';

// Named uuid, not token: the value is the token's UUID, never the token itself.
const tokenParams = z.object({ uuid: z.string().describe('token UUID') });
const tags = ['tokens'];

const toView = (t: Omit<TokenRow, 'token_hash' | 'user_id'>) => ({
  uuid: t.id, name: t.name, created: t.created_at.toISOString(), expires: iso(t.expires_at), revoked: iso(t.revoked_at), last_used: iso(t.last_used_at),
});

/** The caller's own API tokens. The plaintext appears once, in the creation response; listings never carry it or its hash. */
const tokenRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/v0/tokens',
    { preHandler: app.requireUser, schema: { summary: 'Create an API token for yourself (the token is shown once)', tags, body: newToken, response: { 201: createdToken, ...errorResponses } } },
    async (request, reply) => {
      const { name, ttl_seconds } = request.body;
      const expiresAt = ttl_seconds === undefined ? null : new Date(Date.now() + ttl_seconds * 1000);
      const { row, token } = await createUserToken(app.db, request.user!.id, name, expiresAt);
      return reply.status(201).send({ ...toView(row), token });
    },
  );

  app.get(
    '/v0/tokens',
    {
      preHandler: app.requireUser,
      schema: { summary: 'List your API tokens', tags, querystring: paginationQuery.extend({ revoked: booleanFilter }), response: { 200: z.array(tokenView), ...errorResponses } },
    },
    async (request, reply) => {
      const query = tokensQuery(app.db, request.user!.id, request.query.revoked);
      const rows = await paginate<TokenRow>(app.db, reply, query, request.query, [{ column: 'created_at', order: 'desc' }, { column: 'id' }]);
      return rows.map(toView);
    },
  );

  /** Only the caller's own tokens exist for them: anyone else's is "not found". */
  const ownToken = async (userId: string, id: string) => {
    const row = isUuid(id) ? await findUserToken(app.db, userId, id) : undefined;
    if (!row) throw notFound(`token "${id}"`);
    return row;
  };

  app.get(
    '/v0/tokens/:uuid',
    { preHandler: app.requireUser, schema: { summary: 'View one of your API tokens', tags, params: tokenParams, response: { 200: tokenView, ...errorResponses } } },
    async (request) => toView(await ownToken(request.user!.id, request.params.uuid)),
  );

  // A state change, not a deletion: the token stays listed (and viewable) as revoked.
  app.post(
    '/v0/tokens/:uuid/revoke',
    { preHandler: app.requireUser, schema: { summary: 'Revoke one of your API tokens (it is refused from now on; it stays listed as revoked)', tags, params: tokenParams, response: { 200: tokenView, ...errorResponses } } },
    async (request) => {
      const { id } = await ownToken(request.user!.id, request.params.uuid);
      return toView((await revokeUserToken(app.db, request.user!.id, id))!);
    },
  );
};

export default tokenRoutes;
