import type { FastifyReply } from 'fastify';
import type { Knex } from 'knex';
import { pageWindow, TOTAL_COUNT_HEADER, type Pagination } from '../common/schemas/pagination';
import { page, type SortOrder } from '../db/pagination';

/** One page of `query` (a db/ list query) and, in X-Total-Count, how many rows match across all pages. */
export async function paginate<T>(db: Knex, reply: FastifyReply, query: Knex.QueryBuilder, pagination: Pagination, orderBy: SortOrder): Promise<T[]> {
  const { rows, total } = await page<T>(db, query, pageWindow(pagination), orderBy);
  reply.header(TOTAL_COUNT_HEADER, total);
  return rows;
}
