import type { Knex } from 'knex';
import { measureInfo } from '../results/measures';
import type { BenchmarkResults, Measurement } from '../results/types';
import type { AlertRow, MeasureRow, ThresholdModelRow } from './result-rows';
import { byRef } from './refs';
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

/** One result of a report, with the ids of its benchmark and measure. */
export interface SeriesResult {
  benchmark_id: string;
  benchmark: string;
  measure_id: string;
  measure: string;
  measurement: Measurement;
}

/**
 * Inserts `rows` into `table` in one statement however many there are: the rows travel as one JSON
 * parameter read by jsonb_to_recordset with the Postgres types in `columns`, where a multi-row
 * VALUES needs a bind parameter per value (at 3,000 rows knex took longer to build the statement
 * than Postgres to run it, and Postgres allows 65,535 parameters). `tail` follows the SELECT:
 * ON CONFLICT, RETURNING. Non-finite numbers arrive as null.
 */
export async function insertRows<T = unknown>(trx: Knex.Transaction, table: string, columns: Readonly<Record<string, string>>, rows: readonly object[], tail = ''): Promise<T[]> {
  if (rows.length === 0) return [];
  const names = Object.keys(columns);
  const list = names.map((c) => `"${c}"`).join(', ');
  const types = names.map((c) => `"${c}" ${columns[c]}`).join(', ');
  const { rows: out } = await trx.raw(`insert into ?? (${list}) select ${list} from jsonb_to_recordset(?::jsonb) as r(${types}) ${tail}`, [table, JSON.stringify(rows)]);
  return out;
}

/**
 * The benchmarks and measures `results` name, created on first sight: two upserts and two reads,
 * however many results there are.
 */
export async function resolveSeries(trx: Knex.Transaction, projectId: string, results: BenchmarkResults): Promise<SeriesResult[]> {
  const names = Object.keys(results);
  const slugs = [...new Set(Object.values(results).flatMap((measures) => Object.keys(measures)))];
  if (names.length === 0) return [];
  await trx('benchmark').insert(names.map((name) => ({ project_id: projectId, name }))).onConflict(['project_id', 'name']).ignore();
  await trx('measure').insert(slugs.map((slug) => ({ project_id: projectId, slug, name: measureInfo(slug).name, units: measureInfo(slug).units }))).onConflict(['project_id', 'slug']).ignore();
  const benchmarkIds = new Map<string, string>((await trx('benchmark').where({ project_id: projectId }).whereIn('name', names).select('id', 'name')).map((b) => [b.name, b.id]));
  const measureIds = new Map<string, string>((await trx('measure').where({ project_id: projectId }).whereIn('slug', slugs).select('id', 'slug')).map((m) => [m.slug, m.id]));
  return Object.entries(results).flatMap(([benchmark, measures]) =>
    Object.entries(measures).map(([measure, measurement]) => ({ benchmark, benchmark_id: benchmarkIds.get(benchmark)!, measure, measure_id: measureIds.get(measure)!, measurement })),
  );
}

/** The measure `slug` of a project, created on first sight with its known name and units. */
export async function getOrCreateMeasure(db: Knex, projectId: string, slug: string): Promise<MeasureRow> {
  const info = measureInfo(slug);
  await db('measure').insert({ project_id: projectId, slug, name: info.name, units: info.units }).onConflict(['project_id', 'slug']).ignore();
  return db<MeasureRow>('measure').where({ project_id: projectId, slug }).first().then((m) => m!);
}

/** A project's measure by UUID or slug. */
export function findMeasure(db: Knex, projectId: string, ref: string): Promise<MeasureRow | undefined> {
  return byRef(db<MeasureRow>('measure').where({ project_id: projectId }), ref, { table: 'measure' }).first();
}

/** A project's benchmark by UUID or name. */
export function findBenchmark(db: Knex, projectId: string, ref: string): Promise<{ id: string } | undefined> {
  return byRef(db('benchmark').where({ project_id: projectId }), ref, { table: 'benchmark', name: 'name' }).first('id');
}

/** A project's benchmarks; sort and paginate it. */
export function benchmarksQuery(db: Knex, projectId: string): Knex.QueryBuilder {
  return db('benchmark').where({ project_id: projectId });
}

/** A project's measures; sort and paginate it. */
export function measuresQuery(db: Knex, projectId: string): Knex.QueryBuilder {
  return db('measure').where({ project_id: projectId });
}

/** Writes one metric row per result, each with the series' previous value, in one insert. */
export async function writeMetrics(
  trx: Knex.Transaction,
  reportId: string,
  series: readonly SeriesResult[],
  previousValue: (r: SeriesResult) => number | null,
): Promise<WrittenMetric[]> {
  const inserted = await insertRows<{ id: string; benchmark_id: string; measure_id: string }>(
    trx,
    'metric',
    { report_id: 'uuid', benchmark_id: 'uuid', measure_id: 'uuid', value: 'float8', lower_value: 'float8', upper_value: 'float8', previous_value: 'float8' },
    series.map((r) => ({
      report_id: reportId,
      benchmark_id: r.benchmark_id,
      measure_id: r.measure_id,
      value: r.measurement.value,
      lower_value: r.measurement.lower_value ?? null,
      upper_value: r.measurement.upper_value ?? null,
      previous_value: previousValue(r),
    })),
    'returning id, benchmark_id, measure_id',
  );
  // A report has one metric per benchmark and measure.
  const ids = new Map(inserted.map((m) => [`${m.benchmark_id}:${m.measure_id}`, m.id]));
  return series.map((r) => ({
    id: ids.get(`${r.benchmark_id}:${r.measure_id}`)!,
    benchmark_id: r.benchmark_id,
    benchmark: r.benchmark,
    measure_id: r.measure_id,
    measure: r.measure,
    value: r.measurement.value,
  }));
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
