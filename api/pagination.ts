import type { FastifyReply } from 'fastify';
import type { Knex } from 'knex';
import { pageWindow, TOTAL_COUNT_HEADER, type Pagination } from '../common/schemas/pagination';

export type SortOrder = Array<{ column: string; order?: 'asc' | 'desc' }>;

/**
 * One page of `query` and, in X-Total-Count, how many rows match across all pages. `orderBy` must
 * end in a unique column: without a total order, rows can repeat or vanish between pages.
 */
export async function paginate<T>(db: Knex, reply: FastifyReply, query: Knex.QueryBuilder, pagination: Pagination, orderBy: SortOrder): Promise<T[]> {
  const { limit, offset } = pageWindow(pagination);
  const [rows, counted] = await Promise.all([
    query.clone().orderBy(orderBy).limit(limit).offset(offset),
    // Counting over the query as a subquery stays right whatever it joins or selects.
    db.from(query.clone().clearOrder().as('listed')).count<{ count: string }[]>({ count: '*' }),
  ]);
  reply.header(TOTAL_COUNT_HEADER, Number(counted[0].count));
  return rows as T[];
}
