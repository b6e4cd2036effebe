import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { FastifyInstance, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { isTracing } from '../common/tracing';

declare module 'fastify' {
  interface FastifyRequest {
    span?: Span;
  }
}

/**
 * A server span per request, continuing the caller's trace (a runner's traceparent), with the route
 * handler run inside it so the Temporal client's interceptor carries it into the workflow it starts.
 * Done by hand in three hooks rather than through @fastify/otel, which needs OpenTelemetry 2.x and
 * the Temporal interceptors of SDK 1.24 are built on 1.x. Registers nothing when tracing is off.
 */
export default fp(async function tracing(app: FastifyInstance) {
  if (!isTracing()) return;
  const tracer = trace.getTracer('benchline-api');

  app.addHook('onRequest', async (request) => {
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const route = request.routeOptions.url ?? 'unmatched';
    request.span = tracer.startSpan(`${request.method} ${route}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': request.method, 'http.route': route, 'url.path': request.url.split('?')[0] },
    }, parent);
  });
  // The handler runs after the body is read, outside any hook's async context: wrap it.
  app.addHook('onRoute', (route: RouteOptions) => {
    const handler = route.handler;
    route.handler = function traced(request, reply) {
      return request.span ? context.with(trace.setSpan(context.active(), request.span), () => handler.call(this, request, reply)) : handler.call(this, request, reply);
    };
  });
  app.addHook('onResponse', async (request, reply) => {
    request.span?.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) request.span?.setStatus({ code: SpanStatusCode.ERROR });
    request.span?.end();
  });
  app.addHook('onRequestAbort', async (request) => {
    request.span?.setStatus({ code: SpanStatusCode.ERROR, message: 'client aborted' });
    request.span?.end();
  });
});
