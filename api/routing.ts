import type { Duplex } from 'node:stream';
import { METHODS } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import { HttpError } from './errors';

/** Longest request target served (path and query); longer is 414, well under Node's 16 KiB header limit (431). */
export const MAX_URL_LENGTH = 8192;

/** The router's own refusals, in the api's one error shape (Fastify's default echoes the whole URL). */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return reply.status(414).send({ error: 'uri_too_long', message: `a path parameter is longer than ${MAX_URL_LENGTH} characters` });
  }
  return reply.status(400).send({ error: 'bad_request', message: 'the URL is not validly percent-encoded' });
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (headers over its 16 KiB limit, a
 * malformed request line, a request that timed out) get the API's error shape, as its OpenAPI
 * document declares for every route; Fastify's default adds a `statusCode` field it does not.
 */
export function clientErrors(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, body] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', { error: 'headers_too_large', message: 'the request headers exceed the 16 KiB limit' }]
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', { error: 'request_timeout', message: 'the request was not received in time' }]
        : [400, 'Bad Request', { error: 'bad_request', message: 'the HTTP request could not be parsed' }];
  const json = JSON.stringify(body);
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(json)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${json}`);
  socket.destroy(err);
}

/**
 * What the router answers besides a route: 414 for an over-long URL, and for a path that exists
 * under other methods 405 with Allow, rather than a 404 that says the path does not exist.
 */
export function registerRouting(app: FastifyInstance): void {
  // A second router holding every route's path, to ask which methods a path has; Fastify's own
  // router only answers for the request's method.
  const paths = FindMyWay();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) paths.on(method as HTTPMethod, route.url, () => undefined);
  });

  /** 405 with Allow when the path exists under other methods, else 404. */
  function unrouted(request: FastifyRequest, reply: FastifyReply) {
    const path = request.url.split('?')[0];
    const allowed = METHODS.filter((method) => paths.find(method as HTTPMethod, path) !== null);
    // A route of this method that found nothing to serve (a missing static file) is a plain 404.
    if (allowed.length && !allowed.includes(request.method)) {
      return reply
        .status(405)
        .header('allow', allowed.join(', '))
        .send({ error: 'method_not_allowed', message: `${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}` });
    }
    return reply.status(404).send({ error: 'not_found', message: `no route ${request.method} ${path}` });
  }

  app.addHook('onRequest', async (request, reply) => {
    if (request.url.length > MAX_URL_LENGTH) throw new HttpError(414, 'uri_too_long', `the URL is longer than ${MAX_URL_LENGTH} characters`);
    // Answered before the body is read: Fastify would otherwise refuse a bodiless QUERY (no content
    // type) on a path that has no such route with a 400 about its body.
    if (request.is404) return unrouted(request, reply);
  });
  app.setNotFoundHandler(unrouted);
}
