import { z } from 'zod';
import { isTimeUnit, toNanoseconds, toOpsPerSecond } from '../units';
import { AdapterError, type AdapterInput, type AdapterOptions, type BenchmarkResults, type Measurement } from '../types';
import { ResultsBuilder, parseJsonAs, resolveAverage, sourcesOf, withBounds } from './support';

const ADAPTER = 'java_jmh';

// JMH writes NaN (an errored or single-iteration run) as the string "NaN".
const score = z.union([z.number(), z.string()]).transform(Number);
const result = z.object({
  benchmark: z.string(),
  mode: z.string().optional(),
  params: z.record(z.string(), z.string()).optional(),
  primaryMetric: z.object({
    score,
    scoreConfidence: z.tuple([score, score]).optional(),
    scorePercentiles: z.record(z.string(), score).optional(),
    scoreUnit: z.string(),
  }),
});
const report = z.array(result);

/** `ns/op` → latency in ns; `ops/ms` → throughput in ops/s; `null` for any other unit. */
function converter(unit: string): { measure: string; convert: (v: number) => number } | null {
  const [left, right] = unit.split('/');
  if (right === 'op' && isTimeUnit(left)) return { measure: 'latency', convert: (v) => toNanoseconds(v, left) };
  if (left === 'ops' && right !== undefined && isTimeUnit(right)) return { measure: 'throughput', convert: (v) => toOpsPerSecond(v, right) };
  return null;
}

/** `@Param` values make distinct benchmarks of one method, so they join its name. */
function benchmarkName(entry: z.infer<typeof result>): string {
  const params = Object.entries(entry.params ?? {});
  return params.length === 0 ? entry.benchmark : `${entry.benchmark}(${params.map(([k, v]) => `${k}=${v}`).join(', ')})`;
}

/**
 * JMH `-rf json`: the primary metric's score with its confidence interval (mean), or the 50th
 * percentile of the iteration scores (median). Time-per-op modes become latency, ops-per-time throughput.
 */
export function javaJmhAdapter(input: AdapterInput, options?: AdapterOptions): BenchmarkResults {
  const average = resolveAverage(ADAPTER, options, ['mean', 'median']) ?? 'mean';
  const builder = new ResultsBuilder(ADAPTER);
  for (const source of sourcesOf(input)) {
    for (const entry of parseJsonAs(report, source, ADAPTER, 'JMH JSON')) {
      const metric = entry.primaryMetric;
      const unit = converter(metric.scoreUnit);
      if (!unit) throw new AdapterError(`${entry.benchmark} has unsupported score unit "${metric.scoreUnit}"`, ADAPTER);
      let measurement: Measurement;
      if (average === 'median') {
        const p50 = metric.scorePercentiles?.['50.0'];
        if (p50 === undefined) throw new AdapterError(`${entry.benchmark} has no 50th percentile score`, ADAPTER);
        measurement = { value: unit.convert(p50) };
      } else {
        const [low, high] = metric.scoreConfidence ?? [Number.NaN, Number.NaN];
        measurement = withBounds(unit.convert(metric.score), unit.convert(low), unit.convert(high));
      }
      builder.add(benchmarkName(entry), unit.measure, measurement);
    }
  }
  return builder.finish('JMH benchmark results', average);
}
