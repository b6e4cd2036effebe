import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';
import { buildInfo } from './build-info';

// The SDK, the exporter and the Temporal interceptors load only when tracing starts: a process
// that does not trace never reads them (every runner API call imports this module).
/* eslint-disable @typescript-eslint/no-require-imports */
const sdk = () => ({
  ...(require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http')),
  ...(require('@opentelemetry/resources') as typeof import('@opentelemetry/resources')),
  ...(require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base')),
  ...(require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node')),
});

/** Which Benchline process is tracing: its spans carry service.name `benchline-<role>`. */
export type TracedRole = 'api' | 'orchestrator' | 'runner';

interface Tracing {
  provider: NodeTracerProvider;
  resource: Resource;
  spanProcessor: SpanProcessor;
}

let active: Tracing | undefined;

/** Tracing is on when an OTLP endpoint is configured (the standard variables), or BENCHLINE_TRACING=1 for the exporter's default (localhost:4318). */
export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.BENCHLINE_TRACING === '1' || env.BENCHLINE_TRACING === 'true');
}

/**
 * Starts exporting this process's spans over OTLP/HTTP (JSON) when configured, else does nothing:
 * with no provider registered, @opentelemetry/api hands out no-op tracers and the Temporal
 * interceptors are not installed, so tracing that is off costs nothing. Call first in main, before
 * any Temporal connection or fastify instance is made. The exporter reads the OTEL_EXPORTER_OTLP_*
 * variables itself (endpoint, headers, timeout); OTEL_SERVICE_NAME overrides the service name.
 */
export function startTracing(role: TracedRole, env: NodeJS.ProcessEnv = process.env): boolean {
  if (active || !tracingEnabled(env)) return Boolean(active);
  const { BatchSpanProcessor, NodeTracerProvider, OTLPTraceExporter, Resource } = sdk();
  const build = buildInfo();
  const resource = new Resource({
    'service.name': env.OTEL_SERVICE_NAME || `benchline-${role}`,
    'service.namespace': 'benchline',
    'service.version': build.version,
    'service.instance.id': `${process.pid}`,
    ...(build.sha ? { 'vcs.ref.head.revision': build.sha } : {}),
    ...(build.buildId ? { 'benchline.build_id': build.buildId } : {}),
  });
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: Number(env.BENCHLINE_TRACING_EXPORT_DELAY_MS ?? 2000) });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // The AsyncLocalStorage context manager and the W3C traceparent/baggage propagators.
  provider.register();
  active = { provider, resource, spanProcessor };
  return true;
}

/** Flushes and stops the exporter (on shutdown: spans of the last seconds are otherwise lost). */
export async function stopTracing(): Promise<void> {
  await active?.provider.shutdown();
  active = undefined;
}

/**
 * The Temporal SDK's OpenTelemetry plugin for a client or worker: client calls carry the caller's
 * context in Temporal headers, workflows (its interceptor module is bundled with the workflows) and
 * activities continue it, and workflow spans leave the sandbox through a sink into this process's
 * span processor. Empty when tracing is off.
 */
export function temporalTracingPlugins(): OpenTelemetryPlugin[] {
  if (!active) return [];
  const { OpenTelemetryPlugin } = require('@temporalio/interceptors-opentelemetry') as typeof import('@temporalio/interceptors-opentelemetry');
  return [new OpenTelemetryPlugin({ resource: active.resource, spanProcessor: active.spanProcessor })];
}

const tracer = () => trace.getTracer('benchline');

/**
 * Runs an outgoing HTTP call in a client span, handing `call` the headers that carry the trace
 * (traceparent) to the server. Without tracing the headers are empty and no span exists.
 */
export async function withClientSpan<T>(name: string, attributes: Attributes, call: (headers: Record<string, string>) => Promise<T>): Promise<T> {
  if (!active) return call({});
  return tracer().startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    const headers: Record<string, string> = {};
    propagation.inject(context.active(), headers);
    try {
      return await call(headers);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

export function isTracing(): boolean {
  return active !== undefined;
}
