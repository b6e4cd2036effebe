import type { Knex } from 'knex';
import { measureInfo } from '../results/measures';
import type { BenchmarkResults } from '../results/types';

export interface MetricView {
  benchmark: string;
  measure: string;
  measure_name: string;
  units: string;
  value: number;
  lower_value: number | null;
  upper_value: number | null;
}

/** Writes a report's results: measures and benchmarks on first sight, one metric row per value. */
export async function writeMetrics(trx: Knex.Transaction, projectId: string, reportId: string, results: BenchmarkResults): Promise<number> {
  let count = 0;
  for (const [benchmarkName, measures] of Object.entries(results)) {
    await trx('benchmark').insert({ project_id: projectId, name: benchmarkName }).onConflict(['project_id', 'name']).ignore();
    const benchmark = await trx('benchmark').where({ project_id: projectId, name: benchmarkName }).first('id');
    for (const [slug, m] of Object.entries(measures)) {
      const info = measureInfo(slug);
      await trx('measure').insert({ project_id: projectId, slug, name: info.name, units: info.units }).onConflict(['project_id', 'slug']).ignore();
      const measure = await trx('measure').where({ project_id: projectId, slug }).first('id');
      await trx('metric').insert({
        report_id: reportId,
        benchmark_id: benchmark.id,
        measure_id: measure.id,
        value: m.value,
        lower_value: m.lower_value ?? null,
        upper_value: m.upper_value ?? null,
      });
      count++;
    }
  }
  return count;
}

export async function reportMetrics(db: Knex, reportId: string): Promise<MetricView[]> {
  return db('metric')
    .join('benchmark', 'benchmark.id', 'metric.benchmark_id')
    .join('measure', 'measure.id', 'metric.measure_id')
    .where('metric.report_id', reportId)
    .orderBy(['benchmark.name', 'measure.slug'])
    .select(
      'benchmark.name as benchmark',
      'measure.slug as measure',
      'measure.name as measure_name',
      'measure.units',
      'metric.value',
      'metric.lower_value',
      'metric.upper_value',
    );
}
