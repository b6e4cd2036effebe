import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, type HttpError } from './errors';

/**
 * Text Postgres refuses: NUL (not storable in text, nor as \u0000 in jsonb) and unpaired UTF-16
 * surrogates (jsonb rejects the \uD800 escape JSON.stringify writes for them). Any input string
 * holding one would reach the database as a 500, so every request is checked once, here, before
 * its schema and before authentication: an anonymous request gets the same 400.
 */
const REFUSED = /\u0000|\p{Cs}/u;

/**
 * The rule as the OpenAPI document states it. NUL only: a JSON Schema pattern is matched per code
 * point, where an unpaired surrogate cannot be written, and generators (schemathesis) cannot use a
 * surrogate range.
 */
export const ACCEPTED_TEXT_PATTERN = '^[^\\u0000]*$';

function reason(text: string): string | undefined {
  const found = REFUSED.exec(text);
  if (!found) return undefined;
  return found[0] === '\u0000' ? 'NUL characters (\\u0000) are not accepted' : 'unpaired UTF-16 surrogates are not accepted';
}

/**
 * Deepest nesting any input may have. No schema of the api goes near it; without a bound a 40 kB body
 * of nested arrays (sent by anyone) overflows the stack here, or in JSON.stringify on its way to a
 * jsonb column, as a 500.
 */
export const MAX_INPUT_DEPTH = 32;

/** The first refused string in a parsed value (keys included), or nesting past MAX_INPUT_DEPTH, as a 400 naming its path. */
export function refusedText(value: unknown, path: string, depth = 0): HttpError | undefined {
  if (depth > MAX_INPUT_DEPTH && value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    return badRequest(path, `nested deeper than ${MAX_INPUT_DEPTH} levels`);
  }
  if (typeof value === 'string') {
    const why = reason(value);
    return why ? badRequest(path, why) : undefined;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = refusedText(value[i], `${path}.${i}`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  // Plain parsed objects only: an uploaded Buffer is bytes, not text.
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const [key, inner] of Object.entries(value)) {
      const why = reason(key);
      if (why) return badRequest(path, `key ${JSON.stringify(key)}: ${why}`);
      const found = refusedText(inner, `${path}.${key}`, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

export function guardInputText(app: FastifyInstance): void {
  // preValidation runs after parsing and before the schema and every preHandler (auth, rate limits).
  app.addHook('preValidation', async (request: FastifyRequest) => {
    for (const part of ['params', 'query', 'body'] as const) {
      const found = refusedText(request[part], part === 'query' ? 'querystring' : part);
      if (found) throw found;
    }
  });
}
