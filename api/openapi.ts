import type { SwaggerTransform } from '@fastify/swagger';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { errorBody } from '../common/schemas';
import { CLAIM_TOKEN_HEADER } from '../common/tokens';
import { ACCEPTED_TEXT_PATTERN } from './input-text';
import { isRateLimit } from './rate-limit';
import { requireAdmin } from './resources';

/**
 * Security schemes: user API tokens and runner tokens both travel as `Authorization: Bearer`; an
 * anonymous submission's claim token travels in its own header, on the reads of its jobs and reports.
 */
export const securitySchemes = {
  bearer: { type: 'http', scheme: 'bearer', description: 'a user API token (benchline_user_…)' },
  runner: { type: 'http', scheme: 'bearer', description: 'the runner token of the runner named in the path (benchline_runner_…)' },
  claim: {
    type: 'apiKey',
    in: 'header',
    name: CLAIM_TOKEN_HEADER,
    description: "an anonymous submission's claim_token (benchline_claim_…): its holder reads the jobs and reports of the unclaimed organization as a member would, until the organization is claimed",
  },
} as const;

/** Statuses every operation can answer, whatever the route: limits enforced before routing, and an unreachable database. */
const EVERY_ROUTE = { 414: errorBody, 431: errorBody, 503: errorBody };

// Authentication may sit in preValidation (auth.ts moves the required kinds there), the rest in preHandler.
const handlers = (route: RouteOptions): unknown[] => [route.preValidation ?? [], route.preHandler ?? []].flat();

/**
 * Builds each operation's document from what the route really does, so the document cannot drift
 * from the server: its security from its auth preHandler, the error statuses its hooks and limits
 * answer, and the text rule every input string is held to (input-text.ts).
 */
export function documentTransform(app: FastifyInstance): SwaggerTransform {
  return (document) => {
    const { schema, route } = document;
    if (!schema || schema.hide) return jsonSchemaTransform(document);
    const chain = handlers(route);
    const responses: Record<string, unknown> = { ...EVERY_ROUTE };
    let security: Record<string, string[]>[] = [];
    if (chain.includes(app.requireUser)) {
      security = [{ bearer: [] }];
      Object.assign(responses, { 401: errorBody });
      if (chain.includes(requireAdmin)) Object.assign(responses, { 403: errorBody });
    } else if (chain.includes(app.optionalUser)) {
      // Anonymous calls are served; a token that is sent must be valid.
      security = [{}, { bearer: [] }, ...(chain.includes(app.optionalClaimant) ? [{ claim: [] }] : [])];
      Object.assign(responses, { 401: errorBody });
    } else if (chain.includes(app.requireRunner)) {
      security = [{ runner: [] }];
      Object.assign(responses, { 401: errorBody, 403: errorBody });
    }
    if (chain.some(isRateLimit)) Object.assign(responses, { 429: errorBody });
    if (schema.params || schema.querystring || schema.body) Object.assign(responses, { 400: errorBody });
    if (schema.params) Object.assign(responses, { 404: errorBody });
    // Fastify's own refusals of a body: too large, or not JSON.
    if (schema.body) Object.assign(responses, { 413: errorBody, 415: errorBody });
    const transformed = jsonSchemaTransform({
      ...document,
      schema: { ...schema, security, response: { ...responses, ...(schema.response as object) } },
    });
    const json = transformed.schema as Record<string, unknown> & { response: Record<string, unknown> };
    for (const part of ['params', 'querystring', 'body', 'headers'] as const) if (json[part]) restrictText(json[part]);
    // No Content has no body: a null schema is what @fastify/swagger documents without content.
    if (json.response[204]) json.response[204] = { type: 'null', description: 'No Content' };
    return transformed;
  };
}

/** Adds the accepted-text pattern to every free-form string of an input schema (in place). */
function restrictText(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(restrictText);
  if (node === null || typeof node !== 'object') return;
  const schema = node as Record<string, unknown>;
  // A pattern, a format or an enum already keeps NUL out.
  if (schema.type === 'string' && !('pattern' in schema) && !('format' in schema) && !('enum' in schema) && !('const' in schema)) {
    schema.pattern = ACCEPTED_TEXT_PATTERN;
  }
  // Object keys are held to the rule too (input-text.ts), but OpenAPI 3.0 has no propertyNames to say so.
  Object.values(schema).forEach(restrictText);
}
