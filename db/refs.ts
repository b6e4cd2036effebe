import type { Knex } from 'knex';

/** Every user-facing identifier is a UUID or a slug; these tell them apart and look either up. */
export const isUuid = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);

/** Looks a resource up by UUID or slug, whichever `ref` is. */
export function byRef<T extends object>(query: Knex.QueryBuilder<T>, ref: string): Knex.QueryBuilder<T> {
  return isUuid(ref) ? query.where('id', ref) : query.where('slug', ref);
}
