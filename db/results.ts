import type { Knex } from 'knex';
import { MAX_HISTORY } from '../common/schemas/results';
import { type ChangePoint, detectChangePoints, OTAVA } from '../results/change-points';
import { isIgnoredBenchmark } from '../results/iterations';
import { evaluateThreshold, evaluateThresholdOnMoments, type Moments, type ThresholdResult, usesMoments } from '../results/thresholds';
import type { BenchmarkResults } from '../results/types';
import { insertRows, resolveSeries, writeMetrics, type WrittenMetric } from './metrics';
import { historySegments, inSegments, type HistorySegment } from './reports';
import type { ResultsReportRow } from './result-rows';
import { addToSeriesSums, type RecentPoint, recentPoints, windowMoments, type WindowQuery } from './series-sums';
import { type CurrentThreshold, currentThresholds, modelOf } from './thresholds';

/**
 * Judging a report's results: metrics, then for each the boundaries its threshold's model computes
 * from the metric's history, an alert when the value falls outside them, and the change points of
 * the metric's series. Runs in the caller's transaction — for a job, the one that moves it to
 * `processed` — so a report is never seen half-judged.
 *
 * History of a metric: the metrics of the same benchmark and measure on the same testbed, of
 * reports on the same branch that started before this one (and since the branch's last reset), then
 * of the branch's start point before the fork, up the start-point chain; newest MAX_HISTORY only,
 * and only as many as judging reads (see historyDepth). A threshold's window narrows it further.
 */

export interface StoredResults {
  metrics: number;
  boundaries: number;
  alerts: number;
  change_points: number;
}

interface SeriesPoint {
  metric_id: string;
  start_time: Date;
  value: number;
}

/** A change point needs this many metrics after it: a single odd value is an outlier, for thresholds to judge. */
const MIN_POINTS_AFTER_CHANGE = 2;
/** Shortest series the change-point detector runs on. */
const MIN_CHANGE_POINT_SERIES = 4;
/**
 * The detector sees the newest this many points of a series, not its whole history: a new metric can
 * only move change points near the end, and detection costs time in proportion to the points it
 * reads (1,000-point histories made a 3,000-metric report spend seconds here). Two of the
 * detector's windows.
 */
const DETECTION_POINTS = 2 * OTAVA.window_len;
/**
 * Of those, the oldest this many are context only when the history is longer: a change point there
 * has been judged with a full window on both sides while it was newer, and a truncated view (few
 * points before it) must not remove it. Change points are added, refreshed and removed in the rest.
 */
const DETECTION_CONTEXT = OTAVA.window_len;

/** Milliseconds spent in each stage of storeResults, added to on every call: what the bench prints. */
export type StageTimes = Record<string, number>;

/** A function that charges the time since its last call to the named stage (nothing without `stages`). */
function stageClock(stages: StageTimes | undefined): (name: string) => void {
  if (!stages) return () => {};
  let last = performance.now();
  return (name) => {
    const now = performance.now();
    stages[name] = (stages[name] ?? 0) + now - last;
    last = now;
  };
}

const seriesKey = (benchmarkId: string, measureId: string) => `${benchmarkId}:${measureId}`;

interface HistoryQuery {
  testbedId: string;
  segments: readonly HistorySegment[];
  excludeReportId?: string;
  pairs: readonly { benchmark_id: string; measure_id: string }[];
  /** How many points each series needs, by measure id (at most MAX_HISTORY). */
  depth: ReadonlyMap<string, number>;
}

/** A report's metrics of the wanted series: [index of the series in `pairs`, metric id, value]. */
type ReportPoints = { start_ms: number; points: [number, string, number][] };

/**
 * The newest metrics of each (benchmark, measure) series, oldest first (ties in start time by
 * report creation), as many as `depth` says for the series' measure, so a series nothing judges far
 * back is not read far back.
 *
 * Read by report, not by series: the newest reports of the history are found on the report index
 * and their metrics on the metric index, with no scan or sort of the series' older metrics (a window
 * over whole series read 3,000,000 rows for 3,000 series of 1,000 points to keep 300,000). A series
 * missing from some of those reports, with older reports left, takes the rest from them in a second
 * query.
 */
async function seriesHistory(db: Knex, o: HistoryQuery): Promise<Map<string, SeriesPoint[]>> {
  const series = new Map<string, SeriesPoint[]>();
  if (o.pairs.length === 0 || o.segments.length === 0) return series;
  const depthOf = (p: { measure_id: string }) => o.depth.get(p.measure_id) ?? 1;
  const reports = Math.max(...o.pairs.map(depthOf));
  const newest = db('report')
    .where('report.testbed_id', o.testbedId)
    .modify((q) => (o.excludeReportId ? q.whereNot('report.id', o.excludeReportId) : q))
    .modify((q) => inSegments(q, o.segments))
    .orderBy([{ column: 'report.start_time', order: 'desc' }, { column: 'report.created_at', order: 'desc' }, { column: 'report.id', order: 'desc' }])
    .limit(reports)
    .select('report.id', 'report.start_time', 'report.created_at');
  const rows: (ReportPoints & { id: string })[] = await db
    .with('r', newest)
    .from('r')
    .leftJoin(
      db('metric')
        .join(
          db.raw('unnest(?::uuid[], ?::uuid[]) with ordinality as s(benchmark_id, measure_id, k)', [o.pairs.map((p) => p.benchmark_id), o.pairs.map((p) => p.measure_id)]),
          (j) => j.on('s.benchmark_id', 'metric.benchmark_id').andOn('s.measure_id', 'metric.measure_id'),
        )
        .select('metric.report_id', 'metric.id', 'metric.value', 's.k')
        .as('m'),
      'm.report_id',
      'r.id',
    )
    .groupBy('r.id', 'r.start_time', 'r.created_at')
    .orderBy([{ column: 'r.start_time', order: 'desc' }, { column: 'r.created_at', order: 'desc' }, { column: 'r.id', order: 'desc' }])
    .select(
      'r.id',
      db.raw('extract(epoch from r.start_time) * 1000 as start_ms'),
      db.raw("coalesce(json_agg(json_build_array(m.k - 1, m.id, m.value)) filter (where m.id is not null), '[]') as points"),
    );
  // Newest first while collecting; each list is reversed at the end.
  const collected = o.pairs.map(() => [] as SeriesPoint[]);
  for (const report of rows) {
    const start_time = new Date(Number(report.start_ms));
    for (const [k, metric_id, value] of report.points) {
      if (collected[k].length < depthOf(o.pairs[k])) collected[k].push({ metric_id, start_time, value });
    }
  }
  if (rows.length === reports) {
    const short = o.pairs.map((p, k) => ({ ...p, k, missing: depthOf(p) - collected[k].length })).filter((p) => p.missing > 0);
    if (short.length > 0) await olderPoints(db, o, rows.map((r) => r.id), short, collected);
  }
  o.pairs.forEach((p, k) => {
    if (collected[k].length > 0) series.set(seriesKey(p.benchmark_id, p.measure_id), collected[k].reverse());
  });
  return series;
}

/** Appends to `collected` the `missing` newest points of each short series from the history reports other than `seen`. */
async function olderPoints(
  db: Knex,
  o: HistoryQuery,
  seen: readonly string[],
  short: readonly { benchmark_id: string; measure_id: string; k: number; missing: number }[],
  collected: SeriesPoint[][],
): Promise<void> {
  const inner = db('metric')
    .join('report', 'report.id', 'metric.report_id')
    .join(
      db.raw('unnest(?::uuid[], ?::uuid[], ?::int[], ?::int[]) as s(benchmark_id, measure_id, k, missing)', [
        short.map((p) => p.benchmark_id),
        short.map((p) => p.measure_id),
        short.map((p) => p.k),
        short.map((p) => p.missing),
      ]),
      (j) => j.on('s.benchmark_id', 'metric.benchmark_id').andOn('s.measure_id', 'metric.measure_id'),
    )
    .where('report.testbed_id', o.testbedId)
    .whereRaw('report.id <> all(?::uuid[])', [[...seen, ...(o.excludeReportId ? [o.excludeReportId] : [])]])
    .modify((q) => inSegments(q, o.segments))
    .select(
      's.k',
      's.missing',
      'metric.id',
      'metric.value',
      'report.start_time',
      db.raw('row_number() over (partition by s.k order by report.start_time desc, report.created_at desc, report.id desc) as rn'),
    );
  const rows: { k: number; id: string; value: number; start_time: Date }[] = await db.from(inner.as('h')).whereRaw('rn <= missing').orderBy(['k', 'rn']);
  for (const row of rows) collected[row.k].push({ metric_id: row.id, start_time: row.start_time, value: row.value });
}

/** How many of its newest points a series keeps on its row (db/series-sums.ts): what the detector reads. */
const RECENT_POINTS = DETECTION_POINTS - 1;

/**
 * The history points of each series, as seriesHistory reads them, taken from the points the
 * series keeps on its row wherever those are its history: on a branch without a start point, for
 * a report newer than all of them, when they are as many as wanted or all the series has.
 */
async function historyPoints(
  trx: Knex.Transaction,
  report: ResultsReportRow,
  segments: readonly HistorySegment[],
  pairs: readonly { benchmark_id: string; measure_id: string }[],
  depth: ReadonlyMap<string, number>,
): Promise<Map<string, SeriesPoint[]>> {
  const kept = segments.length === 1 ? await recentPoints(trx, report.branch_id, report.testbed_id, pairs) : new Map<number, RecentPoint[]>();
  const history = new Map<string, SeriesPoint[]>();
  const unread = pairs.filter((p, k) => {
    const points = kept.get(k) && keptHistory(kept.get(k)!, segments[0], depth.get(p.measure_id) ?? 1);
    if (points?.length) history.set(seriesKey(p.benchmark_id, p.measure_id), points);
    return points === undefined;
  });
  const read = await seriesHistory(trx, { testbedId: report.testbed_id, segments, excludeReportId: report.id, pairs: unread, depth });
  for (const [key, points] of read) history.set(key, points);
  return history;
}

/** The newest `wanted` points of the segment among the kept ones, or undefined when the kept ones cannot tell. */
function keptHistory(kept: readonly RecentPoint[], segment: HistorySegment, wanted: number): SeriesPoint[] | undefined {
  if (kept.some((p) => p.start_ms >= segment.until.getTime())) return undefined;
  const since = segment.since?.getTime() ?? -Infinity;
  const inSegment = kept.filter((p) => p.start_ms >= since);
  // Fewer kept than the row keeps, or some before the segment: the segment has no others.
  const whole = kept.length < RECENT_POINTS || inSegment.length < kept.length;
  if (!whole && inSegment.length < wanted) return undefined;
  return inSegment.slice(-wanted).map((p) => ({ metric_id: p.metric_id, start_time: new Date(p.start_ms), value: p.value }));
}

/** How many of a series' newest metrics its threshold's model reads (a static one none). */
function windowCount(threshold: CurrentThreshold | undefined): number {
  const model = threshold?.model;
  return !model || model.test === 'static' ? 0 : Math.min(MAX_HISTORY, model.max_sample_size ?? MAX_HISTORY);
}

/**
 * Whether the threshold's model is judged from the running sums of its window (db/series-sums.ts)
 * rather than from its points: one that needs only moments, over more points than the detector
 * reads anyway.
 */
function judgedFromSums(threshold: CurrentThreshold | undefined): threshold is CurrentThreshold {
  return threshold !== undefined && usesMoments(modelOf(threshold.model)) && windowCount(threshold) > DETECTION_POINTS - 1;
}

/**
 * How many of a series' newest metrics judging it reads: the change-point detector's view (the new
 * metric is its last point), and what the measure's threshold model reads from points.
 */
function historyDepth(threshold: CurrentThreshold | undefined): number {
  return Math.max(DETECTION_POINTS - 1, judgedFromSums(threshold) ? 0 : windowCount(threshold));
}

/** The oldest start time a threshold's `window` lets it read, if it has one. */
function windowStart(report: ResultsReportRow, threshold: CurrentThreshold): Date | undefined {
  const seconds = threshold.model.window_seconds;
  return seconds ? new Date(report.start_time.getTime() - seconds * 1000) : undefined;
}

/**
 * The moments of the windows of the series judgedFromSums, by series key. A series whose window the
 * sums cannot give (see windowMoments) has its window read point by point into `history` instead.
 */
async function sumsOfWindows(
  trx: Knex.Transaction,
  report: ResultsReportRow,
  segments: readonly HistorySegment[],
  series: readonly { benchmark_id: string; measure_id: string }[],
  thresholds: ReadonlyMap<string, CurrentThreshold>,
  history: Map<string, SeriesPoint[]>,
): Promise<Map<string, Moments>> {
  const queries: WindowQuery[] = [];
  for (const s of series) {
    const threshold = thresholds.get(s.measure_id);
    if (judgedFromSums(threshold)) queries.push({ ...s, count: windowCount(threshold), since: windowStart(report, threshold) ?? null });
  }
  const found = await windowMoments(trx, report.testbed_id, segments, queries);
  const moments = new Map<string, Moments>();
  const unsummed: WindowQuery[] = [];
  queries.forEach((q, k) => {
    const m = found.get(k);
    if (m) moments.set(seriesKey(q.benchmark_id, q.measure_id), m);
    else unsummed.push(q);
  });
  if (unsummed.length > 0) {
    const depth = new Map(unsummed.map((q) => [q.measure_id, q.count]));
    const points = await seriesHistory(trx, { testbedId: report.testbed_id, segments, excludeReportId: report.id, pairs: unsummed, depth });
    for (const [key, read] of points) history.set(key, read);
  }
  return moments;
}

interface FoundChangePoints {
  metric: WrittenMetric;
  /** The stretch of the series whose stored change points are made what `found` says. */
  judged: readonly SeriesPoint[];
  found: { point: SeriesPoint; series_index: number; stats: ChangePointStats }[];
}

type ChangePointStats = Pick<ChangePoint, 'mean_before' | 'mean_after' | 'stddev_before' | 'stddev_after' | 'percent_change' | 'pvalue'>;

/**
 * Writes the report's metrics and judges them (see the module comment) in a bounded number of
 * statements however many metrics the report has: the judging is computed first, then written in
 * multi-row statements.
 */
export async function storeResults(trx: Knex.Transaction, report: ResultsReportRow, results: BenchmarkResults, stages?: StageTimes): Promise<StoredResults> {
  const stage = stageClock(stages);
  // The statements below probe indexes thousands of times; the planner's cost for that crosses the
  // JIT thresholds, and compiling took 0.1–0.6 s per statement, more than running them.
  await trx.raw('set local jit = off');
  const series = await resolveSeries(trx, report.project_id, results);
  const segments = await historySegments(trx, report.branch_id, report.start_time);
  const thresholds = await currentThresholds(trx, report.branch_id, report.testbed_id);
  stage('series and thresholds');
  const depth = new Map(series.map((s) => [s.measure_id, historyDepth(thresholds.get(s.measure_id))]));
  const history = await historyPoints(trx, report, segments, series, depth);
  stage('history points read');
  const moments = await sumsOfWindows(trx, report, segments, series, thresholds, history);
  stage('window sums read');
  const previousValue = (r: { benchmark_id: string; measure_id: string }) => history.get(seriesKey(r.benchmark_id, r.measure_id))?.at(-1)?.value ?? null;
  const written = await writeMetrics(trx, report.id, series, previousValue);
  stage('metrics written');
  await addToSeriesSums(trx, report, written, RECENT_POINTS);
  stage('series sums written');

  const boundaries: { metric: WrittenMetric; threshold: CurrentThreshold; judged: ThresholdResult }[] = [];
  const changePoints: FoundChangePoints[] = [];
  for (const metric of written) {
    const points = history.get(seriesKey(metric.benchmark_id, metric.measure_id)) ?? [];
    const threshold = thresholds.get(metric.measure_id);
    const summed = moments.get(seriesKey(metric.benchmark_id, metric.measure_id));
    if (threshold && summed) {
      boundaries.push({ metric, threshold, judged: evaluateThresholdOnMoments(summed, modelOf(threshold.model), metric.value) });
    } else if (threshold) {
      const since = windowStart(report, threshold)?.getTime() ?? -Infinity;
      const samples = points.filter((p) => p.start_time.getTime() >= since).map((p) => p.value);
      boundaries.push({ metric, threshold, judged: evaluateThreshold(samples, modelOf(threshold.model), metric.value) });
    }
    const found = findChangePoints(metric, [
      ...points,
      { metric_id: metric.id, start_time: report.start_time, value: metric.value },
    ]);
    if (found) changePoints.push(found);
  }
  stage('thresholds and change-point detection');

  const alerts = await writeBoundaries(trx, report, boundaries);
  const changed = await writeChangePoints(trx, report, changePoints);
  stage('boundaries, alerts, change points written');
  return { metrics: written.length, boundaries: boundaries.length, alerts, change_points: changed };
}

/** One insert of boundaries, then one of the alerts they raise; the number of alerts. */
async function writeBoundaries(
  trx: Knex.Transaction,
  report: ResultsReportRow,
  boundaries: readonly { metric: WrittenMetric; threshold: CurrentThreshold; judged: ThresholdResult }[],
): Promise<number> {
  const inserted = await insertRows<{ id: string; metric_id: string }>(
    trx,
    'boundary',
    { metric_id: 'uuid', threshold_id: 'uuid', model_id: 'uuid', baseline: 'float8', lower_limit: 'float8', upper_limit: 'float8', skipped: 'text' },
    boundaries.map(({ metric, threshold, judged }) => ({
      metric_id: metric.id,
      threshold_id: threshold.threshold.id,
      model_id: threshold.model.id,
      baseline: judged.baseline ?? null,
      lower_limit: judged.lower_limit ?? null,
      upper_limit: judged.upper_limit ?? null,
      skipped: judged.skipped ?? null,
    })),
    'returning id, metric_id',
  );
  // A metric has one boundary.
  const boundaryOf = new Map(inserted.map((b) => [b.metric_id, b.id]));
  const alerts = boundaries
    .filter(({ metric, judged }) => judged.alert && !isIgnoredBenchmark(metric.benchmark))
    .map(({ metric, threshold, judged }) => ({
      project_id: report.project_id,
      boundary_id: boundaryOf.get(metric.id),
      metric_id: metric.id,
      threshold_id: threshold.threshold.id,
      model_id: threshold.model.id,
      side: judged.alert,
      limit: judged.alert === 'lower' ? judged.lower_limit : judged.upper_limit,
      value: metric.value,
    }));
  await insertRows(trx, 'alert', { project_id: 'uuid', boundary_id: 'uuid', metric_id: 'uuid', threshold_id: 'uuid', model_id: 'uuid', side: 'text', limit: 'float8', value: 'float8' }, alerts);
  return alerts.length;
}

/**
 * Runs the detector over the newest DETECTION_POINTS of the series ending with `metric` (the
 * DETECTION_CONTEXT oldest of them context only when there is more history); undefined when the
 * series is too short to judge.
 */
function findChangePoints(metric: WrittenMetric, series: readonly SeriesPoint[]): FoundChangePoints | undefined {
  if (series.length < MIN_CHANGE_POINT_SERIES) return undefined;
  const offset = Math.max(0, series.length - DETECTION_POINTS);
  const seen = series.slice(offset);
  const context = offset > 0 ? DETECTION_CONTEXT : 0;
  const found = detectChangePoints(seen.map((p) => p.value))
    .filter((cp) => cp.index >= context && seen.length - cp.index >= MIN_POINTS_AFTER_CHANGE)
    .map(({ index, mean_before, mean_after, stddev_before, stddev_after, percent_change, pvalue }) => ({
      point: seen[index],
      series_index: offset + index,
      stats: { mean_before, mean_after, stddev_before, stddev_after, percent_change, pvalue },
    }));
  return { metric, judged: seen.slice(context), found };
}

/**
 * Makes the stored change points of each judged stretch what the detector found now: new ones
 * inserted, existing ones' statistics refreshed, ones it no longer finds removed. Change points
 * outside the stretches are left alone. One upsert, one read and one delete.
 */
async function writeChangePoints(trx: Knex.Transaction, report: ResultsReportRow, judged: readonly FoundChangePoints[]): Promise<number> {
  if (judged.length === 0) return 0;
  const now = new Date();
  const rows = judged.flatMap(({ metric, found }) =>
    found.map((cp) => ({
      project_id: report.project_id,
      branch_id: report.branch_id,
      testbed_id: report.testbed_id,
      benchmark_id: metric.benchmark_id,
      measure_id: metric.measure_id,
      metric_id: cp.point.metric_id,
      series_index: cp.series_index,
      ...cp.stats,
      modified_at: now,
    })),
  );
  const refreshed = ['series_index', 'mean_before', 'mean_after', 'stddev_before', 'stddev_after', 'percent_change', 'pvalue', 'modified_at'];
  await insertRows(
    trx,
    'change_point',
    {
      project_id: 'uuid',
      branch_id: 'uuid',
      testbed_id: 'uuid',
      benchmark_id: 'uuid',
      measure_id: 'uuid',
      metric_id: 'uuid',
      series_index: 'int',
      mean_before: 'float8',
      mean_after: 'float8',
      stddev_before: 'float8',
      stddev_after: 'float8',
      percent_change: 'float8',
      pvalue: 'float8',
      modified_at: 'timestamptz',
    },
    rows,
    `on conflict (branch_id, testbed_id, benchmark_id, measure_id, metric_id) do update set ${refreshed.map((c) => `${c} = excluded.${c}`).join(', ')}`,
  );
  const kept = new Set(rows.map((r) => r.metric_id));
  const stored: { id: string; metric_id: string; benchmark_id: string; measure_id: string }[] = await trx('change_point')
    .where({ branch_id: report.branch_id, testbed_id: report.testbed_id })
    .whereRaw('benchmark_id = any(?::uuid[])', [[...new Set(judged.map((j) => j.metric.benchmark_id))]])
    .whereRaw('measure_id = any(?::uuid[])', [[...new Set(judged.map((j) => j.metric.measure_id))]])
    .select('id', 'metric_id', 'benchmark_id', 'measure_id');
  // Stretches by series, their metric ids gathered only for series that have stored change points:
  // few do, and every stretch's ids together are 50 per metric.
  const stretchOf = new Map(judged.map((j) => [seriesKey(j.metric.benchmark_id, j.metric.measure_id), j.judged]));
  const idsOf = new Map<string, Set<string>>();
  const inStretch = (cp: (typeof stored)[number]) => {
    const key = seriesKey(cp.benchmark_id, cp.measure_id);
    if (!idsOf.has(key)) idsOf.set(key, new Set((stretchOf.get(key) ?? []).map((p) => p.metric_id)));
    return idsOf.get(key)!.has(cp.metric_id);
  };
  const stale = stored.filter((cp) => !kept.has(cp.metric_id) && inStretch(cp)).map((cp) => cp.id);
  if (stale.length > 0) await trx('change_point').whereRaw('id = any(?::uuid[])', [stale]).delete();
  return rows.length;
}
