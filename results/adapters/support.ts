// What every harness adapter shares: where output comes from, averages, and building results.
import type { z } from 'zod';
import { type Fold, MeasurementCollector } from '../fold';
import { AdapterError, type AdapterInput, type AdapterOptions, type Average, type BenchmarkResults, type Measurement } from '../types';

export interface Source {
  name: string;
  text: string;
}

/** The job's output files when it named any (JSON harnesses write a file), else its stdout. */
export function sourcesOf(input: AdapterInput): Source[] {
  const files = Object.entries(input.files);
  if (files.length === 0) return [{ name: 'stdout', text: input.stdout }];
  return files.map(([name, text]) => ({ name, text }));
}

/**
 * The average to report. `supported` lists what the harness prints, its default first; an empty
 * list means it prints single measurements. Asking for an average it does not print is an error
 * rather than a silent substitute, as in Bencher: a mean stored as a median would corrupt history.
 */
export function resolveAverage(adapter: string, options: AdapterOptions | undefined, supported: readonly Average[]): Average | undefined {
  const wanted = options?.average;
  if (wanted === undefined) return supported[0];
  if (supported.includes(wanted)) return wanted;
  const has = supported.length === 0 ? 'single measurements only' : `only a ${supported.join(' and a ')}`;
  throw new AdapterError(`${adapter} reports ${has}, not a ${wanted}`, adapter);
}

/** A measurement with symmetric bounds, e.g. mean ± standard deviation. */
export function withSpread(value: number, spread: number | undefined): Measurement {
  if (spread === undefined || !Number.isFinite(spread)) return { value };
  return { value, lower_value: value - spread, upper_value: value + spread };
}

/** A measurement with its own bounds, e.g. a confidence interval. */
export function withBounds(value: number, lower: number | undefined, upper: number | undefined): Measurement {
  const measurement: Measurement = { value };
  if (lower !== undefined && Number.isFinite(lower)) measurement.lower_value = lower;
  if (upper !== undefined && Number.isFinite(upper)) measurement.upper_value = upper;
  return measurement;
}

/**
 * Collects an adapter's measurements. A benchmark printed more than once (`go test -count 5`,
 * several output files) is folded with the chosen average rather than the last one winning.
 */
export class ResultsBuilder {
  private readonly collector = new MeasurementCollector();

  constructor(readonly adapter: string) {}

  add(benchmark: string, measure: string, measurement: Measurement): void {
    const name = benchmark.trim();
    if (name === '' || !Number.isFinite(measurement.value)) return;
    this.collector.add(name, measure, withBounds(measurement.value, measurement.lower_value, measurement.upper_value));
  }

  /** The results, or an AdapterError saying what was looked for when nothing was found. */
  finish(lookedFor: string, duplicates: Fold = 'mean'): BenchmarkResults {
    if (this.collector.size === 0) throw new AdapterError(`no ${lookedFor} found`, this.adapter);
    return this.collector.fold(duplicates);
  }
}

/**
 * Parses a JSON document. Output captured from stdout may carry lines before the document (a
 * harness's banner, cargo's progress), so when the whole text is not JSON the document is taken
 * from the first line that opens an object or array.
 */
export function parseJsonDocument(source: Source, adapter: string): unknown {
  try {
    return JSON.parse(source.text);
  } catch (err) {
    const start = source.text.search(/^[ \t]*[[{]/m);
    if (start > 0) {
      try {
        return JSON.parse(source.text.slice(start));
      } catch {
        // Report the original error below: it describes the text as given.
      }
    }
    throw new AdapterError(`${source.name} is not JSON: ${(err as Error).message}`, adapter);
  }
}

/** Validates parsed JSON against a harness's schema; the error names the first mismatch. */
export function parseJsonAs<T>(schema: z.ZodType<T>, source: Source, adapter: string, format: string): T {
  const parsed = schema.safeParse(parseJsonDocument(source, adapter));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new AdapterError(`${source.name} is not ${format} at ${issue.path.join('.') || '(root)'}: ${issue.message}`, adapter);
}

/** A measure slug from a harness's metric name: `Total read+write` → `total-read-write`. */
export function measureSlug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}
