import type { Knex } from 'knex';

/** Every user-facing identifier is a UUID or a slug; these tell them apart and look either up. */
export const isUuid = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);

/**
 * Narrows `query` to the resource `ref` names: by id when it is a UUID, else by its slug (or
 * `name`, for benchmarks). `table` qualifies the columns in joined queries; an undefined `ref` is
 * no filter at all.
 */
export function byRef<Q extends Knex.QueryBuilder>(query: Q, ref: string | undefined, options: { table?: string; name?: string } = {}): Q {
  if (ref === undefined) return query;
  const column = (c: string) => (options.table ? `${options.table}.${c}` : c);
  return query.where(column(isUuid(ref) ? 'id' : (options.name ?? 'slug')), ref) as Q;
}

/** The slug of the organization, runner, spec, branch or testbed with this id, for views that name it. */
export async function slugById(db: Knex, table: 'organization' | 'runner' | 'spec' | 'branch' | 'testbed', id: string): Promise<string | undefined> {
  return (await db(table).where({ id }).first('slug'))?.slug;
}

/** Series filters by ref, as list endpoints take them; undefined ones do not filter. */
export interface SeriesRefs {
  branch?: string;
  testbed?: string;
  benchmark?: string;
  measure?: string;
}

/** Narrows a query that joins branch, testbed, benchmark and measure (as far as it filters them) to `refs`. */
export function bySeriesRefs<Q extends Knex.QueryBuilder>(query: Q, refs: SeriesRefs): Q {
  byRef(query, refs.branch, { table: 'branch' });
  byRef(query, refs.testbed, { table: 'testbed' });
  byRef(query, refs.benchmark, { table: 'benchmark', name: 'name' });
  return byRef(query, refs.measure, { table: 'measure' });
}
