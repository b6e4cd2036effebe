import type { Knex } from 'knex';
import { runnerTaskQueue } from '../common/contracts';
import { byRef } from './refs';
import type { SpecRow, TestbedRow } from './rows';

export function getSpec(db: Knex, specId: string): Promise<SpecRow | undefined> {
  return db<SpecRow>('spec').where({ id: specId }).first();
}

export async function findSpec(db: Knex, ref: string): Promise<SpecRow | undefined> {
  return byRef(db<SpecRow>('spec'), ref).first();
}

/** Specs, all of them or only the archived (true) or unarchived (false) ones; sort and paginate it. */
export function specsQuery(db: Knex, archived: boolean | undefined): Knex.QueryBuilder {
  return db('spec').modify((q) => (archived === undefined ? q : archived ? q.whereNotNull('archived_at') : q.whereNull('archived_at')));
}

export class SpecResolutionError extends Error {}

/**
 * The spec a job runs on: the explicit one, else the testbed's current spec, else the server's
 * default. Archived specs are refused, naming the spec; whether a runner takes it is jobRoute's.
 */
export async function resolveSpec(db: Knex, explicit: string | undefined, testbed: Pick<TestbedRow, 'spec_id'> | undefined): Promise<SpecRow> {
  let spec: SpecRow | undefined;
  if (explicit !== undefined) {
    spec = await findSpec(db, explicit);
    if (!spec) throw new SpecResolutionError(`spec "${explicit}" does not exist`);
  } else if (testbed?.spec_id) {
    spec = await getSpec(db, testbed.spec_id);
  }
  spec ??= await db<SpecRow>('spec').where({ is_default: true }).first();
  if (!spec) throw new SpecResolutionError('no spec given, the testbed has none and no default spec is configured');
  if (spec.archived_at) throw new SpecResolutionError(`spec "${spec.slug}" is archived`);
  return spec;
}

/**
 * The runner task queue a job of `organization` on `spec` goes to, or undefined when no runner
 * may take it. Eligible runners are active (not archived), not locked, and either shared or the
 * organization's own; the organization's dedicated queue is chosen only when one of its own is
 * eligible, so the job never waits on a queue that only locked or archived runners would poll.
 * One query decides both, so what is accepted and where it is sent cannot disagree.
 */
export async function jobRoute(db: Knex, spec: Pick<SpecRow, 'id' | 'slug'>, organization: { id: string; slug: string } | undefined): Promise<string | undefined> {
  const pools: { dedicated: boolean }[] = await db('runner')
    .join('runner_spec', 'runner_spec.runner_id', 'runner.id')
    .where('runner_spec.spec_id', spec.id)
    .whereNull('runner.archived_at')
    .whereNull('runner.locked_at')
    .where((q) => (organization ? q.whereNull('runner.organization_id').orWhere('runner.organization_id', organization.id) : q.whereNull('runner.organization_id')))
    .distinct(db.raw('runner.organization_id is not null as dedicated'));
  if (pools.length === 0) return undefined;
  return runnerTaskQueue(spec.slug, pools.some((p) => p.dedicated) ? organization!.slug : undefined);
}
