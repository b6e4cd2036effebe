import type { Knex } from 'knex';
import type { BranchRow, SpecRow, TestbedRow } from './rows';
import { byRef } from './refs';

export type ProjectChild = 'branch' | 'testbed';
/** A branch or testbed row as listed: a testbed carries its current spec's slug. */
export type ChildRow = (BranchRow | TestbedRow) & { created_at: Date; spec_slug?: string | null };

/** A project's branches or testbeds, columns qualified so a ref filter or sort can be added. */
export function projectChildQuery(db: Knex, table: ProjectChild, projectId: string): Knex.QueryBuilder {
  const query = db(table).where(`${table}.project_id`, projectId);
  return table === 'testbed' ? query.leftJoin('spec', 'spec.id', 'testbed.spec_id').select('testbed.*', 'spec.slug as spec_slug') : query.select('branch.*');
}

/** One branch or testbed of a project, by UUID or slug. */
export function findProjectChild(db: Knex, table: ProjectChild, projectId: string, ref: string): Promise<ChildRow | undefined> {
  return byRef(projectChildQuery(db, table, projectId), ref, { table }).first();
}

/** A new branch or testbed of a project; returns its id. */
export async function insertProjectChild(db: Knex, table: ProjectChild, projectId: string, fields: Record<string, unknown>): Promise<string> {
  const [{ id }] = await db(table).insert({ ...fields, project_id: projectId }).returning('id');
  return id;
}

export async function updateProjectChild(db: Knex, table: ProjectChild, id: string, fields: Record<string, unknown>): Promise<void> {
  await db(table).where({ id }).update(fields);
}

/**
 * Inserts a spec (no `id`) or updates one; `makeDefault` moves the server default to it in the same
 * transaction, so readers never see zero or two defaults.
 */
export function writeSpec(db: Knex, id: string | undefined, fields: Partial<SpecRow>, makeDefault: boolean): Promise<SpecRow | undefined> {
  return db.transaction(async (trx) => {
    if (makeDefault) {
      // Serialise default moves: two concurrent ones would otherwise both clear the old default and
      // then collide on spec_one_default (the unique index is checked row by row, not at commit).
      await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', ['benchline.spec.default']);
      await trx('spec').where({ is_default: true }).modify((q) => (id ? q.whereNot({ id }) : q)).update({ is_default: false });
    }
    const values = makeDefault ? { ...fields, is_default: true } : fields;
    if (!id) return (await trx<SpecRow>('spec').insert(values).returning('*'))[0];
    const spec = trx<SpecRow>('spec').where({ id });
    return Object.keys(values).length ? (await spec.update(values).returning('*'))[0] : spec.first();
  });
}
