import { ConfigError } from '../../common/env';
import { isTracing, startTracing } from '../../common/tracing';

/** Tracing is off unless configured, and its variables are checked like every other setting. */
describe('tracing configuration', () => {
  it('stays off without an OTLP endpoint or BENCHLINE_TRACING', () => {
    expect(startTracing('api', {})).toBe(false);
    expect(startTracing('api', { BENCHLINE_TRACING: '0', OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toBe(false);
    expect(isTracing()).toBe(false);
  });

  it('refuses a malformed variable with one line naming it', () => {
    expect(() => startTracing('runner', { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(ConfigError);
    expect(() => startTracing('runner', { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT: expected an http or https URL/);
    expect(() => startTracing('runner', { BENCHLINE_TRACING: 'yes' })).toThrow(/BENCHLINE_TRACING: expected true, false, 1 or 0/);
    expect(() => startTracing('runner', { BENCHLINE_TRACING: '1', BENCHLINE_TRACING_EXPORT_DELAY_MS: '5s' })).toThrow(/BENCHLINE_TRACING_EXPORT_DELAY_MS/);
    expect(isTracing()).toBe(false);
  });
});
