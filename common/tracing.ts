import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';
import { buildInfo } from './build-info';
import { envBool, envInt, envString, parseEnv } from './env';

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

const optionalHttpUrl = () => envString(undefined).refine((v) => v === undefined || (URL.canParse(v) && ['http:', 'https:'].includes(new URL(v).protocol)), 'expected an http or https URL');

/** The variables tracing reads (the exporter reads the other OTEL_EXPORTER_OTLP_* itself). */
export const tracingEnv = {
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalHttpUrl(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalHttpUrl(),
  OTEL_SERVICE_NAME: envString(undefined),
  /** On without an endpoint: the exporter's default, localhost:4318. */
  BENCHLINE_TRACING: envBool(false),
  /** How long spans are batched before export (the SDK's default is 5 s). */
  BENCHLINE_TRACING_EXPORT_DELAY_MS: envInt(2000, { min: 10, max: 60000 }),
};

/**
 * Starts exporting this process's spans over OTLP/HTTP (JSON) when configured, else does nothing:
 * with no provider registered, @opentelemetry/api hands out no-op tracers and the Temporal
 * interceptors are not installed, so tracing that is off costs nothing. Call first in main, before
 * any Temporal connection or fastify instance is made. The exporter reads the OTEL_EXPORTER_OTLP_*
 * variables itself (endpoint, headers, timeout); OTEL_SERVICE_NAME overrides the service name. A
 * variable that does not parse is a ConfigError naming it, as for every other setting.
 */
export function startTracing(role: TracedRole, env: NodeJS.ProcessEnv = process.env): boolean {
  const config = parseEnv(tracingEnv, env);
  if (active || !(config.OTEL_EXPORTER_OTLP_ENDPOINT || config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || config.BENCHLINE_TRACING)) return Boolean(active);
  const { BatchSpanProcessor, NodeTracerProvider, OTLPTraceExporter, Resource } = sdk();
  const build = buildInfo();
  const resource = new Resource({
    'service.name': config.OTEL_SERVICE_NAME ?? `benchline-${role}`,
    'service.namespace': 'benchline',
    'service.version': build.version,
    'service.instance.id': `${process.pid}`,
    ...(build.sha ? { 'vcs.ref.head.revision': build.sha } : {}),
    ...(build.buildId ? { 'benchline.build_id': build.buildId } : {}),
  });
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: config.BENCHLINE_TRACING_EXPORT_DELAY_MS });
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
