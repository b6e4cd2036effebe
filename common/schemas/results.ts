import { z } from 'zod';
import { ADAPTER_NAMES } from '../../results/adapters';
import { FOLDS } from '../../results/fold';
import { THRESHOLD_TESTS, ThresholdModelError, validateThresholdModel, type ThresholdModel } from '../../results/thresholds';
import { resourceRef, slug, timestamp } from './fields';
import { booleanFilter, paginationQuery } from './pagination';

/**
 * Results: run options that shape how output becomes metrics, thresholds and their models,
 * boundaries, alerts, change points and metric history. A leaf module beside ./index.
 */

/** Newest metrics of one series read as history: the cap on sample sizes and on change-point input. */
export const MAX_HISTORY = 1000;
const TEN_YEARS_SECONDS = 10 * 366 * 24 * 3600;

export const average = z.enum(['mean', 'median']).describe('which average to take where the harness reports several');
export const fold = z
  .enum(FOLDS)
  .describe(
    'how several iterations become one value (default mean). A job\'s output holds several iterations when it collected several output files ' +
      '(one per iteration), or its stdout is several whole JSON documents, or stdout lines read `--- benchline iteration ---` between iterations; ' +
      'a local run submits one `results` entry per iteration',
  );
export const thresholdTest = z.enum(THRESHOLD_TESTS);
export const alertStatus = z.enum(['active', 'dismissed', 'silenced']);
export const alertSide = z.enum(['lower', 'upper']);
/** A measure slug as benchmark output names it (BMF allows any key up to 64 characters). */
export const measureRef = z.string().min(1).max(64);
/** A benchmark name (up to 1024 characters, any text) or UUID. */
export const benchmarkRef = z.string().min(1).max(1024);

const modelShape = {
  test: thresholdTest,
  lower_boundary: z.number().finite().nullable().optional().describe('the lower boundary; what it means depends on the test'),
  upper_boundary: z.number().finite().nullable().optional().describe('the upper boundary; what it means depends on the test'),
  min_sample_size: z.number().int().min(1).max(MAX_HISTORY).nullable().optional().describe('below this many historical metrics the test is skipped'),
  max_sample_size: z.number().int().min(1).max(MAX_HISTORY).nullable().optional().describe('only the newest this many historical metrics are used'),
  window: z.number().int().min(1).max(TEN_YEARS_SECONDS).nullable().optional().describe('only metrics of the last this many seconds are used'),
};

/** Which field validateThresholdModel's message is about; null: the model as a whole. */
const MODEL_FIELDS: Array<[RegExp, string | null]> = [
  [/needs a lower boundary, an upper boundary or both/, null],
  [/lower boundary/, 'lower_boundary'],
  [/upper boundary must/, 'upper_boundary'],
  [/min sample size/, 'min_sample_size'],
  [/max sample size/, 'max_sample_size'],
];

/** Bencher's rules for a model (boundary domains per test, sample sizes), as zod issues naming the field. */
function checkModel(model: ThresholdModel, ctx: z.RefinementCtx): void {
  try {
    validateThresholdModel(model);
  } catch (err) {
    if (!(err instanceof ThresholdModelError)) throw err;
    const field = MODEL_FIELDS.find(([pattern]) => pattern.test(err.message))?.[1] ?? null;
    ctx.addIssue({ code: 'custom', message: err.message, path: field ? [field] : [] });
  }
}

export const thresholdModelBody = z.strictObject(modelShape).superRefine(checkModel);
export type ThresholdModelBody = z.infer<typeof thresholdModelBody>;

/** A threshold given on a run: for the run's branch + testbed and this measure. */
export const runThreshold = z.strictObject({ measure: measureRef, ...modelShape }).superRefine(checkModel);
export type RunThreshold = z.infer<typeof runThreshold>;

const runThresholds = z
  .array(runThreshold)
  .max(64)
  .superRefine((thresholds, ctx) => {
    const seen = new Set<string>();
    thresholds.forEach((t, i) => {
      if (seen.has(t.measure)) ctx.addIssue({ code: 'custom', message: `measure "${t.measure}" is given twice`, path: [i, 'measure'] });
      seen.add(t.measure);
    });
  });

/** What every report takes, from a job (POST /v0/run) or from a local run (POST …/reports). */
export const resultsOptionsShape = {
  average: average.optional(),
  fold: fold.optional(),
  thresholds: runThresholds.optional().describe("thresholds for the run's branch + testbed, created or updated before the results are judged"),
  thresholds_reset: z.boolean().optional().describe("remove the branch + testbed's thresholds for measures not given in `thresholds`"),
  start_point: resourceRef.optional().describe('branch (slug or UUID) this branch starts from: its history before the start counts as this branch\'s'),
  start_point_clone_thresholds: z.boolean().optional().describe("copy the start point's thresholds this branch does not have"),
  start_point_reset: z.boolean().optional().describe("restart the branch: its own earlier metrics no longer count as history, and it starts from the start point's latest"),
};

/** Options only a job takes: which of its output files are measured rather than parsed, and its duration. */
export const jobResultsOptionsShape = {
  file_size: z.array(z.string().min(1).max(4096)).max(255).optional().describe('output files whose sizes become the `file-size` measure (collected, not parsed)'),
  build_time: z.boolean().optional().describe("record the job's command duration as the `build-time` measure"),
};

export const reportIteration = z.strictObject({
  stdout: z.string().default(''),
  files: z.record(z.string().min(1).max(4096), z.string()).default({}).describe('output files: path → contents'),
  build_time: z.number().finite().min(0).optional().describe("seconds this iteration's command took (the `build-time` measure)"),
});

/** A local run's results: each entry one iteration's stdout (or stdout with output files), parsed by the server. */
export const newReport = z.strictObject({
  branch: slug,
  testbed: slug,
  adapter: z.enum(ADAPTER_NAMES).default('magic'),
  ...resultsOptionsShape,
  results: z.array(z.union([z.string(), reportIteration])).min(1).max(100).describe('one entry per iteration: its stdout, or stdout and output files'),
  file_sizes: z.record(z.string().min(1).max(4096), z.number().int().min(0)).optional().describe('path → bytes: the `file-size` measure'),
  command: z.string().max(4096).optional().describe('the command that ran; names the `build-time` benchmark'),
  start_time: z.iso.datetime({ offset: true }).optional(),
  end_time: z.iso.datetime({ offset: true }).optional(),
});
export type NewReport = z.infer<typeof newReport>;
/** What a client sends (defaults not yet applied). */
export type NewReportInput = z.input<typeof newReport>;

// --- Views -----------------------------------------------------------------------------------------

export const thresholdModelView = z.object({
  uuid: z.uuid(),
  test: thresholdTest,
  lower_boundary: z.number().nullable(),
  upper_boundary: z.number().nullable(),
  min_sample_size: z.number().nullable(),
  max_sample_size: z.number().nullable(),
  window: z.number().nullable().describe('seconds'),
  created: timestamp,
  replaced: timestamp.nullable().describe('when a newer model took over; null for the current one'),
});
export type ThresholdModelView = z.infer<typeof thresholdModelView>;

export const thresholdView = z.object({
  uuid: z.uuid(),
  project: z.string(),
  branch: z.string(),
  testbed: z.string(),
  measure: z.string(),
  model: thresholdModelView.nullable(),
  created: timestamp,
  modified: timestamp,
});
export type ThresholdView = z.infer<typeof thresholdView>;
export const thresholdDetail = thresholdView.extend({ models: z.array(thresholdModelView).describe('every model, newest first') });

export const newThreshold = z
  .strictObject({ branch: resourceRef, testbed: resourceRef, measure: measureRef, ...modelShape })
  .superRefine(checkModel);

export const thresholdListQuery = paginationQuery.extend({
  branch: resourceRef.optional(),
  testbed: resourceRef.optional(),
  measure: measureRef.optional(),
});

export const boundaryView = z.object({
  threshold: z.uuid(),
  model: thresholdModelView,
  baseline: z.number().nullable().describe("the model's centre (mean, median…); null for static"),
  lower_limit: z.number().nullable(),
  upper_limit: z.number().nullable(),
  skipped: z.string().nullable().describe('why no limits were computed (too few samples, no variance)'),
});
export type BoundaryView = z.infer<typeof boundaryView>;

export const alertSummary = z.object({
  uuid: z.uuid(),
  side: alertSide,
  status: alertStatus,
  limit: z.number(),
  value: z.number(),
});
export type AlertSummary = z.infer<typeof alertSummary>;

/** What the report view adds to each metric. */
export const judgedMetricShape = {
  uuid: z.uuid(),
  previous_value: z.number().nullable().describe("the series' value before this one"),
  baseline: z.number().nullable().describe("what change_percent compares with: the boundary's centre when a threshold model has one, else previous_value"),
  baseline_source: z.enum(['threshold', 'previous']).nullable(),
  change_percent: z.number().nullable(),
  boundary: boundaryView.nullable().describe('null: no threshold for this branch + testbed + measure'),
  alerts: z.array(alertSummary),
};

export const alertView = z.object({
  uuid: z.uuid(),
  project: z.string(),
  status: alertStatus,
  side: alertSide,
  limit: z.number(),
  value: z.number(),
  benchmark: z.string(),
  measure: z.string(),
  units: z.string(),
  branch: z.string(),
  testbed: z.string(),
  report: z.uuid(),
  metric: z.uuid(),
  threshold: z.uuid(),
  model: thresholdModelView,
  baseline: z.number().nullable(),
  created: timestamp,
  modified: timestamp,
});
export type AlertView = z.infer<typeof alertView>;

export const alertUpdate = z.strictObject({ status: alertStatus });

export const alertListQuery = paginationQuery.extend({
  status: z.union([alertStatus, z.array(alertStatus)]).optional().describe('only alerts in this status (repeatable)'),
  branch: resourceRef.optional(),
  testbed: resourceRef.optional(),
  benchmark: benchmarkRef.optional(),
  measure: measureRef.optional(),
  report: z.uuid().optional(),
});

export const changePointView = z.object({
  uuid: z.uuid(),
  branch: z.string(),
  testbed: z.string(),
  benchmark: z.string(),
  measure: z.string(),
  metric: z.uuid().describe('the first metric after the change'),
  report: z.uuid(),
  start_time: timestamp.describe("the first metric's report time"),
  series_index: z.number(),
  mean_before: z.number(),
  mean_after: z.number(),
  stddev_before: z.number(),
  stddev_after: z.number(),
  percent_change: z.number(),
  pvalue: z.number().describe("the t-test's two-sided p-value times the number of splits this one was chosen from (Bonferroni)"),
  created: timestamp,
  modified: timestamp,
});
export type ChangePointView = z.infer<typeof changePointView>;

export const changePointListQuery = paginationQuery.extend({
  branch: resourceRef.optional(),
  testbed: resourceRef.optional(),
  benchmark: benchmarkRef.optional(),
  measure: measureRef.optional(),
});

/** One series: a benchmark's measure on one branch and testbed. */
export const metricHistoryQuery = paginationQuery.extend({
  benchmark: benchmarkRef.describe('benchmark name or UUID'),
  measure: measureRef.describe('measure slug or UUID'),
  branch: resourceRef,
  testbed: resourceRef,
  start_time: z.iso.datetime({ offset: true }).optional().describe('only metrics of reports at or after this time'),
  end_time: z.iso.datetime({ offset: true }).optional().describe('only metrics of reports before this time'),
  start_point: booleanFilter.describe("include the start point branch's metrics before the fork (default true)"),
});

export const metricPoint = z.object({
  metric: z.uuid(),
  report: z.uuid(),
  job: z.uuid().nullable(),
  branch: z.string().describe('the branch the metric was measured on (the start point branch for history before the fork)'),
  start_time: timestamp,
  value: z.number(),
  lower_value: z.number().nullable(),
  upper_value: z.number().nullable(),
  boundary: boundaryView.omit({ model: true }).extend({ model: z.uuid() }).nullable(),
  alert: alertSummary.nullable(),
  change_point: z.object({ uuid: z.uuid(), percent_change: z.number(), pvalue: z.number() }).nullable().describe('set when the series shifts at this metric'),
});
export type MetricPoint = z.infer<typeof metricPoint>;

export const benchmarkView = z.object({ uuid: z.uuid(), name: z.string(), created: timestamp });
export const measureView = z.object({ uuid: z.uuid(), slug: z.string(), name: z.string(), units: z.string() });
