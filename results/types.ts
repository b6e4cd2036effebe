/**
 * What adapters produce: benchmark name → measure slug → one measurement. This is the Bencher Metric
 * Format's shape, so the `json` adapter is the identity and every other adapter converts into it.
 */
export interface Measurement {
  value: number;
  lower_value?: number;
  upper_value?: number;
}

export type BenchmarkResults = Record<string, Record<string, Measurement>>;

/** Longest benchmark and measure names stored: beyond these, a name no longer fits a Postgres index entry. */
export const MAX_BENCHMARK_NAME = 1024;
export const MAX_MEASURE_NAME = 64;

/** The output of one job, as adapters see it. */
export interface AdapterInput {
  stdout: string;
  /** Output files the job asked for: path → contents. */
  files: Record<string, string>;
}

export class AdapterError extends Error {
  constructor(
    message: string,
    readonly adapter: string,
  ) {
    super(message);
    this.name = 'AdapterError';
  }
}

/** Which average a harness that reports several should give (Bencher's `--average`). */
export type Average = 'mean' | 'median';

export interface AdapterOptions {
  /** Unset: the harness's own default. An average the harness does not report is an AdapterError. */
  average?: Average;
}
