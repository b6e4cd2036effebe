import { z } from 'zod';
import { resourceRef, timestamp } from './fields';
import { booleanFilter, paginationQuery } from './pagination';
import { alertSide, alertStatus, benchmarkRef, measureRef } from './results';

/**
 * What the web console's pages read beyond the resource lists: the benchmarks table (every series
 * of a branch + testbed, paged on the server) and plot data (many series, downsampled on the server).
 * A leaf module beside ./index.
 */

/** Recent reports the benchmarks table covers: its series, sparklines, alert and change-point states. */
export const MAX_TABLE_REPORTS = 100;
/** Series one plot may hold: common/limits.ts, which the console reads too. */
export { MAX_PLOT_SERIES } from '../limits';
/** Points per series a plot may ask for: its width in pixels, generously. */
export const MAX_PLOT_POINTS = 10000;

export const BENCHMARK_TABLE_SORTS = ['benchmark', 'measure', 'value', 'change', 'alerts', 'updated'] as const;

export const benchmarkTableQuery = paginationQuery.extend({
  branch: resourceRef,
  testbed: resourceRef,
  reports: z.coerce.number().int().min(2).max(MAX_TABLE_REPORTS).default(30).describe("how many of the branch + testbed's newest reports the table covers: a series appears when one of them measured it, and its sparkline is its values in them"),
  q: z.string().max(1024).optional().describe('only benchmarks whose name contains this text (case-insensitive)'),
  sort: z.enum(BENCHMARK_TABLE_SORTS).default('benchmark'),
  order: z.enum(['asc', 'desc']).default('asc'),
});
export type BenchmarkTableQuery = z.infer<typeof benchmarkTableQuery>;

export const benchmarkTableRow = z.object({
  benchmark: z.string(),
  measure: z.string(),
  units: z.string(),
  value: z.number().describe('the newest value'),
  report: z.uuid().describe('the report of the newest value'),
  start_time: timestamp.describe("the newest value's report time"),
  baseline: z.number().nullable().describe("what change_percent compares with: the newest value's boundary centre when a threshold judged it, else the series' previous value"),
  change_percent: z.number().nullable(),
  lower_limit: z.number().nullable(),
  upper_limit: z.number().nullable(),
  sparkline: z.array(z.number()).describe('the values in the covered reports, oldest first'),
  alert: z.object({ side: alertSide, status: alertStatus }).nullable().describe("the newest value's alert"),
  active_alerts: z.number().int().describe('active alerts in the covered reports'),
  change_point: z.object({ report: z.uuid(), percent_change: z.number() }).nullable().describe('the newest change point in the covered reports'),
});
export type BenchmarkTableRow = z.infer<typeof benchmarkTableRow>;

const repeatable = <T extends z.ZodType>(item: T) => z.union([item, z.array(item)]).transform((v) => [v].flat() as z.infer<T>[]);

export const perfQuery = z.object({
  branch: repeatable(resourceRef).describe('branch slug or UUID (repeatable)'),
  testbed: repeatable(resourceRef).describe('testbed slug or UUID (repeatable)'),
  benchmark: repeatable(benchmarkRef).describe('benchmark name or UUID (repeatable)'),
  measure: repeatable(measureRef).describe('measure slug or UUID (repeatable)'),
  start_time: z.iso.datetime({ offset: true }).optional().describe('only reports at or after this time'),
  end_time: z.iso.datetime({ offset: true }).optional().describe('only reports before this time'),
  start_point: booleanFilter.describe("each branch's history includes its start point's reports before the fork, up the chain of start points, as thresholds judge it (default true); false: the branch's own reports only"),
  max_points: z.coerce.number().int().min(16).max(MAX_PLOT_POINTS).default(1000).describe("points per series at most (the plot's width in pixels): longer series are thinned by min/max buckets, keeping each bucket's extremes and every alert and change point"),
});
export type PerfQuery = z.infer<typeof perfQuery>;

export const perfSvgQuery = perfQuery.omit({ max_points: true }).extend({
  width: z.coerce.number().int().min(200).max(4000).default(800).describe('image width in pixels (also the points per series at most)'),
  height: z.coerce.number().int().min(100).max(2000).default(300).describe('plot height in pixels, without the legend below it'),
  log: booleanFilter.describe('logarithmic y axis'),
});

/** One series' points as parallel arrays (what a plot library takes), oldest first. */
export const perfSeries = z.object({
  branch: z.string(),
  testbed: z.string(),
  benchmark: z.string(),
  measure: z.string(),
  units: z.string(),
  total_points: z.number().int().describe('points in the range before downsampling'),
  reports: z.array(z.number().int()).describe("each point's report, as an index into the answer's `reports`"),
  values: z.array(z.number()),
  lower_limits: z.array(z.number().nullable()).describe("each point's boundary (null: none)"),
  upper_limits: z.array(z.number().nullable()),
  alerts: z.array(z.object({ index: z.number().int(), uuid: z.uuid(), side: alertSide, status: alertStatus, limit: z.number() })).describe('points with an alert, by index'),
  change_points: z.array(z.object({ index: z.number().int(), uuid: z.uuid(), percent_change: z.number() })).describe('points where the series shifts, by index'),
});
export type PerfSeries = z.infer<typeof perfSeries>;

/** Plot data: the series, and once each the reports their points came from (series of one run share them). */
export const perfData = z.object({
  reports: z.object({
    uuids: z.array(z.uuid()),
    times: z.array(z.number()).describe('report start times, epoch milliseconds'),
    jobs: z.array(z.uuid().nullable()),
    versions: z.array(z.string().nullable()).describe("the image digest the report's job ran (null for local runs)"),
  }),
  series: z.array(perfSeries),
});
export type PerfData = z.infer<typeof perfData>;

export const reportListQuery = paginationQuery.extend({
  branch: resourceRef.optional().describe('only reports of this branch (slug)'),
  testbed: resourceRef.optional().describe('only reports of this testbed (slug)'),
});

export const reportListItem = z.object({
  uuid: z.uuid(),
  branch: z.string(),
  testbed: z.string(),
  adapter: z.string(),
  start_time: timestamp,
  job: z.uuid().nullable(),
  job_status: z.string().nullable(),
  metrics: z.number().int(),
  alerts: z.number().int().describe('alerts its metrics raised, whatever their status'),
  active_alerts: z.number().int(),
});
export type ReportListItem = z.infer<typeof reportListItem>;
