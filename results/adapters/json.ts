import { z } from 'zod';
import { mergeResults } from '../merge';
import { AdapterError, MAX_BENCHMARK_NAME, MAX_MEASURE_NAME, type AdapterInput, type BenchmarkResults } from '../types';

/** Bencher Metric Format: `{ benchmark: { measure: { value, lower_value?, upper_value? } } }`. */
const measurement = z.strictObject({
  value: z.number().finite(),
  lower_value: z.number().finite().optional(),
  upper_value: z.number().finite().optional(),
});
const bmf = z.record(z.string().min(1).max(MAX_BENCHMARK_NAME), z.record(z.string().min(1).max(MAX_MEASURE_NAME), measurement));

export function parseBmf(text: string, source: string): BenchmarkResults {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new AdapterError(`${source} is not JSON: ${(err as Error).message}`, 'json');
  }
  const parsed = bmf.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AdapterError(`${source} is not Bencher Metric Format at ${issue.path.join('.') || '(root)'}: ${issue.message}`, 'json');
  }
  return parsed.data;
}

/** Reads BMF from the output files when the job named any, else from stdout. */
export function jsonAdapter(input: AdapterInput): BenchmarkResults {
  const files = Object.entries(input.files);
  if (files.length === 0) return parseBmf(input.stdout, 'stdout');
  return mergeResults(...files.map(([path, text]) => parseBmf(text, path)));
}
