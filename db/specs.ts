import type { Knex } from 'knex';
import { byRef } from './refs';
import type { SpecRow, TestbedRow } from './rows';



export async function findSpec(db: Knex, ref: string): Promise<SpecRow | undefined> {
  return byRef(db<SpecRow>('spec'), ref).first();
}

export class SpecResolutionError extends Error {}

/**
 * The spec a job runs on: the explicit one, else the testbed's current spec, else the server's
 * default. Archived specs and specs no active runner serves are refused, naming the spec.
 */
export async function resolveSpec(db: Knex, explicit: string | undefined, testbed: Pick<TestbedRow, 'spec_id'> | undefined): Promise<SpecRow> {
  let spec: SpecRow | undefined;
  if (explicit !== undefined) {
    spec = await findSpec(db, explicit);
    if (!spec) throw new SpecResolutionError(`spec "${explicit}" does not exist`);
  } else if (testbed?.spec_id) {
    spec = await db<SpecRow>('spec').where({ id: testbed.spec_id }).first();
  }
  spec ??= await db<SpecRow>('spec').where({ is_default: true }).first();
  if (!spec) throw new SpecResolutionError('no spec given, the testbed has none and no default spec is configured');
  if (spec.archived_at) throw new SpecResolutionError(`spec "${spec.slug}" is archived`);
  const served = await db('runner_spec')
    .join('runner', 'runner.id', 'runner_spec.runner_id')
    .where({ 'runner_spec.spec_id': spec.id })
    .whereNull('runner.archived_at')
    .first('runner.id');
  if (!served) throw new SpecResolutionError(`no runner serves spec "${spec.slug}"`);
  return spec;
}
