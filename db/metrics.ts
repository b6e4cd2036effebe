import type { Knex } from 'knex';
import { measureInfo } from '../results/measures';
import type { BenchmarkResults } from '../results/types';
import type { AlertRow, ThresholdModelRow } from './result-rows';
import { modelsById } from './thresholds';

export interface MetricView {
  benchmark: string;
  measure: string;
  measure_name: string;
  units: string;
  value: number;
  lower_value: number | null;
  upper_value: number | null;
}

/** A metric just written, with what judging it needs. */
export interface WrittenMetric {
  id: string;
  benchmark_id: string;
  benchmark: string;
  measure_id: string;
  measure: string;
  value: number;
}

/** Writes a report's results: measures and benchmarks on first sight, one metric row per value. */
export async function writeMetrics(trx: Knex.Transaction, projectId: string, reportId: string, results: BenchmarkResults): Promise<WrittenMetric[]> {
  const written: WrittenMetric[] = [];
  for (const [benchmarkName, measures] of Object.entries(results)) {
    await trx('benchmark').insert({ project_id: projectId, name: benchmarkName }).onConflict(['project_id', 'name']).ignore();
    const benchmark = await trx('benchmark').where({ project_id: projectId, name: benchmarkName }).first('id');
    for (const [slug, m] of Object.entries(measures)) {
      const info = measureInfo(slug);
      await trx('measure').insert({ project_id: projectId, slug, name: info.name, units: info.units }).onConflict(['project_id', 'slug']).ignore();
      const measure = await trx('measure').where({ project_id: projectId, slug }).first('id');
      const [metric] = await trx('metric')
        .insert({
          report_id: reportId,
          benchmark_id: benchmark.id,
          measure_id: measure.id,
          value: m.value,
          lower_value: m.lower_value ?? null,
          upper_value: m.upper_value ?? null,
        })
        .returning('id');
      written.push({ id: metric.id, benchmark_id: benchmark.id, benchmark: benchmarkName, measure_id: measure.id, measure: slug, value: m.value });
    }
  }
  return written;
}

/** A report's metric with the boundary computed for it (and the model that computed it) and its alerts. */
export interface ReportMetricRow extends MetricView {
  id: string;
  previous_value: number | null;
  boundary: (BoundaryRow & { model: ThresholdModelRow }) | null;
  alerts: AlertRow[];
}

export interface BoundaryRow {
  id: string;
  metric_id: string;
  threshold_id: string;
  model_id: string;
  baseline: number | null;
  lower_limit: number | null;
  upper_limit: number | null;
  skipped: string | null;
}

export async function reportMetrics(db: Knex, reportId: string): Promise<ReportMetricRow[]> {
  const metrics: (MetricView & { id: string; previous_value: number | null })[] = await db('metric')
    .join('benchmark', 'benchmark.id', 'metric.benchmark_id')
    .join('measure', 'measure.id', 'metric.measure_id')
    .where('metric.report_id', reportId)
    .orderBy(['benchmark.name', 'measure.slug'])
    .select(
      'metric.id',
      'benchmark.name as benchmark',
      'measure.slug as measure',
      'measure.name as measure_name',
      'measure.units',
      'metric.value',
      'metric.lower_value',
      'metric.upper_value',
      'metric.previous_value',
    );
  const ids = metrics.map((m) => m.id);
  const [boundaries, alerts] = await Promise.all([
    db<BoundaryRow>('boundary').whereIn('metric_id', ids),
    db<AlertRow>('alert').whereIn('metric_id', ids).orderBy('created_at'),
  ]);
  const models = await modelsById(db, boundaries.map((b) => b.model_id));
  const boundaryOf = new Map(boundaries.map((b) => [b.metric_id, { ...b, model: models.get(b.model_id)! }]));
  return metrics.map((m) => ({ ...m, boundary: boundaryOf.get(m.id) ?? null, alerts: alerts.filter((a) => a.metric_id === m.id) }));
}
