import type { Knex } from 'knex';
import type { ThresholdTest } from '../results/thresholds';
import type { ThresholdModelRow, ThresholdRow } from './result-rows';
import { bySeriesRefs, type SeriesRefs } from './refs';

/**
 * Thresholds (branch + testbed + measure) and their models. A threshold points at its current
 * model; changing the model adds a new row and marks the old one replaced, so every boundary keeps
 * naming the model that computed it. Active alerts of a replaced model are silenced: they were
 * raised by rules the project no longer applies.
 */

export interface ModelInput {
  test: ThresholdTest;
  lower_boundary?: number | null;
  upper_boundary?: number | null;
  min_sample_size?: number | null;
  max_sample_size?: number | null;
  /** Seconds. */
  window?: number | null;
}

export interface CurrentThreshold {
  threshold: ThresholdRow;
  model: ThresholdModelRow;
}

function modelColumns(m: ModelInput) {
  return {
    test: m.test,
    lower_boundary: m.lower_boundary ?? null,
    upper_boundary: m.upper_boundary ?? null,
    min_sample_size: m.min_sample_size ?? null,
    max_sample_size: m.max_sample_size ?? null,
    window_seconds: m.window ?? null,
  };
}

function sameModel(row: ThresholdModelRow, m: ModelInput): boolean {
  const wanted = modelColumns(m);
  return (Object.keys(wanted) as (keyof typeof wanted)[]).every((k) => row[k] === wanted[k]);
}

/** The model a stored row describes, as results/thresholds evaluates it. */
export function modelOf(row: ThresholdModelRow): ModelInput {
  return {
    test: row.test,
    lower_boundary: row.lower_boundary,
    upper_boundary: row.upper_boundary,
    min_sample_size: row.min_sample_size,
    max_sample_size: row.max_sample_size,
    window: row.window_seconds,
  };
}

/** A project's measure by slug, created on first use (with the known name and units for its slug). */
/** Makes `model` the threshold's current model (no-op when it already is). Call inside a transaction. */
async function replaceModel(trx: Knex, threshold: ThresholdRow, model: ModelInput): Promise<CurrentThreshold> {
  const now = trx.fn.now() as unknown as Date;
  if (threshold.model_id) {
    await trx('threshold_model').where({ id: threshold.model_id }).update({ replaced_at: now });
    await trx('alert').where({ model_id: threshold.model_id, status: 'active' }).update({ status: 'silenced', modified_at: now });
  }
  const [row] = await trx<ThresholdModelRow>('threshold_model').insert({ threshold_id: threshold.id, ...modelColumns(model), created_at: now }).returning('*');
  const [updated] = await trx<ThresholdRow>('threshold').where({ id: threshold.id }).update({ model_id: row.id, modified_at: now }).returning('*');
  return { threshold: updated, model: row };
}

export interface ThresholdKey {
  projectId: string;
  branchId: string;
  testbedId: string;
  measureId: string;
}

/**
 * Creates the threshold for `key` or gives it `model`, keeping the current model when it is the
 * same (a CI run repeating its `--threshold-*` flags changes nothing). Safe under concurrent runs:
 * the threshold row is locked while its model changes.
 */
export async function setThreshold(trx: Knex, key: ThresholdKey, model: ModelInput): Promise<CurrentThreshold & { created: boolean; changed: boolean }> {
  const where = { branch_id: key.branchId, testbed_id: key.testbedId, measure_id: key.measureId };
  const inserted = await trx('threshold').insert({ project_id: key.projectId, ...where }).onConflict(['branch_id', 'testbed_id', 'measure_id']).ignore().returning('id');
  const threshold = (await trx<ThresholdRow>('threshold').where(where).forUpdate().first())!;
  const current = threshold.model_id ? await trx<ThresholdModelRow>('threshold_model').where({ id: threshold.model_id }).first() : undefined;
  if (current && sameModel(current, model)) return { threshold, model: current, created: false, changed: false };
  return { ...(await replaceModel(trx, threshold, model)), created: inserted.length > 0, changed: true };
}

/** The thresholds (with current models) that judge metrics of this branch + testbed, by measure id. */
export async function currentThresholds(db: Knex, branchId: string, testbedId: string): Promise<Map<string, CurrentThreshold>> {
  const thresholds = await db<ThresholdRow>('threshold').where({ branch_id: branchId, testbed_id: testbedId }).whereNotNull('model_id');
  const models = await modelsById(db, thresholds.map((t) => t.model_id));
  return new Map(thresholds.map((threshold) => [threshold.measure_id, { threshold, model: models.get(threshold.model_id!)! }]));
}

/** `--thresholds-reset`: drops this branch + testbed's thresholds for every measure not kept. */
export async function resetThresholds(trx: Knex, branchId: string, testbedId: string, keepMeasureIds: string[]): Promise<number> {
  return trx('threshold').where({ branch_id: branchId, testbed_id: testbedId }).whereNotIn('measure_id', keepMeasureIds).delete();
}

/** `--start-point-clone-thresholds`: the start point's thresholds this branch lacks, with the same models. */
export async function cloneThresholds(trx: Knex, projectId: string, fromBranchId: string, toBranchId: string): Promise<number> {
  const source = await trx('threshold')
    .join('threshold_model', 'threshold_model.id', 'threshold.model_id')
    .where('threshold.branch_id', fromBranchId)
    .select('threshold.testbed_id', 'threshold.measure_id', 'threshold_model.*');
  let cloned = 0;
  for (const row of source as (ThresholdModelRow & { testbed_id: string; measure_id: string })[]) {
    const key = { projectId, branchId: toBranchId, testbedId: row.testbed_id, measureId: row.measure_id };
    if (await thresholdIdFor(trx, toBranchId, row.testbed_id, row.measure_id)) continue;
    await setThreshold(trx, key, modelOf(row));
    cloned++;
  }
  return cloned;
}

/** The id of the threshold of this branch + testbed + measure, if there is one. */
export async function thresholdIdFor(db: Knex, branchId: string, testbedId: string, measureId: string): Promise<string | undefined> {
  return (await db('threshold').where({ branch_id: branchId, testbed_id: testbedId, measure_id: measureId }).first('id'))?.id;
}

/** A project's thresholds with branch, testbed and measure slugs, narrowed by `refs`; sort and paginate it. */
export function thresholdsQuery(db: Knex, projectId: string, refs: Omit<SeriesRefs, 'benchmark'> = {}): Knex.QueryBuilder {
  const query = db('threshold')
    .join('branch', 'branch.id', 'threshold.branch_id')
    .join('testbed', 'testbed.id', 'threshold.testbed_id')
    .join('measure', 'measure.id', 'threshold.measure_id')
    .where('threshold.project_id', projectId)
    .select('threshold.*', 'branch.slug as branch_slug', 'testbed.slug as testbed_slug', 'measure.slug as measure_slug');
  return bySeriesRefs(query, refs);
}

export type ThresholdListRow = ThresholdRow & { branch_slug: string; testbed_slug: string; measure_slug: string };

export function findThreshold(db: Knex, projectId: string, thresholdId: string): Promise<ThresholdListRow | undefined> {
  return thresholdsQuery(db, projectId).where('threshold.id', thresholdId).first();
}

/** A project's threshold, locked for update until the transaction ends. */
export function lockThreshold(trx: Knex.Transaction, projectId: string, thresholdId: string): Promise<ThresholdRow | undefined> {
  return trx<ThresholdRow>('threshold').where({ id: thresholdId, project_id: projectId }).forUpdate().first();
}

/** Deletes a project's threshold (its models, boundaries and alerts go with it); false when there was none. */
export async function deleteThreshold(db: Knex, projectId: string, thresholdId: string): Promise<boolean> {
  return (await db('threshold').where({ id: thresholdId, project_id: projectId }).delete()) > 0;
}

/** Every model a threshold has had, newest first; models made in one transaction share its time, and the current one comes first among them. */
export function thresholdModels(db: Knex, thresholdId: string): Promise<ThresholdModelRow[]> {
  return db<ThresholdModelRow>('threshold_model')
    .where({ threshold_id: thresholdId })
    .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'replaced_at', order: 'desc', nulls: 'first' }, { column: 'id' }]);
}

export async function modelsById(db: Knex, ids: (string | null)[]): Promise<Map<string, ThresholdModelRow>> {
  const wanted = [...new Set(ids.filter((id): id is string => id !== null))];
  if (wanted.length === 0) return new Map();
  const rows = await db<ThresholdModelRow>('threshold_model').whereIn('id', wanted);
  return new Map(rows.map((r) => [r.id, r]));
}
