import type { Knex } from 'knex';

export type SortOrder = Array<{ column: string; order?: 'asc' | 'desc' }>;

/**
 * One page of `query` and how many rows match across all pages. `orderBy` must end in a unique
 * column: without a total order, rows can repeat or vanish between pages.
 */
export async function page<T>(db: Knex, query: Knex.QueryBuilder, window: { limit: number; offset: number }, orderBy: SortOrder): Promise<{ rows: T[]; total: number }> {
  const [rows, counted] = await Promise.all([
    query.clone().orderBy(orderBy).limit(window.limit).offset(window.offset),
    // Counting over the query as a subquery stays right whatever it joins or selects.
    db.from(query.clone().clearOrder().as('listed')).count<{ count: string }[]>({ count: '*' }),
  ]);
  return { rows: rows as T[], total: Number(counted[0].count) };
}
